import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { deriveSecret } from '../../src/config/secret-hash.js';
import { KDF_NICE, KdfThreads } from '../../src/daemon/kdf-thread.js';
import { DUMMY_HASH, hashSecret, verifySecret } from '../../src/policy/hash.js';

// The daemon's secret checks run scrypt on threads of their own below the event loop's
// priority (kdf-thread.ts): same keys as on libuv's pool, bounded threads, none when idle.

const params = { N: 1024, r: 8, p: 1 };
const salt = Buffer.from('0123456789abcdef');
const pools: KdfThreads[] = [];
function threads(o: ConstructorParameters<typeof KdfThreads>[0] = {}): KdfThreads {
  const t = new KdfThreads(o);
  pools.push(t);
  return t;
}
afterEach(() => {
  for (const t of pools.splice(0)) t.close();
});

/** The nice value of one of this process's threads, from /proc (field 19 of stat). */
function niceOf(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19 - 3]);
}

describe('KdfThreads', () => {
  it("never keeps the process alive: its thread is unref'd once its listeners are on", async () => {
    // First in the file: no other test's thread is still ending.
    const ports = () =>
      process.getActiveResourcesInfo().filter((r) => r === 'MessagePort' || r === 'Worker').length;
    const before = ports();
    const kdf = threads({ threads: 1, lingerMs: 60_000 });
    await kdf.derive('1234', salt, 32, params);
    expect(kdf.running).toBe(1);
    expect(ports()).toBe(before);
  });

  it('derives the same keys as scrypt on the pool, NFC included, and verifySecret decides the same', async () => {
    const kdf = threads();
    for (const secret of ['1234', 'pässwort', 'pa\u0308sswort']) {
      const want = await deriveSecret(secret, salt, 32, params);
      expect((await kdf.derive(secret, salt, 32, params)).equals(want)).toBe(true);
    }
    const hash = await hashSecret('right-secret');
    expect(await verifySecret(hash, 'right-secret', kdf.derive)).toBe(true);
    expect(await verifySecret(hash, 'wrong-secret', kdf.derive)).toBe(false);
    expect(await verifySecret(undefined, 'right-secret', kdf.derive)).toBe(false);
    expect(await verifySecret(DUMMY_HASH, 'anything', kdf.derive)).toBe(false);
  });

  it('runs its thread at a lower priority than the event loop', async () => {
    const kdf = threads({ threads: 1 });
    await kdf.derive('1234', salt, 32, params);
    const [info] = kdf.info();
    expect(info?.nice).toBe(KDF_NICE);
    expect(niceOf(info!.tid!)).toBe(KDF_NICE);
    // The event loop's own thread keeps the process's priority.
    expect(niceOf(process.pid)).toBe(0);
  });

  it('uses at most its threads for many checks at once, each with its own key', async () => {
    const kdf = threads({ threads: 2 });
    const secrets = Array.from({ length: 7 }, (_, i) => `secret-${i}`);
    let most = 0;
    const keys = await Promise.all(
      secrets.map(async (s) => {
        const p = kdf.derive(s, salt, 32, params);
        most = Math.max(most, kdf.running);
        return p;
      }),
    );
    expect(most).toBeLessThanOrEqual(2);
    for (const [i, s] of secrets.entries())
      expect(keys[i]!.equals(await deriveSecret(s, salt, 32, params))).toBe(true);
  });

  it('a check whose thread is ended still gets its key (from the pool)', async () => {
    const kdf = threads({ threads: 1 });
    const pending = [kdf.derive('a', salt, 32, params), kdf.derive('b', salt, 32, params)];
    kdf.close();
    expect(kdf.running).toBe(0);
    const [a, b] = await Promise.all(pending);
    expect(a!.equals(await deriveSecret('a', salt, 32, params))).toBe(true);
    expect(b!.equals(await deriveSecret('b', salt, 32, params))).toBe(true);
  });

  it('ends its threads once no check has come for the linger time, and starts again on demand', async () => {
    const kdf = threads({ threads: 1, lingerMs: 20 });
    await kdf.derive('1234', salt, 32, params);
    expect(kdf.running).toBe(1);
    for (let i = 0; i < 1_000 && kdf.running > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(kdf.running).toBe(0);
    expect(
      (await kdf.derive('1234', salt, 32, params)).equals(await deriveSecret('1234', salt, 32, params)),
    ).toBe(true);
  });

  it('warm() starts the thread before the check, which then runs on it; unused, it ends after the linger', async () => {
    const kdf = threads({ threads: 1, lingerMs: 20 });
    kdf.warm();
    expect(kdf.running).toBe(1);
    kdf.warm(); // a second prompt does not start another
    expect(kdf.running).toBe(1);
    expect(
      (await kdf.derive('1234', salt, 32, params)).equals(await deriveSecret('1234', salt, 32, params)),
    ).toBe(true);
    expect(kdf.running).toBe(1);
    expect(kdf.info()).toHaveLength(1);
    for (let i = 0; i < 1_000 && kdf.running > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(kdf.running).toBe(0);
    // Warmed and never used: it ends all the same.
    kdf.warm();
    expect(kdf.running).toBe(1);
    for (let i = 0; i < 1_000 && kdf.running > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(kdf.running).toBe(0);
  });
});
