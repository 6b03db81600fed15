import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { configWarnings } from '../../src/config/warnings.js';
import { configProblems, oneLineConfig } from '../helpers/config-problems.js';

// `trigger = "ring"` entries: what check-config accepts, refuses (file:line: key: reason)
// and warns about.

const base = (entries: string, line = 'rings = 2'): string => oneLineConfig(entries, line);

const HOME = `
[[callbacks]]
name = "home"
trigger = "ring"
caller_id = ["0301234", "+49 40 555", "!all"]
number = "5376443"
ring_gap = "8s"
`;

const problems = configProblems;

describe('config: ring-back entries', () => {
  it('reads a ring entry', () => {
    const cfg = parseConfig(base(HOME), 'cb.toml');
    expect(cfg.callbacks[0]).toMatchObject({
      name: 'home',
      trigger: 'ring',
      number: '5376443',
      ringGapMs: 8_000,
      callerId: ['0301234', '+4940555', '!all'],
    });
  });

  it('leaves ordinary entries as they were', () => {
    const cfg = parseConfig(base('[[callbacks]]\nname = "call"\nnumber = "123456"\n'), 'cb.toml');
    expect(cfg.callbacks[0]?.trigger).toBeUndefined();
    expect(cfg.callbacks[0]?.ringGapMs).toBeUndefined();
  });

  it.each([
    ['trigger = "phone"', 'trigger = "ring"', 'callbacks[0].trigger: must be "login" or "ring"'],
    [
      'caller_id = []',
      'caller_id = ["0301234", "+49 40 555", "!all"]',
      'callbacks[0].caller_id: trigger = "ring" needs',
    ],
    ['caller_id = ["0301234"]', 'caller_id = ["0301234", "+49 40 555", "!all"]', 'must end in "!all"'],
    [
      'caller_id = ["all", "!all"]',
      'caller_id = ["0301234", "+49 40 555", "!all"]',
      'callbacks[0].caller_id[0]: "all" in a ring-back list',
    ],
    [
      'caller_id = ["none", "!all"]',
      'caller_id = ["0301234", "+49 40 555", "!all"]',
      '"none" in a ring-back list',
    ],
    [
      'caller_id = ["!030", "!all"]',
      'caller_id = ["0301234", "+49 40 555", "!all"]',
      'needs at least one caller-ID number',
    ],
    [
      'caller_id = ["03x", "!all"]',
      'caller_id = ["0301234", "+49 40 555", "!all"]',
      'is not a caller-ID rule',
    ],
    ['ring_gap = "0s"', 'ring_gap = "8s"', 'callbacks[0].ring_gap'],
  ])('refuses %s', (bad, good, reason) => {
    const found = problems(base(HOME.replace(good, bad)));
    expect(found.join('\n')).toContain(reason);
    expect(found[0]).toMatch(/^cb\.toml:\d+: /);
  });

  it('refuses a caller-supplied number, a PIN, and a ring entry without a number', () => {
    const pin = 'scrypt$16384$8$1$prTiTSzmkTUQcOCVAlFOIg==$rGhrZBikqVMuOAV2uFu17IPHXn1rRoLfKVwabzQ5wow=';
    expect(
      problems(
        base(HOME.replace('number = "5376443"', 'caller_supplies = true\n[callbacks.rules]\nallow = ["0"]')),
      ).join('\n'),
    ).toContain("callbacks[0].caller_supplies: a ring-back calls back only the entry's own number");
    expect(problems(base(`${HOME}pin_hash = "${pin}"\n`)).join('\n')).toContain(
      'callbacks[0].pin_hash: a ring-back has no login to ask for a PIN',
    );
    expect(problems(base(HOME.replace('number = "5376443"', ''))).join('\n')).toContain(
      'needs either number',
    );
  });

  it('refuses ring_gap on a login entry', () => {
    expect(
      problems(base('[[callbacks]]\nname = "call"\nnumber = "1"\nring_gap = "8s"\n')).join('\n'),
    ).toContain('callbacks[0].ring_gap: is only used with trigger = "ring"');
  });

  it('refuses two ring entries that would both take one caller ID', () => {
    const other = HOME.replace('"home"', '"office"').replace(
      '["0301234", "+49 40 555", "!all"]',
      '["030", "!all"]',
    );
    const found = problems(base(HOME + other));
    expect(found.join('\n')).toContain(
      'callbacks[1].caller_id: caller ID "030" overlaps "0301234" of ring-back entry "home"',
    );
  });

  it('warns when an answering line picks up at the first RING, before the caller ID', () => {
    const warnings = configWarnings(parseConfig(base(HOME, 'rings = 1'), 'cb.toml'));
    expect(warnings).toEqual([expect.objectContaining({ key: 'lines[0].rings' })]);
    expect(configWarnings(parseConfig(base(HOME), 'cb.toml'))).toEqual([]);
    expect(configWarnings(parseConfig(base(HOME, 'rings = 1\nanswer = false'), 'cb.toml'))).toEqual([]);
  });
});
