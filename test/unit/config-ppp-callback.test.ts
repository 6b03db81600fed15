import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { configWarnings } from '../../src/config/warnings.js';
import { configProblems, oneLineConfig } from '../helpers/config-problems.js';

// `ppp_callback` on a line and `[callbacks.ppp]` on an entry: what check-config accepts,
// refuses (file:line: key: reason) and warns about.

/** The hash of "cbpin123". */
const HASH = 'scrypt$16384$8$1$Y2FsbGJhY2tkLXBwcGNiIQ==$KyR6IYjkSWPt0fyZ6pxIUnBUpevBsHeFzNPZXImCQTs=';

const base = (entries: string, line = 'ppp_callback = true'): string => oneLineConfig(entries, line);

const CBUSER = `
[[callbacks]]
name = "cbuser"
number = "5376443"
pin_hash = "${HASH}"

[callbacks.ppp]
types = ["admin"]
`;

const ROAMER = `
[[callbacks]]
name = "roamer"
caller_supplies = true
pin_hash = "${HASH}"
rules = { allow = ["0301"], min_length = 6, max_length = 12 }

[callbacks.ppp]
types = ["user", "none"]
without_cbcp = "pppd"
max_delay = "30s"
`;

const problems = configProblems;

describe('config: call-back inside PPP', () => {
  it('reads the line switch and the entry table with its defaults', () => {
    const cfg = parseConfig(base(CBUSER + ROAMER), 'cb.toml');
    expect(cfg.lines[0]?.pppCallback).toBe(true);
    expect(cfg.callbacks[0]?.ppp).toEqual({ types: ['admin'], withoutCbcp: 'refuse', maxDelayMs: 60_000 });
    expect(cfg.callbacks[1]?.ppp).toEqual({
      types: ['user', 'none'],
      withoutCbcp: 'pppd',
      maxDelayMs: 30_000,
    });
  });

  it('leaves lines and entries without the keys as they were', () => {
    const cfg = parseConfig(base('[[callbacks]]\nname = "call"\nnumber = "123456"\n', ''), 'cb.toml');
    expect(cfg.lines[0]?.pppCallback).toBeUndefined();
    expect(cfg.callbacks[0]?.ppp).toBeUndefined();
  });

  it.each([
    [
      'types = ["admin"]',
      'types = []',
      'callbacks[0].ppp.types: needs at least one of "none", "admin", "user"',
    ],
    ['types = ["admin"]', 'types = ["sms"]', 'callbacks[0].ppp.types[0]: "sms" is not a call-back type'],
    ['types = ["admin"]', 'types = ["admin", "admin"]', 'callbacks[0].ppp.types[1]: "admin" is listed twice'],
    [
      'types = ["admin"]',
      'types = ["user"]',
      'callbacks[0].ppp.types: "user" (a number the caller gives) needs',
    ],
    ['types = ["admin"]', 'types = ["none"]', 'callbacks[0].ppp.types: "none" alone offers no call-back'],
    [
      'types = ["admin"]',
      'types = ["admin"]\nwithout_cbcp = "maybe"',
      'without_cbcp: must be "refuse" or "pppd"',
    ],
    [
      'types = ["admin"]',
      'types = ["admin"]\nmax_delay = "5m"',
      'callbacks[0].ppp.max_delay: 300000 ms is outside',
    ],
    ['types = ["admin"]', 'types = ["admin"]\ncolour = "red"', 'callbacks[0].ppp.colour: unknown key'],
    [`pin_hash = "${HASH}"\n`, '', "callbacks[0].ppp: needs the entry's pin_hash: it is the PAP password"],
  ])('refuses %s -> %s', (from, to, expected) => {
    const text = base(CBUSER.replace(from, to));
    expect(problems(text).join('\n')).toContain(expected);
  });

  it('refuses "admin" on an entry without its own number', () => {
    const text = base(ROAMER.replace('types = ["user", "none"]', 'types = ["admin"]'));
    expect(problems(text).join('\n')).toContain(
      'callbacks[0].ppp.types: "admin" (the entry\'s own number) needs number',
    );
  });

  it('refuses a PPP table on a ring-back entry', () => {
    const text = base(
      '[[callbacks]]\nname = "home"\ntrigger = "ring"\ncaller_id = ["0301234", "!all"]\nnumber = "5376443"\n[callbacks.ppp]\ntypes = ["admin"]\n',
    );
    expect(problems(text).join('\n')).toContain('callbacks[0].ppp: a ring-back entry has no PPP login');
  });

  it('refuses ppp_callback on a line that does not answer', () => {
    const text = base(CBUSER, 'ppp_callback = true\nanswer = false');
    expect(problems(text).join('\n')).toContain('lines[0].ppp_callback: needs answer = true');
  });

  it('refuses a ppp_callback that is no boolean', () => {
    expect(problems(base(CBUSER, 'ppp_callback = "yes"')).join('\n')).toContain('lines[0].ppp_callback');
  });

  it('warns about a line without entries and an entry without lines', () => {
    const noEntry = configWarnings(
      parseConfig(base('[[callbacks]]\nname = "call"\nnumber = "123456"\n'), 'cb.toml'),
    );
    expect(noEntry.map((w) => `${w.key}: ${w.message}`)).toContainEqual(
      expect.stringContaining(
        'lines[0].ppp_callback: is true but no [[callbacks]] entry has a [callbacks.ppp] table',
      ),
    );
    const noLine = configWarnings(parseConfig(base(CBUSER, ''), 'cb.toml'));
    expect(noLine.map((w) => `${w.key}: ${w.message}`)).toContainEqual(
      expect.stringContaining('callbacks[0].ppp: no line has ppp_callback = true'),
    );
    const fine = configWarnings(parseConfig(base(CBUSER), 'cb.toml'));
    expect(fine.filter((w) => /ppp/.test(w.key))).toEqual([]);
  });

  it('does not warn about [callbacks.ppp] with [radius]: PAP inside PPP goes to RADIUS', () => {
    const radius = `
[radius]
secret_file = "/etc/callbackd/radius.secret"

[[radius.servers]]
address = "192.0.2.1"
`;
    const cfg = parseConfig(base(CBUSER + radius), 'cb.toml');
    expect(cfg.radius).toBeDefined();
    expect(configWarnings(cfg).filter((w) => /ppp/.test(w.key))).toEqual([]);
  });
});
