/**
 * The one rule for what may follow ATD, shared by the config loader, the policy
 * (typed numbers) and the modem (its last check before ATD). It sits at the bottom
 * of the layers, next to the config types, so each of them can import it without
 * importing each other. Pure: no I/O.
 */

/** Dial modifiers a number may ever contain: pause, wait for tone, star, hash, international. */
export const DIAL_MODIFIERS = ',W*#+';

/** Longest dial string accepted: Hayes command buffers hold about 40 characters. */
export const MAX_DIAL_LENGTH = 40;

const DIALABLE = /^\+?[0-9,W*#]+$/;

/**
 * Why a string may not follow ATD; undefined when it may. Digits and , W * # only,
 * a + only at the start, at least one digit, at most MAX_DIAL_LENGTH characters:
 * nothing that ends the command (`;`), nothing an AT command could hide in.
 */
export function dialStringProblem(s: unknown): string | undefined {
  if (typeof s !== 'string') return 'is not text';
  if (s.length > MAX_DIAL_LENGTH) return `is longer than ${MAX_DIAL_LENGTH} characters`;
  if (!DIALABLE.test(s) || !/[0-9]/.test(s)) {
    return `may contain only digits and the dial modifiers ${DIAL_MODIFIERS} (+ only at the start), with at least one digit`;
  }
  return undefined;
}

export function isDialable(s: unknown): s is string {
  return dialStringProblem(s) === undefined;
}
