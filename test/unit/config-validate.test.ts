import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { CallbackdError, isCallbackdError } from '../../src/errors.js';

const HASH = 'scrypt$16384$8$1$prTiTSzmkTUQcOCVAlFOIg==$rGhrZBikqVMuOAV2uFu17IPHXn1rRoLfKVwabzQ5wow=';

/** A small valid config; tests edit one line of it and expect exactly that line reported. */
const BASE = `[daemon]
lock_dir = "/var/lock"

[timing]
answer = "80s"

[[lines]]
device = "/dev/ttyS1"
dial_prefix = "ATDT"
rings = 1
speed = 115200

[[lines]]
device = "/dev/ttyS2"
name = "out"
answer = false

[[callbacks]]
name = "call"
number = "123456"
dial_lines = ["out"]

[[callbacks]]
name = "roam"
caller_supplies = true
pin_hash = "${HASH}"

[callbacks.rules]
allow = ["0", "/^[2-9]/"]
deny = ["0900"]
min_length = 6
max_length = 15

[[ppp_users]]
name = "pppuser"
password_hash = "${HASH}"

[security.lockout]
max_failures = 5

[pppd]
options = ["require-pap"]
local_address = "192.168.1.1"
remote_address = "192.168.1.2"
`;

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'test.toml');
  } catch (e) {
    if (!isCallbackdError(e, 'CONFIG_INVALID')) throw e;
    return e.message.split('\n').slice(1);
  }
  return [];
}

/** 1-based line of the first line containing needle. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`test bug: ${needle} not in text`);
  return i + 1;
}

/**
 * Replace `from` in BASE by `to` and expect exactly one problem, at `path`, on the
 * line of `to` (its first line, or line `at` of a several-line replacement).
 */
function expectOne(from: string, to: string, path: string, reason: RegExp, at = 0): void {
  const idx = BASE.indexOf(from);
  if (idx < 0) throw new Error(`test bug: ${from} not in BASE`);
  const text = BASE.slice(0, idx) + to + BASE.slice(idx + from.length);
  const line = BASE.slice(0, idx).split('\n').length + at;
  const problems = problemsOf(text);
  expect(problems).toHaveLength(1);
  expect(problems[0]).toMatch(new RegExp(`^test\\.toml:${line}: ${path.replace(/[[\].]/g, '\\$&')}: `));
  expect(problems[0]).toMatch(reason);
}

