import { randomBytes } from 'node:crypto';
import { promises as fsp, unlinkSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CallbackdError, errnoCode } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * UUCP lock files, HDB style, as mgetty, cu, minicom and pppd use them: the file
 * LCK..<device base name> in the lock directory holds the owner's PID as `%10d\n`.
 * Creation is atomic (write a temp file, then link() it into place), so two programs
 * racing for the line cannot both win.
 */

export type AcquireResult = { ok: true } | { ok: false; heldBy: number };

/** Locks this process holds or handed over, removed by releaseAllSync() at exit. */
const held = new Set<UucpLock>();

export function formatLockPid(pid: number): string {
  return `${String(pid).padStart(10, ' ')}\n`;
}

/**
 * The PID in a lock file: ASCII (HDB) or the old 4-byte binary form.
 * undefined when the content is neither (garbage, empty).
 */
export function parseLockPid(content: Buffer): number | undefined {
  const text = content.toString('latin1');
  const m = /^\s*(\d{1,10})\s*$/.exec(text);
  if (m) {
    const pid = Number(m[1]);
    return pid > 0 ? pid : undefined;
  }
  if (content.length === 4) {
    const pid = content.readInt32LE(0);
    return pid > 0 ? pid : undefined;
  }
  return undefined;
}

/** True when a process with this PID exists (EPERM: exists, but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

export class UucpLock {
  readonly path: string;
  private readonly dir: string;
  private readonly log: Logger | undefined;
  private readonly pid: number;
  /** The PID the lock was handed to (pppd), until reclaim(). */
  private handedTo: number | undefined;

  constructor(device: string, opts: { dir: string; log?: Logger; pid?: number }) {
    this.dir = opts.dir;
    this.log = opts.log;
    this.pid = opts.pid ?? process.pid;
    this.path = join(opts.dir, `LCK..${basename(device)}`);
  }

  /** Takes the lock, clearing a stale one; a live owner is reported, not waited for. */
  async acquire(): Promise<AcquireResult> {
    // A few rounds only: each round either wins, finds a live owner, or removes one
    // stale file; more than that means another program is fighting over the same lock.
    for (let round = 0; round < 3; round++) {
      if (await this.tryLink(this.pid)) {
        this.handedTo = undefined;
        held.add(this);
        return { ok: true };
      }
      const owner = await this.readOwner();
      if (owner === 'missing') continue;
      if (owner === this.pid) {
        held.add(this);
        return { ok: true };
      }
      if (owner !== undefined && pidAlive(owner)) return { ok: false, heldBy: owner };
      this.log?.warn(
        { event: 'stale-lock', path: this.path, pid: owner ?? 'unreadable' },
        'removing stale lock',
      );
      await fsp.unlink(this.path).catch((e) => {
        if (errnoCode(e) !== 'ENOENT') throw this.failed('remove stale', e);
      });
    }
    throw new CallbackdError('LOCK_FAILED', `could not take ${this.path}: it keeps changing`);
  }

  /** Removes the lock only if it still holds our PID (never another program's). */
  async release(): Promise<void> {
    held.delete(this);
    this.handedTo = undefined;
    const owner = await this.readOwner();
    if (owner !== this.pid) return;
    await fsp.unlink(this.path).catch((e) => {
      if (errnoCode(e) !== 'ENOENT')
        this.log?.warn({ event: 'lock-release-failed', path: this.path, err: String(e) });
    });
  }

  /**
   * Rewrites our lock with another PID in one rename(), so there is no moment
   * without a lock. pppd accepts an existing lock only when it holds its own PID.
   */
  async handOver(pid: number): Promise<void> {
    const owner = await this.readOwner();
    if (owner !== this.pid) {
      throw new CallbackdError(
        'LOCK_FAILED',
        `cannot hand over ${this.path}: not ours (holder ${String(owner)})`,
      );
    }
    await this.replace(pid);
    this.handedTo = pid;
    held.add(this);
  }

  /**
   * Takes the lock back after the child it was handed to has exited. The child may
   * have removed it (pppd does) or left it behind; a different live owner wins.
   */
  async reclaim(): Promise<AcquireResult> {
    const child = this.handedTo;
    this.handedTo = undefined;
    const owner = await this.readOwner();
    if (owner !== 'missing' && owner !== undefined && owner === child && !pidAlive(child)) {
      await this.replace(this.pid);
      held.add(this);
      return { ok: true };
    }
    return this.acquire();
  }

  /** Who holds the lock now: a PID, 'missing', or undefined for unreadable content. */
  async readOwner(): Promise<number | 'missing' | undefined> {
    try {
      return parseLockPid(await fsp.readFile(this.path));
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return 'missing';
      throw this.failed('read', e);
    }
  }

  /** For exit handlers: removes the lock if it holds our PID or a handed-to PID that is gone. */
  releaseSync(): void {
    held.delete(this);
    try {
      const owner = parseLockPid(readFileSync(this.path));
      const ours = owner === this.pid || (owner !== undefined && owner === this.handedTo && !pidAlive(owner));
      if (ours) unlinkSync(this.path);
    } catch {
      // nothing to clean up, or nothing we can do while exiting
    }
  }

  private async writeTemp(pid: number): Promise<string> {
    const tmp = join(this.dir, `LTMP.${this.pid}.${randomBytes(4).toString('hex')}`);
    try {
      await fsp.writeFile(tmp, formatLockPid(pid), { mode: 0o644, flag: 'wx' });
      await fsp.chmod(tmp, 0o644); // the umask must not make the lock unreadable for others
    } catch (e) {
      await fsp.unlink(tmp).catch(() => undefined);
      throw this.failed('create', e);
    }
    return tmp;
  }

  private async tryLink(pid: number): Promise<boolean> {
    const tmp = await this.writeTemp(pid);
    try {
      await fsp.link(tmp, this.path);
      return true;
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') return false;
      throw this.failed('link', e);
    } finally {
      await fsp.unlink(tmp).catch(() => undefined);
    }
  }

  private async replace(pid: number): Promise<void> {
    const tmp = await this.writeTemp(pid);
    try {
      await fsp.rename(tmp, this.path);
    } catch (e) {
      await fsp.unlink(tmp).catch(() => undefined);
      throw this.failed('rewrite', e);
    }
  }

  private failed(what: string, e: unknown): CallbackdError {
    return new CallbackdError(
      'LOCK_FAILED',
      `cannot ${what} lock ${this.path}: ${String(e)}`,
      { path: this.path },
      e,
    );
  }
}

/** Removes every lock this process still holds. Synchronous, for process exit handlers. */
export function releaseAllSync(): void {
  for (const lock of [...held]) lock.releaseSync();
}
