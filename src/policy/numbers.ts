import type { CallbackEntry, NumberRules } from '../config/types.js';
import { DIAL_MODIFIERS, isDialable, MAX_DIAL_LENGTH } from '../config/dial-string.js';
import { compileNumberRule, isRegexRule, SEPARATORS } from '../config/number-rules.js';

export { DIAL_MODIFIERS, isDialable, MAX_DIAL_LENGTH };
export { modifiersProblem, numberRuleProblem as ruleProblem } from '../config/number-rules.js';

/**
 * Phone numbers are the toll-fraud surface: whatever reaches ATD is dialled at the
 * owner's cost. Everything a caller types goes through checkNumber, which first
 * normalises the number and then applies every rule to that one form; the form
 * that passed is exactly what is dialled and what the per-number limit counts. The
 * modem checks the dial string again with the same dialStringProblem right before
 * ATD, so AT command text, `;` (return to command mode) or letters never reach it.
 *
 * Normal form (E.164 thinking, written the way the modem dials it):
 * - separators (space, - . ( )) are removed;
 * - a leading `+` is the international prefix and is dialled as the entry's
 *   `internationalPrefix` (default 00), so deny "00" refuses `+4930...`;
 * - with `countryCode` set, `+<cc>` and `<intl><cc>` become the national form
 *   (`nationalPrefix`, default 0): `+49 900...` is `0900...` and meets deny 0900;
 * - `*` and `#` are service codes (`*21*` forwards calls, `#31#` hides the caller
 *   ID): refused unless the entry sets `serviceCodes`; when allowed, every part
 *   between them is checked against deny, so `*21*0900...#` meets deny 0900.
 * Rules are normalised the same way (a deny of `+49900` equals `0900` for a German
 * line). Pauses (, W) stay in the dial string but are ignored by rules and limits.
 */

export type NumberCheck = { ok: true; dial: string } | { ok: false; reason: string };

// Anything longer is refused before any other work, so a flood of junk costs nothing.
const MAX_TYPED_LENGTH = 128;

interface Plan {
  intl: string;
  cc: string | undefined;
  national: string;
}

function planOf(rules: NumberRules): Plan {
  return {
    intl: rules.internationalPrefix ?? '00',
    cc: rules.countryCode,
    national: rules.nationalPrefix ?? '0',
  };
}

/** `+` to the international prefix, the own country to the national form. Input has no separators. */
function normalise(s: string, plan: Plan): string {
  let out = s.startsWith('+') ? plan.intl + s.slice(1) : s;
  if (plan.cc !== undefined && plan.cc !== '') {
    const own = plan.intl + plan.cc;
    // Pauses may sit anywhere; compare on the bare digits but keep them in the result.
    const bare = out.replace(/[,W]/g, '');
    if (bare.startsWith(own)) {
      let skip = own.length;
      let i = 0;
      while (skip > 0) {
        if (/[0-9]/.test(out[i] as string)) skip--;
        i++;
      }
      out = plan.national + out.slice(i);
    }
  }
  return out;
}

/**
 * A rule matches a prefix of the number without pauses (so `0,900` cannot slip past
 * a deny of `0900`), a /regex/ the whole number with or without pauses. A broken
 * rule counts as a match for deny (refuse when unsure) and a miss for allow.
 */
function ruleMatches(rule: string, forms: string[], plan: Plan, failClosed: boolean): boolean {
  if (isRegexRule(rule)) {
    const re = compileNumberRule(rule);
    if (!re) return failClosed;
    return forms.some((f) => re.test(f));
  }
  const prefix = normalise(rule.replace(SEPARATORS, ''), plan);
  if (prefix === '') return failClosed;
  return forms.some((f) => f.replace(/[,W]/g, '').startsWith(prefix));
}