describe('parseConfig validation', () => {
  it('accepts the base config', () => {
    const cfg = parseConfig(BASE, 'test.toml');
    expect(cfg.lines.map((l) => l.name)).toEqual(['ttyS1', 'out']);
    expect(cfg.callbacks[1]!.rules.allow).toEqual(['0', '/^[2-9]/']);
  });

  it.each([
    ['device = "/dev/ttyS1"', 'device = "ttyS1"', 'lines[0].device', /not an absolute path/],
    ['dial_prefix = "ATDT"', 'dial_prefix = "ATDT;H"', 'lines[0].dial_prefix', /ATD, ATDT or ATDP/],
    ['rings = 1', 'rings = 0', 'lines[0].rings', /outside 1\.\.20/],
    ['rings = 1', 'rings = 21', 'lines[0].rings', /outside 1\.\.20/],
    ['speed = 115200', 'speed = 100000', 'lines[0].speed', /not a standard speed/],
    ['number = "123456"', 'number = "123456;ATH"', 'callbacks[0].number', /only digits/],
    ['number = "123456"', 'number = "123456"\ncaller_supplies = true', 'callbacks[0].number', /exclude/],
    ['name = "call"', 'name = "-call"', 'callbacks[0].name', /must not start with "-"/],
    ['name = "call"', 'name = "ca ll"', 'callbacks[0].name', /only letters/],
    ['name = "call"', `name = "${'c'.repeat(33)}"`, 'callbacks[0].name', /longer than 32/],
    ['name = "call"', 'name = "pppuser"', 'callbacks[0].name', /also a PPP user/],
    ['name = "roam"', 'name = "call"', 'callbacks[1].name', /defined twice/],
    [
      'dial_lines = ["out"]',
      'dial_lines = ["nope"]',
      'callbacks[0].dial_lines[0]',
      /no line is named "nope"/,
    ],
    ['min_length = 6', 'min_length = 16', 'callbacks[1].rules.min_length', /larger than max_length/],
    ['max_length = 15', 'max_length = 99', 'callbacks[1].rules.max_length', /outside 1\.\.32/],
    ['deny = ["0900"]', 'deny = ["0900", "09x"]', 'callbacks[1].rules.deny[1]', /may contain only digits/],
    ['deny = ["0900"]', 'deny = ["/[0-9/"]', 'callbacks[1].rules.deny[0]', /not a valid regular expression/],
    ['allow = ["0", "/^[2-9]/"]', 'allow = []', 'callbacks[1].rules.allow', /at least one allow/],
    [`pin_hash = "${HASH}"`, 'pin_hash = "2468"', 'callbacks[1].pin_hash', /not a callbackd scrypt hash/],
    [`password_hash = "${HASH}"`, 'password_hash = "x"', 'ppp_users[0].password_hash', /scrypt/],
    ['name = "pppuser"', 'name = "ppp user"', 'ppp_users[0].name', /only letters/],
    ['options = ["require-pap"]', 'options = ["require-pap", "a\\nb"]', 'pppd.options', /newline/],
    ['options = ["require-pap"]', 'options = ["require-pap", 3]', 'pppd.options', /array of strings/],
    ['options = ["require-pap"]', 'path = "pppd"', 'pppd.path', /absolute/],
    ['local_address = "192.168.1.1"', 'local_address = "192.168.1"', 'pppd.local_address', /IPv4/],
    ['remote_address = "192.168.1.2"', 'remote_address = "::1"', 'pppd.remote_address', /IPv4/],
    ['max_failures = 5', 'max_failures = 0', 'security.lockout.max_failures', /outside/],
    ['max_failures = 5', 'max_failures = 5\nwindow = "0s"', 'security.lockout.window', /outside/, 1],
    ['answer = "80s"', 'answer = "10ms"', 'timing.answer', /10 is outside 100\.\.300000 ms/],
    ['answer = "80s"', 'answer = "80"', 'timing.answer', /needs a unit/],
    ['answer = "80s"', 'answer = "eighty"', 'timing.answer', /not a duration/],
    ['answer = "80s"', 'reopen_min = "2m"', 'timing.reopen_min', /larger than reopen_max/],
    ['answer = false', 'answer = false\n[lines.timing]\ndial = "1h"', 'lines[1].timing.dial', /outside/, 2],
    ['lock_dir = "/var/lock"', 'lock_dir = "var/lock"', 'daemon.lock_dir', /absolute/],
    ['lock_dir = "/var/lock"', 'log_level = "loud"', 'daemon.log_level', /one of/],
  ] as [string, string, string, RegExp, number?][])(
    '%s -> %s is reported as %s',
    (from, to, path, reason, at) => {
      expectOne(from, to, path, reason, at);
    },
  );

  it('rejects two lines with one name, including a name derived from the device', () => {
    const text = BASE.replace('name = "out"', 'name = "ttyS1"').replace('["out"]', '["ttyS1"]');
    expect(problemsOf(text)).toEqual([
      `test.toml:${lineOf(text, 'name = "ttyS1"')}: lines[1].name: line name "ttyS1" is used twice (names default to the device's base name)`,
    ]);
  });

  it('rejects a line that neither answers nor dials out, and entries left without a line', () => {
    const text = BASE.replace('rings = 1', 'rings = 1\nanswer = false\ndial_out = false');
    expect(problemsOf(text)).toEqual([
      `test.toml:${lineOf(text, 'answer = false')}: lines[0].answer: a line with answer = false and dial_out = false is unused`,
      `test.toml:${lineOf(text, 'name = "roam"') - 1}: callbacks[1].dial_lines: no line both answers and dials out; name the dial-out lines here`,
    ]);
  });

  it('reports a missing required key at its table', () => {
    const text = BASE.replace('device = "/dev/ttyS2"\n', '');
    const problems = problemsOf(text);
    expect(problems).toEqual([`test.toml:13: lines[1].device: is required`]);
  });

  it('reports an entry with neither number nor caller_supplies at its table header', () => {
    const text = BASE.replace('number = "123456"\n', '');
    expect(problemsOf(text)).toEqual([
      `test.toml:${lineOf(text, 'name = "call"') - 1}: callbacks[0]: needs either number = "..." or caller_supplies = true`,
    ]);
  });

  it('requires rules when the caller supplies the number', () => {
    const text = BASE.replace(/\[callbacks\.rules\][\s\S]*?(?=\[\[ppp_users)/, '');
    expect(problemsOf(text)).toEqual([
      `test.toml:${lineOf(text, 'name = "roam"') - 1}: callbacks[1].rules: caller_supplies = true needs a rules table (allow, deny, min_length, max_length)`,
    ]);
  });

  it('rejects dial_lines naming a line that does not dial out', () => {
    const text = BASE.replace('answer = false', 'dial_out = false');
    expect(problemsOf(text)).toEqual([
      `test.toml:${lineOf(text, 'dial_lines')}: callbacks[0].dial_lines[0]: line "out" has dial_out = false`,
    ]);
  });

  it('reports unknown keys, with a suggestion for typos', () => {
    const text = BASE.replace('rings = 1', 'rigns = 1').replace('[daemon]', '[deamon]');
    expect(problemsOf(text)).toEqual([
      'test.toml:1: deamon: unknown key (did you mean "daemon"?)',
      'test.toml:10: lines[0].rigns: unknown key (did you mean "rings"?)',
    ]);
    expect(problemsOf(`${BASE}\n[timing.extra]\nx = 1\n`)).toEqual([
      `test.toml:${lineOf(`${BASE}\n[timing.extra]`, '[timing.extra]')}: timing.extra: unknown key`,
    ]);
  });

  it('reports several problems at once, in file order, with details', () => {
    const text = BASE.replace('rings = 1', 'rings = 99')
      .replace('number = "123456"', 'number = "12a"')
      .replace('remote_address = "192.168.1.2"', 'remote_address = "nowhere"');
    let error: unknown;
    try {
      parseConfig(text, 'several.toml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CallbackdError);
    const e = error as CallbackdError;
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message.split('\n')).toEqual([
      'several.toml: 3 problems',
      `several.toml:${lineOf(text, 'rings')}: lines[0].rings: 99 is outside 1..20`,
      `several.toml:${lineOf(text, '12a')}: callbacks[0].number: may contain only digits and the dial modifiers ,W*#+ (+ only at the start), with at least one digit`,
      `several.toml:${lineOf(text, 'nowhere')}: pppd.remote_address: "nowhere" is not an IPv4 address`,
    ]);
    expect(e.details?.problems).toHaveLength(3);
  });

  it('keeps the line and column of TOML syntax errors', () => {
    const text = BASE.replace('rings = 1', 'rings = = 1');
    expect(() => parseConfig(text, 'bad.toml')).toThrow(/^bad\.toml:10:\d+: TOML syntax: /);
  });

  it('accepts a line name derived from the device and sim signals', () => {
    const text = BASE.replace(
      'device = "/dev/ttyS1"',
      'device = "/dev/ttyS1"\nsignals = { kind = "sim", socket = "/tmp/s" }',
    );
    expect(parseConfig(text, 't').lines[0]!.signals).toEqual({ kind: 'sim', socket: '/tmp/s' });
    expect(problemsOf(text.replace('"/tmp/s"', '"tmp/s"'))).toEqual([
      `test.toml:${lineOf(text, 'signals')}: lines[0].signals.socket: "tmp/s" is not an absolute path`,
    ]);
  });

  it('never throws anything but CallbackdError, whatever the text', () => {
    const sample = readFileSync(new URL('../../config/callbackd.toml', import.meta.url), 'utf8');
    const mutated = fc
      .tuple(fc.nat(sample.length), fc.nat(40), fc.string({ maxLength: 20 }))
      .map(([at, cut, insert]) => sample.slice(0, at) + insert + sample.slice(at + cut));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary' }), mutated), (text) => {
        try {
          parseConfig(text, 'fuzz.toml');
        } catch (e) {
          if (!(e instanceof CallbackdError)) throw e;
          expect(e.code).toBe('CONFIG_INVALID');
        }
      }),
      { numRuns: 400 },
    );
    // 400 parses take about a second alone and several on a loaded machine: no race with a timer.
  }, 120_000);
});
