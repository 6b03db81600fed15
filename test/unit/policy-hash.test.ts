import { scryptSync } from 'node:crypto';
import * as crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { DUMMY_HASH, hashSecret, isSecretHash, verifySecret } from '../../src/policy/hash.js';
import { isCallbackdError } from '../../src/errors.js';

// Wrap the real scrypt so tests can see which salt each verification used.
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return { ...real, scrypt: vi.fn(real.scrypt) };
});

const scryptSpy = vi.mocked(crypto.scrypt);
const dummySalt = Buffer.from(DUMMY_HASH.split('$')[4] as string, 'base64');

function saltsUsed(): Buffer[] {
  return scryptSpy.mock.calls.map((c) => c[1] as Buffer);
}

describe('hashSecret / verifySecret', () => {
  beforeEach(() => {
    scryptSpy.mockClear();
  });

  it('round-trips a secret and refuses a different one', async () => {
    const h = await hashSecret('1234');
    expect(h).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(isSecretHash(h)).toBe(true);
    expect(await verifySecret(h, '1234')).toBe(true);
    expect(await verifySecret(h, '1235')).toBe(false);
    expect(await verifySecret(h, '')).toBe(false);
  });

  it('salts every hash, so equal secrets give different hashes', async () => {
    const [a, b] = await Promise.all([hashSecret('same'), hashSecret('same')]);
    expect(a).not.toBe(b);
    expect(await verifySecret(b, 'same')).toBe(true);
  });

  it('reads cost parameters from the hash itself', async () => {
    const salt = Buffer.from('0123456789abcdef');
    const key = scryptSync('pw', salt, 24, { N: 1024, r: 4, p: 2 });
    const h = `scrypt$1024$4$2$${salt.toString('base64')}$${key.toString('base64')}`;
    expect(isSecretHash(h)).toBe(true);
    expect(await verifySecret(h, 'pw')).toBe(true);
    expect(await verifySecret(h, 'pW')).toBe(false);
  });

  it('refuses to hash an empty secret with a clear error', async () => {
    await expect(hashSecret('')).rejects.toSatisfy((e: unknown) => isCallbackdError(e, 'CONFIG_INVALID'));
  });

  it('an unknown user (no hash) costs a scrypt run against the dummy salt and fails', async () => {
    expect(await verifySecret(undefined, 'anything')).toBe(false);
    expect(scryptSpy).toHaveBeenCalledTimes(1);
    expect(saltsUsed()[0]?.equals(dummySalt)).toBe(true);
  });

  it('a malformed stored hash takes the same dummy path and fails', async () => {
    expect(await verifySecret('plaintext-password', 'plaintext-password')).toBe(false);
    expect(scryptSpy).toHaveBeenCalledTimes(1);
    expect(saltsUsed()[0]?.equals(dummySalt)).toBe(true);
  });

  it('a known user runs scrypt with its own salt, once', async () => {
    const h = await hashSecret('pin');
    scryptSpy.mockClear();
    await verifySecret(h, 'nope');
    expect(scryptSpy).toHaveBeenCalledTimes(1);
    expect(saltsUsed()[0]?.equals(dummySalt)).toBe(false);
  });
});

describe('isSecretHash', () => {
  const salt = Buffer.alloc(16, 1).toString('base64');
  const key = Buffer.alloc(32, 2).toString('base64');
  it.each([
    ['', false],
    ['1234', false],
    [`scrypt$16384$8$1$${salt}$${key}`, true],
    [`bcrypt$16384$8$1$${salt}$${key}`, false],
    [`scrypt$16384$8$1$${salt}`, false],
    [`scrypt$16384$8$1$${salt}$${key}$x`, false],
    [`scrypt$1000$8$1$${salt}$${key}`, false], // N not a power of two
    [`scrypt$1$8$1$${salt}$${key}`, false],
    [`scrypt$${2 ** 21}$8$1$${salt}$${key}`, false], // too costly
    [`scrypt$16384$0$1$${salt}$${key}`, false],
    [`scrypt$16384$8$99$${salt}$${key}`, false],
    [`scrypt$16384$8$1$c2hvcnQ=$${key}`, false], // salt too short
    [`scrypt$16384$8$1$${salt}$not base64!`, false],
    [`scrypt$-16384$8$1$${salt}$${key}`, false],
  ])('%s -> %s', (s, ok) => {
    expect(isSecretHash(s)).toBe(ok);
  });

  it('accepts the dummy hash as well formed', () => {
    expect(isSecretHash(DUMMY_HASH)).toBe(true);
  });
});
