import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loginNameProblem } from '../../src/config/rules.js';
import { validLoginName } from '../../src/login/names.js';
import { expandTokens, type TokenContext } from '../../src/login/tokens.js';

// Built from local components, so the test does not depend on the machine's time zone.
const now = new Date(2026, 0, 2, 3, 4, 5);
const ctx: TokenContext = {
  tty: 'ttyS1',
  callerId: '5551234',
  connect: 'CONNECT 33600/ARQ',
  speed: 115200,
  host: 'gate',
  now,
  number: '0301234',
};

describe('expandTokens', () => {
  it.each([
    ['@ login: ', 'gate login: '],
    ['\\P \\L', 'ttyS1 ttyS1'],
    ['from \\Y', 'from 5551234'],
    ['\\I at \\S', 'CONNECT 33600/ARQ at 115200'],
    ['\\D \\T', '2026-01-02 03:04:05'],
    ['calling \\N', 'calling 0301234'],
    ['a\\tb\\bc\\gd', 'a\tb\bc\x07d'],
    ['back\\\\slash \\@', 'back\\slash @'],
    ['\\q stays', '\\q stays'],
    ['trailing \\', 'trailing \\'],
  ])('%j -> %j', (template, out) => {
    expect(expandTokens(template, ctx)).toBe(out);
  });

  it('turns every line end into CR LF for the raw terminal', () => {
    expect(expandTokens('a\\nb\nc\\r\\nd\r\ne', ctx)).toBe('a\r\nb\r\nc\r\nd\r\ne');
  });

  it('shows "none" for a missing caller ID and nothing for missing values', () => {
    const bare: TokenContext = { tty: 'ttyS0', host: 'h', now };
    expect(expandTokens('[\\Y][\\I][\\S][\\N]', bare)).toBe('[none][][][]');
  });

  it('never expands tokens inside values, and strips control bytes from them', () => {
    const hostile = { ...ctx, callerId: '\\P@\x1b[2J\r\n', connect: 'CONNECT\x07' };
    expect(expandTokens('\\Y|\\I', hostile)).toBe('\\P@[2J|CONNECT');
  });
});

describe('validLoginName', () => {
  it.each([
    ['call', true],
    ['alice.b_c-d', true],
    ['a b', false], // no config can name it, so it is refused before the policy
    ['', false],
    ['-f root', false],
    [' call', false],
    ['caf\u00e9', false],
    ['tab\there', false],
    ['nul\x00', false],
    ['x'.repeat(32), true],
    ['x'.repeat(33), false],
  ])('%j -> %s', (name, ok) => {
    expect(validLoginName(name)).toBe(ok);
  });

  it('is the same rule as the config loader: a name can be typed exactly when it can be configured', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ab.-_ 9\t!é'), maxLength: 40 }), (name) => {
        expect(validLoginName(name, 32)).toBe(loginNameProblem(name, 32) === undefined);
      }),
      { numRuns: 5000 },
    );
  });

  it('honours the configured maximum', () => {
    expect(validLoginName('abcd', 4)).toBe(true);
    expect(validLoginName('abcde', 4)).toBe(false);
  });
});
