import { spawnSync } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  existsSync,
  readdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UucpLock, formatLockPid, parseLockPid, pidAlive, releaseAllSync } from '../../src/serial/lock.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'callbackd-lock-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A PID that certainly belongs to no process: one that has just exited. */
function deadPid(): number {
  const r = spawnSync('true');
  expect(pidAlive(r.pid!)).toBe(false);
  return r.pid!;
}

const lockFile = () => join(dir, 'LCK..ttyS1');

describe('lock file format', () => {
  it('is HDB: %10d and a newline', () => {
    expect(formatLockPid(1234)).toBe('      1234\n');
    expect(formatLockPid(1234)).toHaveLength(11);
  });

  it('reads ASCII and 4-byte binary PIDs, and nothing else', () => {
    expect(parseLockPid(Buffer.from('      1234\n'))).toBe(1234);
    expect(parseLockPid(Buffer.from('1234'))).toBe(1234);
    const bin = Buffer.alloc(4);
    bin.writeInt32LE(40001);
    expect(parseLockPid(bin)).toBe(40001);
    expect(parseLockPid(Buffer.from('garbage!\n'))).toBeUndefined();
    expect(parseLockPid(Buffer.from(''))).toBeUndefined();
  });
});

describe('UucpLock', () => {
  it('creates LCK..<basename> holding our pid, mode 0644, leaving no temp file', async () => {
    const lock = new UucpLock('/dev/ttyS1', { dir });
    expect(await lock.acquire()).toEqual({ ok: true });
    expect(readFileSync(lockFile(), 'latin1')).toBe(formatLockPid(process.pid));
    expect(statSync(lockFile()).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(['LCK..ttyS1']);
    // Taking it again while we hold it is fine.
    expect(await lock.acquire()).toEqual({ ok: true });
    await lock.release();
    expect(existsSync(lockFile())).toBe(false);
  });

  it('reports a live owner and leaves its lock alone', async () => {
    writeFileSync(lockFile(), formatLockPid(process.ppid));
    const lock = new UucpLock('/dev/ttyS1', { dir });
    expect(await lock.acquire()).toEqual({ ok: false, heldBy: process.ppid });
    await lock.release();
    expect(readFileSync(lockFile(), 'latin1')).toBe(formatLockPid(process.ppid));
  });

  it('only one of two racing lockers wins', async () => {
    const a = new UucpLock('/dev/ttyS1', { dir, pid: process.pid });
    const b = new UucpLock('/dev/ttyS1', { dir, pid: process.ppid });
    const [ra, rb] = await Promise.all([a.acquire(), b.acquire()]);
    expect([ra.ok, rb.ok].filter(Boolean)).toHaveLength(1);
  });

  it.each([
    ['an ASCII pid of a dead process', () => formatLockPid(deadPid())],
    [
      'a binary pid of a dead process',
      () => {
        const b = Buffer.alloc(4);
        b.writeInt32LE(deadPid());
        return b;
      },
    ],
    ['garbage', () => 'not a pid at all'],
  ])('takes over a stale lock: %s', async (_what, content) => {
    writeFileSync(lockFile(), content());
    const lock = new UucpLock('/dev/ttyS1', { dir });
    expect(await lock.acquire()).toEqual({ ok: true });
    expect(readFileSync(lockFile(), 'latin1')).toBe(formatLockPid(process.pid));
  });

  it('hands over to another pid atomically and reclaims after it exits', async () => {
    const lock = new UucpLock('/dev/ttyS1', { dir });
    await lock.acquire();
    const child = deadPid();
    await lock.handOver(child);
    expect(readFileSync(lockFile(), 'latin1')).toBe(formatLockPid(child));
    // release() must not remove a lock that now belongs to the child.
    const other = new UucpLock('/dev/ttyS1', { dir });
    await other.release();
    expect(existsSync(lockFile())).toBe(true);
    expect(await lock.reclaim()).toEqual({ ok: true });
    expect(readFileSync(lockFile(), 'latin1')).toBe(formatLockPid(process.pid));
  });

  it('reclaims when the child removed the lock itself (pppd does)', async () => {
    const lock = new UucpLock('/dev/ttyS1', { dir });
    await lock.acquire();
    await lock.handOver(deadPid());
    rmSync(lockFile());
    expect(await lock.reclaim()).toEqual({ ok: true });
  });

  it('reclaim yields to a live program that took the line meanwhile', async () => {
    const lock = new UucpLock('/dev/ttyS1', { dir });
    await lock.acquire();
    await lock.handOver(deadPid());
    writeFileSync(lockFile(), formatLockPid(process.ppid));
    expect(await lock.reclaim()).toEqual({ ok: false, heldBy: process.ppid });
  });

  it('refuses to hand over a lock it does not hold', async () => {
    writeFileSync(lockFile(), formatLockPid(process.ppid));
    const lock = new UucpLock('/dev/ttyS1', { dir });
    await expect(lock.handOver(12345)).rejects.toMatchObject({ code: 'LOCK_FAILED' });
  });

  it('fails clearly when the lock directory is missing', async () => {
    const lock = new UucpLock('/dev/ttyS1', { dir: join(dir, 'nope') });
    await expect(lock.acquire()).rejects.toMatchObject({ code: 'LOCK_FAILED' });
  });

  it("releaseAllSync removes our locks and nobody else's", async () => {
    const ours = new UucpLock('/dev/ttyS1', { dir });
    await ours.acquire();
    writeFileSync(join(dir, 'LCK..ttyS2'), formatLockPid(process.ppid));
    const theirs = new UucpLock('/dev/ttyS2', { dir });
    await theirs.acquire();
    releaseAllSync();
    expect(existsSync(lockFile())).toBe(false);
    expect(existsSync(join(dir, 'LCK..ttyS2'))).toBe(true);
  });

  describe('a lock file planted by a local user (the lock directory is world-writable)', () => {
    const mkfifo = (path: string) => expect(spawnSync('mkfifo', [path]).status).toBe(0);

    it('a FIFO is refused as a lock failure at once, never read (reading it would block forever)', async () => {
      mkfifo(lockFile());
      const lock = new UucpLock('/dev/ttyS1', { dir });
      await expect(lock.acquire()).rejects.toMatchObject({
        code: 'LOCK_FAILED',
        message: expect.stringMatching(/not a regular file/) as unknown,
      });
      await expect(lock.readOwner()).rejects.toMatchObject({ code: 'LOCK_FAILED' });
      // release() and the exit handler leave it alone and do not block either.
      await lock.release();
      releaseAllSync();
      expect(statSync(lockFile()).isFIFO()).toBe(true);
    });

    it('a FIFO planted while we hold the lock does not block the exit handler', async () => {
      const lock = new UucpLock('/dev/ttyS1', { dir });
      await lock.acquire();
      rmSync(lockFile());
      mkfifo(lockFile());
      releaseAllSync();
      expect(statSync(lockFile()).isFIFO()).toBe(true);
    });

    it('a symlink is never followed: not even to a file naming a live process', async () => {
      const target = join(dir, 'elsewhere');
      writeFileSync(target, formatLockPid(process.ppid));
      symlinkSync(target, lockFile());
      const lock = new UucpLock('/dev/ttyS1', { dir });
      await expect(lock.acquire()).rejects.toMatchObject({
        code: 'LOCK_FAILED',
        message: expect.stringMatching(/symbolic link|not a regular file/) as unknown,
      });
      expect(readFileSync(target, 'latin1')).toBe(formatLockPid(process.ppid));
    });
  });
});
