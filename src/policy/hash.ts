import { timingSafeEqual } from 'node:crypto';
import { deriveSecret, parseSecretHash, type ParsedHash } from '../config/secret-hash.js';

/**
 * Checking a typed PIN or password. The stored format, its bounds and hashing live
 * in config/secret-hash.ts (below both config and policy); this adds the check.
 */
export {
  hashSecret,
  isSecretHash,
  MAX_SCRYPT_MEMORY,
  MAX_SCRYPT_WORK,
  SCRYPT_DEFAULTS,
  scryptMemory,
} from '../config/secret-hash.js';

/**
 * Stand-in for users that do not exist: the same scrypt work is done for an
 * unknown name as for a known one, so response time does not reveal which
 * names exist. No secret hashes to this value (its hash bytes are not the output of
 * any derivation we ran), and verifySecret never returns true on this path anyway.
 */
export const DUMMY_HASH =
  'scrypt$16384$8$1$Y2FsbGJhY2tkLWR1bW15IQ==$ZHVtbXktaGFzaC1ub3QtYS1yZWFsLXNlY3JldC0zMiE=';

/**
 * Checks a typed secret against a stored hash. An undefined or malformed hash
 * (unknown user, broken config entry) costs the same work and returns false.
 * `derive` is where the scrypt runs (the daemon passes its own threads, kdf-thread.ts).
 */
export async function verifySecret(
  hash: string | undefined,
  secret: string,
  derive: typeof deriveSecret = deriveSecret,
): Promise<boolean> {
  const stored = hash === undefined ? undefined : parseSecretHash(hash);
  const target = stored ?? (parseSecretHash(DUMMY_HASH) as ParsedHash);
  const key = await derive(String(secret), target.salt, target.key.length, target);
  const same = timingSafeEqual(key, target.key);
  return stored !== undefined && same;
}
