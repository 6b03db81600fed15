import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CallbackEntry, NumberRules } from '../../src/config/types.js';
import { dialStringProblem } from '../../src/config/dial-string.js';
import { checkNumber, resolveCallback } from '../../src/policy/numbers.js';
import { numberKey } from '../../src/policy/limits.js';

function rules(extra: Partial<NumberRules> = {}): NumberRules {
  return { allow: [], deny: [], minLength: 3, maxLength: 20, modifiers: '', ...extra };
}
const tollDeny = rules({ deny: ['0900', '0190', '00'], modifiers: '*#+' });

describe('typed numbers are normalised before every rule (issue 8 item 9)', () => {
  it.each([
    ['*21*0900123456#', 'a call-forwarding service code around a denied number'],
    ['#31#0190123456', 'caller-ID suppression in front of a denied number'],
    ['+4930123456', '+ is the international prefix, denied as 00'],
    ['0301234#', 'a trailing # is a service-code character'],
  ])('refuses %j (%s)', (typed) => {
    expect(checkNumber(tollDeny, typed).ok).toBe(false);
  });

  it('dials + as the entry international prefix, and checks that form', () => {
    const r = rules({ allow: ['0'], deny: ['0900'], modifiers: '+' });
    expect(checkNumber(r, '+4930123456')).toMatchObject({ ok: true, dial: '004930123456' });
    const nanp = rules({ allow: ['011'], modifiers: '+', internationalPrefix: '011' });
    expect(checkNumber(nanp, '+4930123456')).toMatchObject({ ok: true, dial: '0114930123456' });
  });

  it('turns the own country code into the national form, so +49 900 meets deny 0900', () => {
    const r = rules({ allow: ['0'], deny: ['0900'], modifiers: '+', countryCode: '49' });
    expect(checkNumber(r, '+49900123456').ok).toBe(false);
    expect(checkNumber(r, '0049900123456').ok).toBe(false);
    expect(checkNumber(r, '+4930123456')).toMatchObject({ ok: true, dial: '030123456' });
    // A rule written in international form means the same destination.
    const r2 = rules({ allow: ['0'], deny: ['+49900'], modifiers: '+', countryCode: '49' });
    expect(checkNumber(r2, '0900123456').ok).toBe(false);
  });

  it('service codes pass only when the entry allows them, and deny still sees every part', () => {
    const r = rules({ allow: ['/.*/'], deny: ['0900', '0190'], modifiers: '*#', serviceCodes: true });
    expect(checkNumber(r, '*21*0900123456#').ok).toBe(false);
    expect(checkNumber(r, '#31#0190123456').ok).toBe(false);
    expect(checkNumber(r, '#31#030123456').ok).toBe(true);
  });

  it('one destination is one limit key', () => {
    const r = rules({ modifiers: ',#', serviceCodes: true });
    const a = checkNumber(r, '0301234#');
    const b = checkNumber(r, '0301234##');
    const c = checkNumber(r, '030,1234');
    expect(a.ok && b.ok && c.ok).toBe(true);
    if (a.ok && b.ok && c.ok) {
      expect(numberKey(a.dial)).toBe(numberKey(b.dial));
      expect(numberKey(a.dial)).toBe(numberKey(c.dial));
    }
  });
});

function entry(r: NumberRules): CallbackEntry {
  return {
    name: 'call',
    callerSupplies: true,
    rules: r,
    callerId: [],
    delayMs: 0,
    attempts: 1,
    retryDelayMs: 0,
    dialLines: [],
  };
}

/** An independent statement of the rules, on the digits that reach ATD. */
function withinRules(r: NumberRules, dial: string): boolean {
  if (dialStringProblem(dial) !== undefined) return false;
  const allowed = new Set([...'0123456789', ...r.modifiers.replace(/[+]/g, '')]);
  if (![...dial].every((c) => allowed.has(c))) return false;
  if (!r.serviceCodes && /[*#]/.test(dial)) return false;
  const parts = dial.replace(/[,W]/g, '').split(/[*#]/);
  return !parts.some((p) => r.deny.some((d) => p.startsWith(d)));
}

describe('property: nothing outside the entry rules reaches ATD', () => {
  const typed = fc.oneof(
    fc.string({ unit: fc.constantFrom(...'0123456789+*#,W ;-()ATDHZ\r'), maxLength: 30 }),
    fc.string({ maxLength: 30 }),
  );
  const ruleSets = fc.record({
    deny: fc.constantFrom(['0900', '0190', '00'], ['00'], ['0900', '0190']),
    modifiers: fc.constantFrom('', '*#+', ',W*#+', '+', ','),
    serviceCodes: fc.boolean(),
    countryCode: fc.constantFrom<string | undefined>(undefined, '49'),
  });

  it('resolveCallback (what the session dials) only yields dial strings inside the rules', () => {
    fc.assert(
      fc.property(typed, ruleSets, (t, extra) => {
        const r = rules({ ...extra, deny: [...extra.deny], minLength: 1, maxLength: 30 });
        const got = resolveCallback(entry(r), t);
        if (got.ok) expect(withinRules(r, got.dial)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });
});