export function checkNumber(rules: NumberRules, typed: string): NumberCheck {
  if (typeof typed !== 'string') return { ok: false, reason: 'no number given' };
  if (typed.length > MAX_TYPED_LENGTH) return { ok: false, reason: 'the number is far too long' };
  const stripped = typed.replace(SEPARATORS, '');
  if (stripped === '') return { ok: false, reason: 'no number given' };

  // Only modifiers that are both allowed by the rules and known dial modifiers.
  const modifiers = [...rules.modifiers].filter((c) => DIAL_MODIFIERS.includes(c));
  for (const c of stripped) {
    if (!(c >= '0' && c <= '9') && !modifiers.includes(c)) {
      const allowed = modifiers.length ? `digits and ${modifiers.join(' ')}` : 'digits';
      return { ok: false, reason: `the number may contain only ${allowed}` };
    }
  }
  if (stripped.indexOf('+') > 0) return { ok: false, reason: '+ is only allowed at the start of a number' };
  if (/[*#]/.test(stripped) && rules.serviceCodes !== true) {
    return { ok: false, reason: 'service codes (* and #) are not allowed for this entry' };
  }

  const plan = planOf(rules);
  const dial = normalise(stripped, plan);
  const digits = dial.replace(/[^0-9]/g, '').length;
  if (digits < rules.minLength) {
    return { ok: false, reason: `the number has ${digits} digits, at least ${rules.minLength} are needed` };
  }
  if (digits > rules.maxLength) {
    return { ok: false, reason: `the number has ${digits} digits, at most ${rules.maxLength} are allowed` };
  }
  if (!isDialable(dial)) return { ok: false, reason: 'the number cannot be dialled' };

  const bare = dial.replace(/[,W]/g, '');
  // Every part between service-code characters is a number of its own for deny.
  const parts = bare.split(/[*#]/).filter((p) => p !== '');
  const denyForms = [dial, bare, ...parts.map((p) => normalise(p, plan))];
  for (const rule of rules.deny) {
    if (ruleMatches(rule, denyForms, plan, true)) {
      return { ok: false, reason: `the number is refused by deny rule ${JSON.stringify(rule)}` };
    }
  }
  if (rules.allow.length > 0 && !rules.allow.some((rule) => ruleMatches(rule, [bare, dial], plan, false))) {
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
 * entry's rules, or the configured fixed one (normalised, and checked as dialable all
 * the same). This is the function the session calls right before it asks for the dial.
 */
export function resolveCallback(entry: CallbackEntry, typed?: string): NumberCheck {
  if (entry.callerSupplies) {
    if (typed === undefined) return { ok: false, reason: 'no number given' };
    return checkNumber(entry.rules, typed);
  }
  if (entry.number === undefined) return { ok: false, reason: 'the entry has no call-back number' };
  // The operator's number is trusted with * and #, but its + is dialled as the prefix too.
  const dial = normalise(entry.number.replace(SEPARATORS, ''), planOf(entry.rules));
  if (!isDialable(dial)) return { ok: false, reason: 'the configured call-back number cannot be dialled' };
  return { ok: true, dial };
}

/** The caller ID, or a caller-ID rule's number, in the entry's normal form (as a typed number is). */
function ringForm(entry: CallbackEntry, s: string): string {
  return normalise(s.replace(SEPARATORS, ''), planOf(entry.rules));
}

/**
 * Whether a ring from `callerId` may trigger this ring-back entry: its caller-ID list
 * read as mgetty's screening (prefixes, "!" refuses, first match decides), with both
 * sides normalised like every number (`+49 30 1234` and `0301234` are one caller on a
 * German line). No number delivered, or anything but digits, never matches: a
 * ring-back must know who rang. Login-triggered entries never match.
 */
export function ringCallerIdMatches(entry: CallbackEntry, callerId: string | undefined): boolean {
  if (entry.trigger !== 'ring') return false;
  const raw = normaliseCallerId(callerId);
  if (raw === undefined || raw.length > MAX_TYPED_LENGTH) return false;
  const number = ringForm(entry, raw);
  if (!/^[0-9]+$/.test(number)) return false;
  for (const rawToken of entry.callerId) {
    const token = rawToken.trim();
    const negated = token.startsWith('!');
    const body = negated ? token.slice(1) : token;
    let match: boolean;
    if (body === 'all') match = true;
    else if (body === 'none') match = false;
    else {
      const prefix = ringForm(entry, body);
      match = prefix !== '' && number.startsWith(prefix);
    }
    if (match) return !negated;
  }
  // Unlike login screening there is no implicit "all": unlisted means no ring-back.
  return false;
}

/** The ring-back entry a ring from this caller ID triggers, if any (the first listed). */
export function ringEntryFor(
  callbacks: readonly CallbackEntry[],
  callerId: string | undefined,
): CallbackEntry | undefined {
  return callbacks.find((c) => ringCallerIdMatches(c, callerId));
}
