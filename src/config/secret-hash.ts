import { randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import { CallbackdError } from '../errors.js';

/**
 * The stored form of PINs and passwords, shared by the config loader (is this a
 * hash?), `hash-password` (make one) and the policy (check a typed secret):
 *   scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>
 * The parameters travel with the hash so they can be raised later without breaking
 * old entries. It sits below config and policy so neither imports the other.
 */

/** Cost used for new hashes: about 50 ms and 16 MiB, acceptable once per login attempt. */
export const SCRYPT_DEFAULTS = Object.freeze({ N: 16_384, r: 8, p: 1, saltBytes: 16, keyBytes: 32 });

/**
 * scrypt's memory is 128 * N * r bytes (its V array; p runs one after another in
 * Node). A hash from a hand-edited config may ask for at most this much per check:
 * 64 MiB, four times the default. N <= 2^20 and r <= 32 alone would allow 4 GiB.
 */
export const MAX_SCRYPT_MEMORY = 64 * 1024 * 1024;
/** CPU work is proportional to N * r * p: at most 32 times the default (about 1.5 s here). */
export const MAX_SCRYPT_WORK = 32 * SCRYPT_DEFAULTS.N * SCRYPT_DEFAULTS.r * SCRYPT_DEFAULTS.p;

const MAX_P = 16;
const MIN_BYTES = 16;
const MAX_BYTES = 128;

export interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

function parseInteger(s: string | undefined): number | undefined {
  if (s === undefined || !/^[0-9]{1,8}$/.test(s)) return undefined;
  return Number(s);
}

/** Memory one check with these parameters needs, in bytes. */
export function scryptMemory(o: { N: number; r: number }): number {
  return 128 * o.N * o.r;
}

export function parseSecretHash(s: string): ParsedHash | undefined {
  if (typeof s !== 'string') return undefined;
  const parts = s.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const N = parseInteger(parts[1]);
  const r = parseInteger(parts[2]);
  const p = parseInteger(parts[3]);
  if (N === undefined || r === undefined || p === undefined) return undefined;
  // N must be a power of two above 1 (scrypt's own rule).
  if (N < 2 || (N & (N - 1)) !== 0) return undefined;
  if (r < 1 || p < 1 || p > MAX_P) return undefined;
  if (scryptMemory({ N, r }) > MAX_SCRYPT_MEMORY || N * r * p > MAX_SCRYPT_WORK) return undefined;
  const saltText = parts[4] ?? '';
  const keyText = parts[5] ?? '';
  if (!B64.test(saltText) || !B64.test(keyText)) return undefined;
  const salt = Buffer.from(saltText, 'base64');
  const key = Buffer.from(keyText, 'base64');
  for (const b of [salt, key]) {
    if (b.length < MIN_BYTES || b.length > MAX_BYTES) return undefined;
  }
  return { N, r, p, salt, key };
}

export function deriveSecret(
  secret: string,
  salt: Buffer,
  keylen: number,
  o: { N: number; r: number; p: number },
): Promise<Buffer> {
  // Node refuses scrypt above maxmem (32 MiB default); allow what the parameters need.
  const options: ScryptOptions = { N: o.N, r: o.r, p: o.p, maxmem: scryptMemory(o) + 1024 * 1024 };
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(secret.normalize('NFC'), salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/**
 * Shortest PIN or password `hash-password` accepts. With the lockouts' daily cap (at
 * most 20 wrong guesses at a name a day) a 6-digit PIN holds for about 68 years on
 * average; a 4-digit one for under a year (docs/security.md).
 */
export const MIN_SECRET_LENGTH = 6;

/** PINs people choose most (and the sample's example): check-config looks for them. */
export const COMMON_PINS: readonly string[] = [
  '1234',
  '0000',
  '1111',
  '1212',
  '7777',
  '1004',
  '2000',
  '4444',
  '2222',
  '6969',
  '9999',
  '3333',
  '5555',
  '6666',
  '1122',
  '1313',
  '8888',
  '4321',
  '2001',
  '1010',
  '2468',
  '12345',
  '123456',
  '000000',
  '111111',
  '654321',
  '123123',
];

/** Whether hash is the hash of secret (for check-config's probe; the login uses verifySecret). */
export async function hashMatches(hash: string, secret: string): Promise<boolean> {
  const h = parseSecretHash(hash);
  if (!h) return false;
  const key = await deriveSecret(secret, h.salt, h.key.length, h);
  return key.equals(h.key);
}

/** True when s looks like a hash this module made (format and parameters within the bounds). */
export function isSecretHash(s: string): boolean {
  return parseSecretHash(s) !== undefined;
}

export async function hashSecret(secret: string): Promise<string> {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new CallbackdError('CONFIG_INVALID', 'a PIN or password must not be empty');
  }
  const { N, r, p, saltBytes, keyBytes } = SCRYPT_DEFAULTS;
  const salt = randomBytes(saltBytes);
  const key = await deriveSecret(secret, salt, keyBytes, { N, r, p });
  return ['scrypt', N, r, p, salt.toString('base64'), key.toString('base64')].join('$');
}
