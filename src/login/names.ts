/** Longest login name accepted when the caller does not say (LoginConfig.maxLength normally does). */
export const DEFAULT_MAX_NAME_LENGTH = 32;

/**
 * A name the session may look up: non-empty, printable ASCII only, at most
 * maxLength characters, and not starting with a space or '-'. The leading '-' is
 * mgetty's old rule against option injection into a login program; we never pass
 * names to a program that way, but keep the rule so a name is never mistaken for
 * an option anywhere later (logs, accounting tools, pppd's `user`).
 */
export function validLoginName(s: string, maxLength: number = DEFAULT_MAX_NAME_LENGTH): boolean {
  if (typeof s !== 'string' || s.length === 0 || s.length > maxLength) return false;
  if (s.startsWith('-') || s.startsWith(' ')) return false;
  return /^[\x20-\x7e]+$/.test(s);
}
