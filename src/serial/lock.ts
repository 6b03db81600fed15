import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  linkSync,
  openSync,
  promises as fsp,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { CallbackdError, errnoCode } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * UUCP lock files, HDB style, as mgetty, cu, minicom and pppd use them: the file
 * LCK..<device base name> in the lock directory holds the owner's PID as `%10d\n`.
 * Creation is atomic (write a temp file, then link() it into place), so two programs
 * racing for the line cannot both win.
 *
 * The lock directory is world-writable (/run/lock is 1777), so anything may sit at
 * our path. Lock files are opened with O_NONBLOCK|O_NOFOLLOW and read only when they
 * are regular files: a FIFO would block a read forever, a symlink could point at any
 * file. Anything else is a LOCK_FAILED error (the line's open loop logs it and backs
 * off), never a hang and never a crash. A full or vanished directory is LOCK_FAILED too.
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

/** Longest lock file we read: an HDB lock is 11 bytes. */
const MAX_LOCK_BYTES = 64;
const OPEN_LOCK_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

function notRegular(path: string, what: string): Error {
  return Object.assign(new Error(`${path} is ${what}, not a regular file; refusing it`), {
    code: 'ENOTREG',
  });
}

/** Why a lock path cannot be read: an errno from open(O_NOFOLLOW) or fstat's file type. */
function describeType(st: { isFIFO(): boolean; isSocket(): boolean; isDirectory(): boolean }): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  return 'a device or special file';
}

/**
 * Reads a lock file without following a symlink and without blocking: the content, or
 * null when there is none. Throws ENOTREG for anything but a regular file.
 */
export async function readLockFile(path: string): Promise<Buffer | null> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, OPEN_LOCK_FLAGS);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return null;
    if (errnoCode(e) === 'ELOOP') throw notRegular(path, 'a symbolic link');
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegular(path, describeType(st));
    const buf = Buffer.alloc(MAX_LOCK_BYTES);
    const { bytesRead } = await fh.read(buf, 0, MAX_LOCK_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** readLockFile for exit handlers: synchronous; null for missing or anything odd. */
function readLockFileSync(path: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, OPEN_LOCK_FLAGS);
  } catch {
    return null;
  }
  try {
    if (!fstatSync(fd).isFile()) return null;
    const buf = Buffer.alloc(MAX_LOCK_BYTES);
    return buf.subarray(0, readSync(fd, buf, 0, MAX_LOCK_BYTES, 0));
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
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
      if (this.tryLink(this.pid)) {
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
    let owner: number | 'missing' | undefined;
    try {
      owner = await this.readOwner();
    } catch (e) {
      // Not ours to remove (a FIFO or symlink someone planted): leave it, say so.
      this.log?.warn({ event: 'lock-release-failed', path: this.path, err: String(e) });
      return;
    }
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
    let content: Buffer | null;
    try {
      content = await readLockFile(this.path);
    } catch (e) {
      throw this.failed('read', e);
    }
    return content === null ? 'missing' : parseLockPid(content);
  }

  /** For exit handlers: removes the lock if it holds our PID or a handed-to PID that is gone. */
  releaseSync(): void {
    held.delete(this);
    try {
      const content = readLockFileSync(this.path);
      if (content === null) return;
      const owner = parseLockPid(content);
      const ours = owner === this.pid || (owner !== undefined && owner === this.handedTo && !pidAlive(owner));
      if (ours) unlinkSync(this.path);
    } catch {
      // nothing to clean up, or nothing we can do while exiting
    }
  }

  /**
   * A temp file in the lock directory holding pid, ready to be linked or renamed into
   * place. Synchronous: five system calls on a local directory, tens of microseconds,
   * where fs.promises made each a trip through libuv's thread pool (see tryLink).
   */
  private writeTemp(pid: number): string {
    const tmp = join(this.dir, `LTMP.${this.pid}.${randomBytes(4).toString('hex')}`);
    let fd: number | undefined;
    try {
      // O_EXCL: never through a symlink; fchmod on the fd, never by path.
      fd = openSync(tmp, 'wx', 0o644);
      writeSync(fd, formatLockPid(pid));
      fchmodSync(fd, 0o644); // the umask must not make the lock unreadable for others
      closeSync(fd);
      fd = undefined;
    } catch (e) {
      if (fd !== undefined) closeQuietly(fd);
      unlinkQuietly(tmp);
      throw this.failed('create', e);
    }
    return tmp;
  }

  /**
   * One attempt at the lock: a temp file with our PID, link()ed into place. Synchronous,
   * because a line takes the lock between a RING and its ATA: these five system calls on
   * the (local, tmpfs) lock directory take tens of microseconds on this thread, where
   * the same steps through fs.promises were six trips through libuv's thread pool and
   * back, milliseconds on a loaded machine (strace of a benchmark call).
   */
  private tryLink(pid: number): boolean {
    const tmp = this.writeTemp(pid);
    try {
      linkSync(tmp, this.path);
      return true;
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') return false;
      throw this.failed('link', e);
    } finally {
      unlinkQuietly(tmp);
    }
  }

  private async replace(pid: number): Promise<void> {
    const tmp = this.writeTemp(pid);
    try {
      await fsp.rename(tmp, this.path);
    } catch (e) {
      unlinkQuietly(tmp);
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

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // never created, or already gone
  }
}

/** Removes every lock this process still holds. Synchronous, for process exit handlers. */
export function releaseAllSync(): void {
  for (const lock of [...held]) lock.releaseSync();
}
