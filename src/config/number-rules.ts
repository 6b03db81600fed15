import { DIAL_MODIFIERS } from './dial-string.js';

/**
 * The syntax of number rules (allow/deny prefixes and /regex/), shared by the config
 * loader, which refuses a bad rule, and the policy, which applies it. Pure.
 */

/** What people type between digits: spaces, dashes, dots, parentheses. */
export const SEPARATORS = /[ \t\-.()]/g;

export function isRegexRule(rule: string): boolean {
  return rule.length >= 2 && rule.startsWith('/') && rule.endsWith('/');
}

export function compileNumberRule(rule: string): RegExp | undefined {
  try {
    // Anchored at both ends: `/0[1-9]+/` must describe the whole number, not a part of it.
    return new RegExp(`^(?:${rule.slice(1, -1)})$`);
  } catch {
    return undefined;
  }
}

/** Why a number rule is unusable, for config validation; undefined when it is fine. */
export function numberRuleProblem(rule: string): string | undefined {
  if (isRegexRule(rule)) {
    return compileNumberRule(rule)
      ? undefined
      : `rule ${JSON.stringify(rule)} is not a valid regular expression`;
  }
  const prefix = rule.replace(SEPARATORS, '');
  if (prefix === '') return 'an empty prefix rule would match every number';
  if (!/^\+?[0-9*#]+$/.test(prefix)) {
    return `prefix rule ${JSON.stringify(rule)} may contain only digits, *, # and a leading + (or be a /regex/)`;
  }
  return undefined;
}

/** Why a modifiers setting is unusable; undefined when every character is a known dial modifier. */
export function modifiersProblem(modifiers: string): string | undefined {
  const bad = [...modifiers].filter((c) => !DIAL_MODIFIERS.includes(c));
  return bad.length ? `dial modifiers may only be chosen from "${DIAL_MODIFIERS}"` : undefined;
}

/** A digits-only prefix setting (international_prefix, country_code, national_prefix). */
export function digitPrefixProblem(s: string, allowEmpty: boolean): string | undefined {
  if (s === '' && allowEmpty) return undefined;
  return /^[0-9]{1,4}$/.test(s) ? undefined : 'must be 1 to 4 digits';
}
