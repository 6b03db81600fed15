import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { CallbackdError } from '../errors.js';

/**
 * PINs and passwords are stored as scrypt hashes in the config file:
 *   scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>
 * The parameters travel with the hash so they can be raised later without
 * breaking old entries.
 */

/** Cost used for new hashes: about 50 ms and 16 MiB, acceptable once per login attempt. */
export const SCRYPT_DEFAULTS = Object.freeze({ N: 16_384, r: 8, p: 1, saltBytes: 16, keyBytes: 32 });

// Limits on parameters read from a hash, so a hand-edited config cannot make one
// login attempt eat gigabytes of memory or minutes of CPU.
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;
const MIN_BYTES = 16;
const MAX_BYTES = 128;

/**
 * Stand-in for users that do not exist: the same scrypt work is done for an
 * unknown name as for a known one, so response time does not reveal which
 * names exist. No secret hashes to this value (its hash bytes are not the output of
 * any derivation we ran), and verifySecret never returns true on this path anyway.
 */
export const DUMMY_HASH =
  'scrypt$16384$8$1$Y2FsbGJhY2tkLWR1bW15IQ==$ZHVtbXktaGFzaC1ub3QtYS1yZWFsLXNlY3JldC0zMiE=';

interface ParsedHash {
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

function parseHash(s: string): ParsedHash | undefined {
  const parts = s.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const N = parseInteger(parts[1]);
  const r = parseInteger(parts[2]);
  const p = parseInteger(parts[3]);
  if (N === undefined || r === undefined || p === undefined) return undefined;
  // N must be a power of two above 1 (scrypt's own rule).
  if (N < 2 || N > MAX_N || (N & (N - 1)) !== 0) return undefined;
  if (r < 1 || r > MAX_R || p < 1 || p > MAX_P) return undefined;
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

function derive(secret: string, salt: Buffer, keylen: number, o: { N: number; r: number; p: number }) {
  // Node refuses scrypt above maxmem (32 MiB default); allow what the parameters need.
  const options: ScryptOptions = { N: o.N, r: o.r, p: o.p, maxmem: 128 * o.N * o.r + 1024 * 1024 };
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(secret.normalize('NFC'), salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** True when s looks like a hash this module made (format and sane parameters). */
export function isSecretHash(s: string): boolean {
  return typeof s === 'string' && parseHash(s) !== undefined;
}

export async function hashSecret(secret: string): Promise<string> {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new CallbackdError('CONFIG_INVALID', 'a PIN or password must not be empty');
  }
  const { N, r, p, saltBytes, keyBytes } = SCRYPT_DEFAULTS;
  const salt = randomBytes(saltBytes);
  const key = await derive(secret, salt, keyBytes, { N, r, p });
  return ['scrypt', N, r, p, salt.toString('base64'), key.toString('base64')].join('$');
}

/**
 * Checks a typed secret against a stored hash. An undefined or malformed hash
 * (unknown user, broken config entry) costs the same work and returns false.
 */
export async function verifySecret(hash: string | undefined, secret: string): Promise<boolean> {
  const stored = hash === undefined ? undefined : parseHash(hash);
  const target = stored ?? (parseHash(DUMMY_HASH) as ParsedHash);
  const key = await derive(String(secret), target.salt, target.key.length, target);
  const same = timingSafeEqual(key, target.key);
  return stored !== undefined && same;
}
