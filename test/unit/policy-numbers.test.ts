import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CallbackEntry, NumberRules } from '../../src/config/types.js';
import {
  checkNumber,
  isDialable,
  modifiersProblem,
  resolveCallback,
  ruleProblem,
  screenCallerId,
} from '../../src/policy/numbers.js';

function rules(extra: Partial<NumberRules> = {}): NumberRules {
  return { allow: [], deny: [], minLength: 3, maxLength: 15, modifiers: '', ...extra };
}
function reason(r: ReturnType<typeof checkNumber>): string {
  return r.ok ? '' : r.reason;
}

describe('checkNumber', () => {
  it('strips the separators people type', () => {
    expect(checkNumber(rules(), ' (030) 555-12.34 ')).toEqual({ ok: true, dial: '0305551234' });
  });

  it('refuses empty input', () => {
    expect(reason(checkNumber(rules(), ''))).toMatch(/no number/);
    expect(reason(checkNumber(rules(), ' - ( ) ')).length).toBeGreaterThan(0);
  });

  it.each([
    ['5551234;', 'semicolon returns the modem to command mode'],
    ['5551234;ATH', 'AT command text'],
    ['555ATZ', 'letters'],
    ['555\r\nATZ', 'line breaks'],
    ['555,1234', 'a pause not allowed by the rules'],
    ['+495551234', 'a + not allowed by the rules'],
    ['555\x001234', 'NUL'],
    ['５５５１２３４', 'non-ASCII digits'],
  ])('refuses %j (%s)', (typed) => {
    const r = checkNumber(rules(), typed);
    expect(r.ok).toBe(false);
  });

  it('allows only the modifiers the rules name, and never ; or letters even if named', () => {
    const r = rules({ modifiers: ',W+;Lx' });
    expect(checkNumber(r, '0W555,1234')).toEqual({ ok: true, dial: '0W555,1234' });
    // + is the international prefix and is dialled as such (00 unless the rules say otherwise).
    expect(checkNumber(r, '+495551234')).toEqual({ ok: true, dial: '00495551234' });
    expect(checkNumber(r, '555;').ok).toBe(false);
    expect(checkNumber(r, '555L').ok).toBe(false);
    expect(checkNumber(r, '49+5551234').ok).toBe(false); // + only at the start
    expect(checkNumber(r, '0w5551234').ok).toBe(false); // W is case-sensitive, as the modem's
  });

  it('counts digits for the length limits', () => {
    const r = rules({ minLength: 4, maxLength: 6, modifiers: ',' });
    expect(checkNumber(r, '123').ok).toBe(false);
    expect(checkNumber(r, '1,2,3').ok).toBe(false);
    expect(checkNumber(r, '1234').ok).toBe(true);
    expect(checkNumber(r, '123456').ok).toBe(true);
    expect(reason(checkNumber(r, '1234567'))).toMatch(/at most 6/);
  });

  it('refuses numbers longer than a modem command line holds', () => {
    const r = rules({ maxLength: 100 });
    expect(checkNumber(r, '1'.repeat(40)).ok).toBe(true);
    expect(checkNumber(r, '1'.repeat(41)).ok).toBe(false);
    expect(checkNumber(r, '1'.repeat(10_000)).ok).toBe(false);
  });

  it('applies allow prefixes and regexes, anchored', () => {
    const r = rules({ allow: ['030', '/0[1-9]{2}555[0-9]{4}/'] });
    expect(checkNumber(r, '0301234').ok).toBe(true);
    expect(checkNumber(r, '0415551234').ok).toBe(true);
    expect(checkNumber(r, '04155512345').ok).toBe(false); // regex must match the whole number
    expect(checkNumber(r, '90415551234').ok).toBe(false);
    expect(reason(checkNumber(r, '0401234'))).toMatch(/none of the allowed/);
  });

  it('deny wins over allow, also with pauses in between', () => {
    const r = rules({ allow: ['0'], deny: ['0900', '/0190.*/'], modifiers: ',W' });
    expect(reason(checkNumber(r, '09001234'))).toMatch(/deny rule "0900"/);
    expect(checkNumber(r, '0,900,1234').ok).toBe(false);
    expect(checkNumber(r, '0W9001234').ok).toBe(false);
    expect(checkNumber(r, '0190,1234').ok).toBe(false);
    expect(checkNumber(r, '0301234').ok).toBe(true);
  });

  it('a broken deny regex refuses everything, a broken allow regex allows nothing', () => {
    expect(checkNumber(rules({ deny: ['/(/'] }), '5551234').ok).toBe(false);
    expect(checkNumber(rules({ allow: ['/(/'] }), '5551234').ok).toBe(false);
  });

  it('gives reasons without the typed text (safe to log)', () => {
    const r = checkNumber(rules(), '555\x1b[2J;ATH');
    expect(r.ok).toBe(false);
    expect(reason(r)).not.toMatch(/ATH|\x1b/);
  });

  const anyRules = fc.record({
    allow: fc.array(fc.oneof(fc.stringMatching(/^[0-9]{1,4}$/), fc.constant('/[0-9]*/'))),
    deny: fc.array(fc.stringMatching(/^[0-9]{1,3}$/), { maxLength: 3 }),
    minLength: fc.integer({ min: 0, max: 8 }),
    maxLength: fc.integer({ min: 0, max: 30 }),
    modifiers: fc.stringMatching(/^[,W*#+;A-Za-z]{0,5}$/),
  });

  it('property: an accepted number holds only digits and allowed dial modifiers, and is dialable', () => {
    fc.assert(
      fc.property(anyRules, fc.string({ maxLength: 40 }), (r, typed) => {
        const res = checkNumber(r, typed);
        if (!res.ok) return;
        for (const c of res.dial) {
          expect(/[0-9]/.test(c) || (r.modifiers.includes(c) && ',W*#+'.includes(c))).toBe(true);
        }
        expect(isDialable(res.dial)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: whatever the allow list says, a number starting with a denied prefix is refused', () => {
    fc.assert(
      fc.property(
        anyRules,
        fc.stringMatching(/^[0-9]{1,3}$/),
        fc.stringMatching(/^[0-9,]{0,10}$/),
        (r, denied, rest) => {
          const withDeny = { ...r, deny: [...r.deny, denied], allow: [...r.allow, denied], modifiers: ',' };
          expect(checkNumber(withDeny, denied + rest).ok).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('isDialable', () => {
  it.each([
    ['5551234', true],
    ['0W555,12*34#', true],
    ['+495551234', true],
    ['', false],
    [',,,', false],
    ['555;', false],
    ['ATZ', false],
    ['555 1234', false],
    ['w5551234', false],
    ['1'.repeat(41), false],
  ])('%j -> %s', (s, ok) => {
    expect(isDialable(s)).toBe(ok);
  });
});

describe('ruleProblem / modifiersProblem', () => {
  it('explains unusable rules', () => {
    expect(ruleProblem('030')).toBeUndefined();
    expect(ruleProblem('/0[1-9]+/')).toBeUndefined();
    expect(ruleProblem('/(/')).toMatch(/regular expression/);
    expect(ruleProblem('')).toMatch(/every number/);
    expect(ruleProblem('03a')).toMatch(/only digits/);
    expect(modifiersProblem(',W')).toBeUndefined();
    expect(modifiersProblem(';')).toMatch(/modifiers/);
  });
});

describe('screenCallerId (mgetty dialin.config semantics)', () => {
  it('accepts everything with an empty list (implicit all)', () => {
    expect(screenCallerId([], '5551234')).toBe(true);
    expect(screenCallerId([], undefined)).toBe(true);
  });

  it('compares prefixes in order; the first match decides', () => {
    const rules = ['!0301', '030', '!all'];
    expect(screenCallerId(rules, '0301234')).toBe(false);
    expect(screenCallerId(rules, '0305555')).toBe(true);
    expect(screenCallerId(rules, '0405555')).toBe(false);
    expect(screenCallerId(rules, undefined)).toBe(false); // !all matches "no number" too
  });

  it('accepts when nothing matches (implicit all at the end)', () => {
    expect(screenCallerId(['!0900'], '0301234')).toBe(true);
    expect(screenCallerId(['!0900'], '09001234')).toBe(false);
    expect(screenCallerId(['030'], '0401234')).toBe(true);
  });

  it('none stands for a call that delivered no number', () => {
    const rules = ['!none'];
    expect(screenCallerId(rules, undefined)).toBe(false);
    expect(screenCallerId(rules, '')).toBe(false);
    expect(screenCallerId(rules, 'P')).toBe(false);
    expect(screenCallerId(rules, 'O')).toBe(false);
    expect(screenCallerId(rules, 'OUT OF AREA')).toBe(false);
    expect(screenCallerId(rules, '5551234')).toBe(true);
    expect(screenCallerId(['none', '!all'], undefined)).toBe(true);
    expect(screenCallerId(['none', '!all'], '5551234')).toBe(false);
  });

  it('all matches a call with or without a number', () => {
    expect(screenCallerId(['!all'], '5551234')).toBe(false);
    expect(screenCallerId(['!all'], undefined)).toBe(false);
    expect(screenCallerId(['all', '!5'], '5551234')).toBe(true);
  });

  it('skips empty tokens instead of letting them match everything', () => {
    expect(screenCallerId(['!', ' ', '!0900'], '5551234')).toBe(true);
  });
});

describe('resolveCallback', () => {
  const base: CallbackEntry = {
    name: 'call',
    callerSupplies: false,
    number: '555-1234',
    rules: rules({ allow: ['030'] }),
    callerId: [],
    delayMs: 0,
    attempts: 1,
    retryDelayMs: 0,
    dialLines: [],
  };

  it('uses the fixed number, cleaned, and ignores what the caller typed', () => {
    expect(resolveCallback(base)).toEqual({ ok: true, dial: '5551234' });
    expect(resolveCallback(base, '0301234')).toEqual({ ok: true, dial: '5551234' });
  });

  it('still refuses a fixed number that cannot be dialled', () => {
    expect(resolveCallback({ ...base, number: '5551234;ATH' }).ok).toBe(false);
    expect(resolveCallback({ ...base, number: undefined }).ok).toBe(false);
  });

  it('checks a caller-supplied number against the entry rules', () => {
    const e = { ...base, callerSupplies: true, number: undefined };
    expect(resolveCallback(e, '030 1234')).toEqual({ ok: true, dial: '0301234' });
    expect(resolveCallback(e, '0401234').ok).toBe(false);
    expect(resolveCallback(e).ok).toBe(false);
  });
});
