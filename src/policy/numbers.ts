import type { CallbackEntry, NumberRules } from '../config/types.js';

/**
 * Phone numbers are the toll-fraud surface: whatever reaches ATD is dialled at the
 * owner's cost. Everything a caller types goes through checkNumber, and every
 * number goes through isDialable again right before ATD, so AT command text,
 * `;` (return to command mode) or letters can never reach the modem.
 */

export type NumberCheck = { ok: true; dial: string } | { ok: false; reason: string };

/** Dial modifiers a number may ever contain: pause, wait for tone, star, hash, international. */
export const DIAL_MODIFIERS = ',W*#+';

/** Longest dial string accepted: Hayes command buffers hold about 40 characters. */
export const MAX_DIAL_LENGTH = 40;

// Anything longer is refused before any other work, so a flood of junk costs nothing.
const MAX_TYPED_LENGTH = 128;

// What people type between digits: spaces, dashes, dots, parentheses.
const SEPARATORS = /[ \t\-.()]/g;

const DIALABLE = /^[0-9,W*#+]+$/;

/** Digits and , W * # + only, at least one digit, at most MAX_DIAL_LENGTH characters. */
export function isDialable(s: string): boolean {
  return typeof s === 'string' && s.length <= MAX_DIAL_LENGTH && DIALABLE.test(s) && /[0-9]/.test(s);
}

function isRegexRule(rule: string): boolean {
  return rule.length >= 2 && rule.startsWith('/') && rule.endsWith('/');
}

function compileRule(rule: string): RegExp | undefined {
  try {
    // Anchored at both ends: `/0[1-9]+/` must describe the whole number, not a part of it.
    return new RegExp(`^(?:${rule.slice(1, -1)})$`);
  } catch {
    return undefined;
  }
}

/** Why a number rule is unusable, for config validation; undefined when it is fine. */
export function ruleProblem(rule: string): string | undefined {
  if (isRegexRule(rule)) {
    return compileRule(rule) ? undefined : `rule ${JSON.stringify(rule)} is not a valid regular expression`;
  }
  const prefix = rule.replace(SEPARATORS, '');
  if (prefix === '') return 'an empty prefix rule would match every number';
  if (!/^[0-9*#+]+$/.test(prefix)) {
    return `prefix rule ${JSON.stringify(rule)} may contain only digits, *, # and + (or be a /regex/)`;
  }
  return undefined;
}

/** Why a modifiers setting is unusable; undefined when every character is a known dial modifier. */
export function modifiersProblem(modifiers: string): string | undefined {
  const bad = [...modifiers].filter((c) => !DIAL_MODIFIERS.includes(c));
  return bad.length ? `dial modifiers may only be chosen from "${DIAL_MODIFIERS}"` : undefined;
}

/**
 * A rule matches a prefix of the number without pauses (so `0,900` cannot slip past
 * a deny of `0900`), a /regex/ the whole number with or without pauses. A broken
 * rule counts as a match for deny (refuse when unsure) and a miss for allow.
 */
function ruleMatches(rule: string, dial: string, bare: string, failClosed: boolean): boolean {
  if (isRegexRule(rule)) {
    const re = compileRule(rule);
    if (!re) return failClosed;
    return re.test(dial) || re.test(bare);
  }
  const prefix = rule.replace(SEPARATORS, '');
  if (prefix === '') return failClosed;
  return bare.startsWith(prefix);
}

export function checkNumber(rules: NumberRules, typed: string): NumberCheck {
  if (typeof typed !== 'string') return { ok: false, reason: 'no number given' };
  if (typed.length > MAX_TYPED_LENGTH) return { ok: false, reason: 'the number is far too long' };
  const dial = typed.replace(SEPARATORS, '');
  if (dial === '') return { ok: false, reason: 'no number given' };

  // Only modifiers that are both allowed by the rules and known dial modifiers.
  const modifiers = [...rules.modifiers].filter((c) => DIAL_MODIFIERS.includes(c));
  for (const c of dial) {
    if (!(c >= '0' && c <= '9') && !modifiers.includes(c)) {
      const allowed = modifiers.length ? `digits and ${modifiers.join(' ')}` : 'digits';
      return { ok: false, reason: `the number may contain only ${allowed}` };
    }
  }
  if (dial.indexOf('+') > 0) return { ok: false, reason: '+ is only allowed at the start of a number' };

  const digits = dial.replace(/[^0-9]/g, '').length;
  if (digits < rules.minLength) {
    return { ok: false, reason: `the number has ${digits} digits, at least ${rules.minLength} are needed` };
  }
  if (digits > rules.maxLength) {
    return { ok: false, reason: `the number has ${digits} digits, at most ${rules.maxLength} are allowed` };
  }
  if (!isDialable(dial)) return { ok: false, reason: 'the number cannot be dialled' };

  const bare = dial.replace(/[,W]/g, '');
  for (const rule of rules.deny) {
    if (ruleMatches(rule, dial, bare, true)) {
      return { ok: false, reason: `the number is refused by deny rule ${JSON.stringify(rule)}` };
    }
  }
  if (rules.allow.length > 0 && !rules.allow.some((rule) => ruleMatches(rule, dial, bare, false))) {
    return { ok: false, reason: 'the number matches none of the allowed numbers' };
  }
  return { ok: true, dial };
}

// Modems and exchanges report a withheld or unavailable number in these ways.
const NO_NUMBER = new Set(['', 'NONE', 'O', 'P', 'OUT OF AREA', 'PRIVATE', 'UNAVAILABLE', 'ANONYMOUS']);

/** The caller ID as compared by screening; undefined when no number was delivered. */
export function normaliseCallerId(callerId: string | undefined): string | undefined {
  if (callerId === undefined) return undefined;
  const s = callerId.trim();
  return NO_NUMBER.has(s.toUpperCase()) ? undefined : s;
}

/**
 * mgetty dialin.config semantics: tokens are tried in order, each a prefix of the
 * caller ID; `!` in front means refuse on a match; `all` matches any call (with or
 * without a number); `none` matches a call that delivered no number. The first
 * matching token decides; when none matches the call is accepted (an implicit
 * `all` at the end), so an allow-list must end with `!all`.
 */
export function screenCallerId(rules: string[], callerId: string | undefined): boolean {
  const number = normaliseCallerId(callerId);
  for (const raw of rules) {
    const token = raw.trim();
    const negated = token.startsWith('!');
    const body = negated ? token.slice(1) : token;
    // An empty token would match everything by prefix; config validation refuses it.
    if (body === '') continue;
    let match: boolean;
    if (body === 'all') match = true;
    else if (body === 'none') match = number === undefined;
    else match = number !== undefined && number.startsWith(body);
    if (match) return !negated;
  }
  return true;
}

/**
 * The number to dial for an entry: the caller's typed number checked against the
 * entry's rules, or the configured fixed one (checked as dialable all the same).
 */
export function resolveCallback(entry: CallbackEntry, typed?: string): NumberCheck {
  if (entry.callerSupplies) {
    if (typed === undefined) return { ok: false, reason: 'no number given' };
    return checkNumber(entry.rules, typed);
  }
  if (entry.number === undefined) return { ok: false, reason: 'the entry has no call-back number' };
  const dial = entry.number.replace(SEPARATORS, '');
  if (!isDialable(dial)) return { ok: false, reason: 'the configured call-back number cannot be dialled' };
  return { ok: true, dial };
}
