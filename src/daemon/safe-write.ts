import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CallbackdError } from '../errors.js';

/**
 * Writing the daemon's own files (limits.json, status.json) so that nobody else can
 * steer the write: the directory must be a real directory (not a symlink) owned by
 * the daemon's user and writable by nobody else; the data goes to a fresh temp name
 * opened with O_CREAT|O_EXCL|O_NOFOLLOW (so a planted file or symlink makes the open
 * fail instead of being written through), is synced, and is renamed over the target
 * (rename replaces a symlink planted at the target, it never follows it).
 */

/** Why dir is not a safe place for the daemon's files; undefined when it is. */
export function unsafeDirReason(dir: string): string | undefined {
  let st;
  try {
    st = lstatSync(dir);
  } catch (err) {
    return `cannot inspect it (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  if (st.isSymbolicLink()) return 'it is a symbolic link';
  if (!st.isDirectory()) return 'it is not a directory';
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return `it is owned by uid ${st.uid}, not by uid ${uid}`;
  if ((st.mode & 0o022) !== 0) {
    return `others can write to it (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`;
  }
  return undefined;
}

/** Creates dir (mode 0700) when missing, then checks it; throws STATE_UNSAFE when unsafe. */
export function ensureSafeDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    /* the check below says why */
  }
  const why = unsafeDirReason(dir);
  if (why !== undefined) {
    throw new CallbackdError('STATE_UNSAFE', `refusing to write in ${dir}: ${why}`, { dir });
  }
}

/** A fresh temp file is created only, never opened through a symlink. */
const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Checks file's directory (ensureSafeDir) and names a fresh temp file beside file. */
function safeTempFor(file: string): string {
  const dir = dirname(file);
  ensureSafeDir(dir);
  return join(dir, `.${basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
}

/**
 * Atomically replaces file with data; see the module comment for what is checked.
 * `fsync: false` skips the flush to disk, for a file that is only a view of memory
 * (the status file): after a crash it is rewritten anyway.
 */
export function writeFileSafely(file: string, data: string, mode: number, o: { fsync?: boolean } = {}): void {
  const tmp = safeTempFor(file);
  const fd = openSync(tmp, TEMP_FLAGS, mode);
  try {
    try {
      writeSync(fd, data);
      if (o.fsync ?? true) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * writeFileSafely with the open, write, flush and rename on libuv's pool, so the event
 * loop goes on meanwhile (a rename over an existing file on ext4 waits for the new
 * file's data: 3-4 ms a time, measured with 128 lines). Same checks and flags.
 */
export async function writeFileSafelyAsync(
  file: string,
  data: string,
  mode: number,
  o: { fsync?: boolean } = {},
): Promise<void> {
  const tmp = safeTempFor(file);
  const fh = await fsp.open(tmp, TEMP_FLAGS, mode);
  try {
    try {
      await fh.writeFile(data);
      if (o.fsync ?? true) await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}
