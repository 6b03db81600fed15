import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import { writeFileSafelyAsync } from './safe-write.js';

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

/** What `callbackd status` reads. Written whole (coalesced changes), so readers never see half. */
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
  /** Wait after a change before writing (default STATUS_DEBOUNCE_MS). */
  debounceMs?: number;
}

/** How long a state change waits for more before the file is rewritten. */
export const STATUS_DEBOUNCE_MS = 200;

/**
 * Mirrors the daemon's view of its lines to <stateDir>/status.json for
 * `callbackd status`. The supervisor owns the line states and hands over the whole
 * list on every change. Each write goes to a temporary file renamed over the old
 * one (atomic on one filesystem), in a directory only the daemon's user can write.
 *
 * Writes are coalesced: a change arms one timer (debounceMs) and every change until it
 * fires rides on that one write, so 128 lines changing state many times a second cost
 * at most one write per debounce interval (rewriting the whole file on every change
 * took 15% of the daemon's time at 128 lines, docs/benchmarks.md). flush() writes at
 * once; the daemon flushes on stop. Errors are logged once per streak and never
 * thrown: a full /run must not stop calls.
 */
export class StatusFile {
  readonly file: string;
  private readonly snapshot: StatusSnapshot;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly debounceMs: number;
  private timer: NodeJS.Timeout | undefined;
  /** The write the changes since the last one will land in, with its resolver. */
  private pending: { promise: Promise<void>; resolve: () => void } | undefined;
  private failing = false;
  /** The write on its way (one at a time, in order); remove() waits for it. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly stateDir: string,
    opts: StatusFileOptions,
  ) {
    this.file = statusPath(stateDir);
    this.log = opts.log;
    this.now = opts.now ?? (() => new Date());
    this.debounceMs = opts.debounceMs ?? STATUS_DEBOUNCE_MS;
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
    const s = structuredClone(this.snapshot);
    s.lines = s.lines.map(withoutUndefined);
    return s;
  }

  /**
   * Replaces the line list (copied: the caller may keep mutating its objects). Resolves
   * once the file holds it (after the debounce).
   */
  update(lines: ReadonlyArray<LineStatus>): Promise<void> {
    this.snapshot.lines = lines.map((l) => ({ ...l }));
    return this.schedule();
  }

  /** After a reload from another file. */
  setConfigSource(source: string): Promise<void> {
    this.snapshot.configSource = source;
    return this.schedule();
  }

  /** Writes now, whatever is pending. */
  flush(): Promise<void> {
    this.schedule();
    return this.fire();
  }

  /** On clean shutdown: no file means "not running" to `callbackd status`. */
  async remove(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const p = this.pending;
    this.pending = undefined;
    p?.resolve();
    // A write still on its way would bring the file back after the rm.
    await this.writing;
    await fsp.rm(this.file, { force: true }).catch((err: Error) => {
      this.log.warn({ file: this.file, err: err.message }, 'cannot remove status file');
    });
  }

  private schedule(): Promise<void> {
    if (!this.pending) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.pending = { promise, resolve };
    }
    if (!this.timer) {
      this.timer = setTimeout(() => void this.fire(), this.debounceMs);
      // A pending write never keeps the process alive: stop flushes.
      this.timer.unref();
    }
    return this.pending.promise;
  }

  private fire(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const p = this.pending;
    this.pending = undefined;
    if (!p) return this.writing;
    this.snapshot.updatedAt = this.now().toISOString();
    // JSON drops undefined fields: the file equals current().
    const text = JSON.stringify(this.snapshot, null, 2) + '\n';
    // Off the event loop (the rename waited 3-4 ms on ext4 each time at 128 lines), one
    // write after the other, so the file ends with the latest text.
    this.writing = this.writing.then(() => this.writeOnce(text));
    void this.writing.then(p.resolve);
    return p.promise;
  }

  private async writeOnce(text: string): Promise<void> {
    try {
      // A fresh O_EXCL temp name in a directory only we can write, renamed over the
      // file: never written through a symlink (safe-write.ts). No fsync: the file is a
      // view of the daemon's memory, rewritten at start; fsync was 1.5 s of 55 s at 128 lines.
      await writeFileSafelyAsync(this.file, text, 0o644, { fsync: false });
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
