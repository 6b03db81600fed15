import { describe, expect, it } from 'vitest';
import { isSecretHash } from '../../src/policy/hash.js';
import { MAX_SCRYPT_MEMORY, scryptMemory } from '../../src/config/secret-hash.js';

const salt = Buffer.alloc(16, 1).toString('base64');
const key = Buffer.alloc(32, 2).toString('base64');
const hash = (N: number, r: number, p = 1): string => `scrypt$${N}$${r}$${p}$${salt}$${key}`;

describe('scrypt parameters have a true memory bound (issue 8 item 11)', () => {
  it('refuses parameters that need more than 64 MiB per check (128 * N * r)', () => {
    expect(MAX_SCRYPT_MEMORY).toBe(64 * 1024 * 1024);
    expect(isSecretHash(hash(2 ** 20, 32))).toBe(false); // 4 GiB: accepted before
    expect(isSecretHash(hash(2 ** 20, 8))).toBe(false); // 1 GiB
    expect(isSecretHash(hash(2 ** 17, 8))).toBe(false); // 128 MiB
    expect(isSecretHash(hash(2 ** 16, 8))).toBe(true); // exactly 64 MiB
    expect(scryptMemory({ N: 2 ** 16, r: 8 })).toBe(MAX_SCRYPT_MEMORY);
    expect(isSecretHash(hash(16384, 8))).toBe(true); // the default, 16 MiB
  });

  it('bounds the work of p as well', () => {
    expect(isSecretHash(hash(2 ** 16, 8, 16))).toBe(false);
    expect(isSecretHash(hash(16384, 8, 16))).toBe(true);
  });
});
