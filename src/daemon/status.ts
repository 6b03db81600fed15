import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import { writeFileSafely } from './safe-write.js';

/** Name of the status file inside the state directory. */
export const STATUS_FILE = 'status.json';

export interface LineStatus {
  name: string;
  device: string;
  /** The session state tag (idle, answering, login, dialing, ppp, ...). */
  state: string;
  /** ISO time the line entered this state. */
  since: string;
  callId?: string;
  callerId?: string;
  /** Last problem seen on the line (device gone, modem silent); cleared by the next call. */
  lastError?: string;
  /** Only over the control socket: a nologin file exists; the operator disabled the line. */
  nologin?: boolean;
  disabled?: boolean;
}

/** What `callbackd status` reads. Written whole on every change, so readers never see half. */
export interface StatusSnapshot {
  pid: number;
  startedAt: string;
  configSource: string;
  updatedAt: string;
  lines: LineStatus[];
}

export function statusPath(stateDir: string): string {
  return path.join(stateDir, STATUS_FILE);
}

export interface StatusFileOptions {
  configSource: string;
  log: Logger;
  /** Lines known at start; the supervisor replaces them with update(). */
  lines?: ReadonlyArray<LineStatus>;
  pid?: number;
  now?: () => Date;
}

/**
 * Mirrors the daemon's view of its lines to <stateDir>/status.json for
 * `callbackd status`. The supervisor owns the line states and hands over the whole
 * list on every change. Each write goes to a temporary file renamed over the old
 * one (atomic on one filesystem), in a directory only the daemon's user can write. Updates while a write is in flight are coalesced
 * into one more write, so a burst of state changes costs at most two writes and the
 * file always ends with the latest state. Errors are logged once per streak and
 * never thrown: a full /run must not stop calls.
 */
export class StatusFile {
  readonly file: string;
  private readonly snapshot: StatusSnapshot;
  private readonly log: Logger;
  private readonly now: () => Date;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private failing = false;

  constructor(
    readonly stateDir: string,
    opts: StatusFileOptions,
  ) {
    this.file = statusPath(stateDir);
    this.log = opts.log;
    this.now = opts.now ?? (() => new Date());
    const at = this.now().toISOString();
    this.snapshot = {
      pid: opts.pid ?? process.pid,
      startedAt: at,
      configSource: opts.configSource,
      updatedAt: at,
      lines: (opts.lines ?? []).map((l) => ({ ...l })),
    };
  }

  /** A copy of the current view. */
  current(): StatusSnapshot {
    return structuredClone(this.snapshot);
  }

  /** Replaces the line list (copied: the caller may keep mutating its objects). */
  update(lines: ReadonlyArray<LineStatus>): Promise<void> {
    this.snapshot.lines = lines.map((l) => withoutUndefined(l));
    return this.schedule();
  }

  /** After a reload from another file. */
  setConfigSource(source: string): Promise<void> {
    this.snapshot.configSource = source;
    return this.schedule();
  }

  /** Writes now (or waits for the write in flight plus one more). */
  flush(): Promise<void> {
    return this.schedule();
  }

  /** On clean shutdown: no file means "not running" to `callbackd status`. */
  async remove(): Promise<void> {
    await this.writing;
    await fsp.rm(this.file, { force: true }).catch((err: Error) => {
      this.log.warn({ file: this.file, err: err.message }, 'cannot remove status file');
    });
  }

  private schedule(): Promise<void> {
    this.dirty = true;
    if (!this.writing) {
      this.writing = this.drain().finally(() => {
        this.writing = undefined;
      });
    }
    return this.writing;
  }

  private async drain(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      this.snapshot.updatedAt = this.now().toISOString();
      await this.writeOnce(JSON.stringify(this.snapshot, null, 2) + '\n');
    }
  }

  private async writeOnce(text: string): Promise<void> {
    try {
      // A fresh O_EXCL temp name in a directory only we can write, renamed over the
      // file: never written through a symlink (safe-write.ts).
      writeFileSafely(this.file, text, 0o644);
      if (this.failing) this.log.info({ file: this.file }, 'status file writable again');
      this.failing = false;
    } catch (err) {
      if (!this.failing)
        this.log.error({ file: this.file, err: (err as Error).message }, 'cannot write status file');
      this.failing = true;
    }
  }
}

/** kill(pid, 0): EPERM still means the process exists (someone else's). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type StatusRead =
  { kind: 'missing' } | { kind: 'invalid'; reason: string } | { kind: 'ok'; status: StatusSnapshot };

/** Reads and checks the status file; never throws for a missing or damaged file. */
export async function readStatus(stateDir: string): Promise<StatusRead> {
  let text: string;
  try {
    text = await fsp.readFile(statusPath(stateDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'invalid', reason: (err as Error).message };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { kind: 'invalid', reason: `not JSON: ${(err as Error).message}` };
  }
  const problem = checkSnapshot(data);
  return problem ? { kind: 'invalid', reason: problem } : { kind: 'ok', status: data as StatusSnapshot };
}

/** JSON.stringify drops undefined anyway; this keeps current() equal to the file. */
function withoutUndefined(l: LineStatus): LineStatus {
  return Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined)) as unknown as LineStatus;
}

function checkSnapshot(d: unknown): string | undefined {
  if (typeof d !== 'object' || d === null) return 'not an object';
  const s = d as Record<string, unknown>;
  if (typeof s.pid !== 'number') return 'pid missing';
  if (typeof s.startedAt !== 'string') return 'startedAt missing';
  if (!Array.isArray(s.lines)) return 'lines missing';
  for (const l of s.lines as unknown[]) {
    const line = l as Record<string, unknown>;
    if (typeof line?.name !== 'string' || typeof line.state !== 'string' || typeof line.since !== 'string') {
      return 'a line lacks name, state or since';
    }
  }
  return undefined;
}
