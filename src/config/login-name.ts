/**
 * The one rule for login names, used by the config loader (names it may configure)
 * and the login dialogue (names a caller may type): letters, digits, ".", "_" and
 * "-", not starting with "-", at most maxLength characters. What a caller can type
 * and what the config can name are therefore the same set. The leading "-" is
 * mgetty's old rule against option injection into a login program; we never pass
 * names to a program that way, but keep it so a name is never mistaken for an
 * option anywhere later (logs, accounting tools, pppd's `user`). Pure.
 */

/** Longest login name at all (pppd and pap-secrets handle far longer, people do not). */
export const MAX_NAME_LENGTH = 32;

export function loginNameSyntaxProblem(
  name: unknown,
  maxLength: number = MAX_NAME_LENGTH,
): string | undefined {
  if (typeof name !== 'string' || name === '') return 'must not be empty';
  if (name.startsWith('-')) return 'must not start with "-" (it would read as an option)';
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return 'may contain only letters, digits, ".", "_" and "-"';
  if (name.length > Math.min(maxLength, MAX_NAME_LENGTH)) {
    return `is longer than ${Math.min(maxLength, MAX_NAME_LENGTH)} characters`;
  }
  return undefined;
}
