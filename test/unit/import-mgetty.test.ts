import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { importMgetty, type MgettyInput } from '../../src/config/import-mgetty/index.js';
import { runImportMgetty } from '../../src/config/import-mgetty/command.js';
import { parseCallbackArgs, parseInittab, parsePortConfig } from '../../src/config/import-mgetty/parse.js';
import { quote } from '../../src/config/import-mgetty/toml.js';
import { configWarnings, guessWarnings } from '../../src/config/warnings.js';
import { pppdForLine } from '../../src/config/pppd-line.js';
import { parseConfig } from '../../src/config/load.js';

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures/mgetty');
const fixture = (name: string) => ({
  path: `/etc/mgetty/${name}`,
  text: readFileSync(path.join(FIXTURES, name), 'utf8'),
});

function howto(extra: Partial<MgettyInput> = {}): string {
  return importMgetty({
    loginConfig: fixture('login.config'),
    mgettyConfig: fixture('mgetty.config'),
    inittab: fixture('inittab'),
    callbackConfig: fixture('callback.config'),
    passwd: fixture('passwd'),
    now: new Date('2024-05-01T00:00:00Z'),
    ...extra,
  });
}

describe('import-mgetty translation', () => {
  it('turns the HOWTO setup into a config the loader accepts', () => {
    const cfg = parseConfig(howto(), 'imported');
    expect(cfg.lines.map((l) => [l.name, l.device, l.speed, l.rings, l.answer, l.dialOut])).toEqual([
      ['ttyS1', '/dev/ttyS1', 115200, 2, true, true], // inittab -s 115200 beats the global speed 38400
      ['ttyS3', '/dev/ttyS3', 19200, 1, true, true],
      ['ttyS0', '/dev/ttyS0', 38400, 1, true, true],
      ['ttyS2', '/dev/ttyS2', 38400, 1, false, true], // callback's dial-out device, not an mgetty port
    ]);
    const s1 = cfg.lines[0]!;
    expect(s1.init).toBe('"" \\d\\d\\d+++\\d\\d\\dAT&FS2=255 OK ATN3S0=0 OK');
    expect(s1.timing.healthCheckMs).toBe(1_800_000);
    expect(cfg.timing.loginMs).toBe(300_000);

    expect(
      cfg.callbacks.map((c) => [c.name, c.number, c.delayMs, c.attempts, c.retryDelayMs, c.dialLines]),
    ).toEqual([
      ['call', '123456', 30_000, 6, 30_000, []],
      ['office', '089123', 30_000, 6, 30_000, ['ttyS2']],
    ]);
    expect(cfg.pppd).toMatchObject({
      path: '/usr/sbin/pppd',
      options: ['auth', 'refuse-chap', 'require-pap', 'login', 'debug'],
      localAddress: '192.168.1.1',
      remoteAddress: '192.168.1.2',
      autoPppBeforeCallback: true,
      autoPppAfterCallback: true,
    });
    expect(cfg.pppUsers).toEqual([]);
  });

  it('says what it could not translate, and why', () => {
    const text = howto();
    expect(text).toMatch(/Passwords and PINs cannot be imported/);
    expect(text).toMatch(
      /not translated: \/etc\/mgetty\/login.config:7: \* -> \/bin\/login: callbackd offers no shell logins/,
    );
    expect(text).toMatch(
      /not translated: \/etc\/mgetty\/login.config:6: U\* -> \/usr\/sbin\/uucico: no callbackd equivalent/,
    );
    expect(text).toMatch(/mgetty.config:12: direct line \(no modem\)/);
    expect(text).toMatch(/mgetty.config:5: fax-id: fax, voice/);
    expect(text).toMatch(/pppd -detach: callbackd runs pppd in the foreground/);
    expect(text).toMatch(/delay-randomize: callbackd waits exactly the delay/);
    expect(text).toMatch(/numbers after the first \(456\)/);
    // The caller-typed number needs rules: left as a commented-out entry.
    expect(text).toMatch(/REVIEW, left commented out: the caller typed the number unchecked/);
    expect(text).toMatch(/^# name = "roam"$/m);
    // pppuser has pppd as its shell: a template, since its password cannot come along.
    expect(text).toMatch(/^# name = 'pppuser'$/m);
    expect(text).not.toMatch(/mgetty.config:9/); // data-only y is simply what callbackd does
  });

  it('reads local:remote from /etc/ppp/options.<tty> when the AutoPPP line has none', () => {
    const login = { path: 'login.config', text: '/AutoPPP/ - a_ppp /usr/sbin/pppd file /etc/ppp/options\n' };
    const withFile = importMgetty({
      loginConfig: login,
      inittab: fixture('inittab'),
      pppOptionsFor: (tty) => (tty === 'ttyS1' ? fixture('options.ttyS1') : undefined),
    });
    const cfg = parseConfig(withFile, 'imported');
    expect([cfg.pppd.localAddress, cfg.pppd.remoteAddress]).toEqual(['192.168.1.1', '192.168.1.2']);
    expect(cfg.pppd.options).toEqual(['file', '/etc/ppp/options']);
    expect(withFile).not.toMatch(/placeholder/);

    const without = importMgetty({ loginConfig: login, inittab: fixture('inittab') });
    expect(without).toMatch(/REVIEW: no local:remote pair/);
    expect(parseConfig(without, 'imported').pppd.remoteAddress).toBe('192.0.2.2');
  });

  it("translates mgetty's per-tty /etc/ppp/options.<tty> pairs into per-line [lines.pppd] tables", () => {
    const login = { path: 'login.config', text: '/AutoPPP/ - a_ppp /usr/sbin/pppd file /etc/ppp/options\n' };
    const text = importMgetty({
      loginConfig: login,
      inittab: fixture('inittab'),
      pppOptionsFor: (tty) =>
        tty === 'ttyS1'
          ? fixture('options.ttyS1')
          : { path: `/etc/ppp/options.${tty}`, text: '10.0.0.1:10.0.0.2\n' },
    });
    const cfg = parseConfig(text, 'imported');
    const byName = Object.fromEntries(cfg.lines.map((l) => [l.name, pppdForLine(cfg, l)]));
    expect([byName.ttyS1?.localAddress, byName.ttyS1?.remoteAddress]).toEqual(['192.168.1.1', '192.168.1.2']);
    expect([byName.ttyS0?.localAddress, byName.ttyS0?.remoteAddress]).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(text).not.toMatch(/differs from the pair/);
  });

  it('marks every guess so that check-config flags it until edited (issue 10 item 6)', () => {
    const text = importMgetty({
      loginConfig: fixture('debian-login.config'),
      mgettyConfig: fixture('debian-mgetty.config'),
      missing: ['/etc/inittab'],
    });
    const cfg = parseConfig(text, 'imported');
    const flagged = guessWarnings(text).map((w) => w.message);
    expect(flagged).toEqual([
      "guessed by import-mgetty: device = '/dev/ttyS0'",
      "guessed by import-mgetty: local_address = '192.0.2.1'",
      "guessed by import-mgetty: remote_address = '192.0.2.2'",
      'guessed by import-mgetty: autoppp_before_callback = true',
    ]);
    // The values themselves are flagged too, so removing only the marker is not enough.
    expect(configWarnings(cfg).map((w) => w.key)).toEqual(
      expect.arrayContaining(['pppd.local_address', 'pppd.remote_address']),
    );
    // Edited: the marker is gone with the guess.
    const edited = text.replace(/^(device = .*?)\s+# GUESSED.*$/m, "device = '/dev/ttyS1'");
    expect(guessWarnings(edited)).toHaveLength(3);
  });

  it("handles Debian's shipped files: no ports, no inittab, AutoPPP without addresses", () => {
    const text = importMgetty({
      loginConfig: fixture('debian-login.config'),
      mgettyConfig: fixture('debian-mgetty.config'),
      missing: ['/etc/inittab'],
    });
    const cfg = parseConfig(text, 'imported');
    expect(cfg.lines.map((l) => l.device)).toEqual(['/dev/ttyS0']);
    expect(text).toMatch(/^# REVIEW: no mgetty port found/m);
    expect(text).toMatch(/issue-file \/etc\/issue.mgetty: copy its text into \[login\] issue/);
    expect(text).toMatch(/^# Not found: \/etc\/inittab$/m);
    expect(cfg.pppd.options).toEqual(['auth', 'refuse-chap', 'require-pap', 'login', 'debug']);
    expect(cfg.callbacks).toEqual([]);
  });

  it('still produces a valid config from nothing at all', () => {
    expect(() => parseConfig(importMgetty({}), 'imported')).not.toThrow();
  });

  it('a dial-out device alone (`callback -l`, no mgetty port) still gives a line that answers', () => {
    // Found by the fuzzer: the entry without -l had no line to call back on, so the
    // output did not parse ("no line both answers and dials out").
    const text = importMgetty({
      loginConfig: {
        path: 'login.config',
        text: 'out - - /usr/sbin/callback -l ttyS0 5551234\ncall - - /usr/sbin/callback 5556789\n',
      },
    });
    const cfg = parseConfig(text, 'imported');
    expect(cfg.lines.map((l) => [l.device, l.answer])).toEqual([
      ['/dev/ttyS0', false],
      ['/dev/ttyS1', true],
    ]);
    expect(text).toMatch(/^# REVIEW: no mgetty port found.*ttyS1 is a guess/m);
  });

  it('comments out entries whose name or number callbackd would refuse, without breaking the TOML', () => {
    const login = {
      path: 'login.config',
      text: [
        "o'brien - - /usr/sbin/callback 123",
        'call* - - /usr/sbin/callback 123',
        'evil - - /usr/sbin/callback 123;ATH',
        '-x - - /usr/sbin/callback 555',
      ].join('\n'),
    };
    const mgetty = {
      path: 'mgetty.config',
      text: 'port ttyS1\n  init-chat "" AT\'Z OK\n  speed 12345\n  rings 99\n',
    };
    const text = importMgetty({ loginConfig: login, mgettyConfig: mgetty });
    const cfg = parseConfig(text, 'imported');
    expect(cfg.callbacks).toEqual([]);
    expect(cfg.lines[0]?.init).toBe('"" AT\'Z OK');
    expect(cfg.lines[0]?.speed).toBe(115200);
    expect(text).toMatch(/speed 12345 is not a standard speed/);
    expect(text).toMatch(/rings 99 is outside 1..20/);
    expect(text).toMatch(/wildcards are not supported/);
    expect(text).toMatch(/number 123;ATH: may contain only digits/);
    expect(text.match(/REVIEW, left commented out/g)).toHaveLength(4);
  });
});

describe('mgetty file readers', () => {
  it('reads inittab mgetty lines with options before or after the tty', () => {
    const g = parseInittab(readFileSync(path.join(FIXTURES, 'inittab'), 'utf8'));
    expect(g.map((x) => [x.tty, Object.fromEntries(x.options)])).toEqual([
      ['ttyS1', { s: '115200', D: '' }],
      ['ttyS0', { x: '3' }],
    ]);
    expect(parseInittab('t:2:respawn:/usr/sbin/mgetty -x3 -n 3 /dev/ttyUSB0')[0]).toMatchObject({
      tty: 'ttyUSB0',
    });
  });

  it("reads callback's options as its getopt would", () => {
    const a = parseCallbackArgs(['-S', '-x3', '-l', 'ttyS1:ttyS2', '0123', '456']);
    expect(Object.fromEntries(a.options)).toEqual({ S: '', x: '3', l: 'ttyS1:ttyS2' });
    expect(a.numbers).toEqual(['0123', '456']);
  });

  it('splits mgetty.config into global and port sections', () => {
    const p = parsePortConfig(readFileSync(path.join(FIXTURES, 'mgetty.config'), 'utf8'));
    expect(p.global.map((s) => s.key)).toEqual(['debug', 'speed', 'login-time', 'fax-id']);
    expect([...p.ports.keys()]).toEqual(['ttyS1', 'ttyS3']);
  });

  it('quotes any string so that TOML reads it back unchanged', () => {
    fc.assert(
      // Mostly ASCII (quotes, backslashes, control bytes), some of all of Unicode.
      fc.property(
        fc.oneof(
          // The characters that decide between literal and basic strings, densely.
          fc.string({
            unit: fc.constantFrom("'", '"', '\\', '\n', '\r', '\t', '\x00', '\x7f', 'a', 'é', '\u2028'),
          }),
          fc.string({ unit: 'binary-ascii' }),
          fc.string({ unit: 'binary', maxLength: 8 }),
        ),
        (s) => {
          return (parse(`k = ${quote(s)}`) as { k: string }).k === s;
        },
      ),
      { numRuns: 150 },
    );
  }, 30_000); // property runs are slow under vitest on a loaded 2-CPU machine
});

describe('callbackd import-mgetty', () => {
  function run(paths: Parameters<typeof runImportMgetty>[0]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = runImportMgetty(paths, { out: (t) => out.push(t), err: (t) => err.push(t) });
    return { code, out: out.join(''), err: err.join('') };
  }

  it('reads the named files and prints a config that validates', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'import-'));
    try {
      copyFileSync(path.join(FIXTURES, 'options.ttyS1'), path.join(dir, 'options.ttyS1'));
      writeFileSync(
        path.join(dir, 'login.config'),
        '/AutoPPP/ - a_ppp /usr/sbin/pppd require-pap\ncall - - /usr/sbin/callback -S 777\n',
      );
      const r = run({
        loginConfig: path.join(dir, 'login.config'),
        mgettyConfig: path.join(FIXTURES, 'mgetty.config'),
        inittab: path.join(FIXTURES, 'inittab'),
        callbackConfig: path.join(dir, 'no-callback.config'),
        passwd: path.join(FIXTURES, 'passwd'),
        pppDir: dir,
      });
      expect(r.err).toMatch(/cannot read .*no-callback.config: no such file/);
      expect(r.code).toBe(1);

      const ok = run({
        loginConfig: path.join(dir, 'login.config'),
        mgettyConfig: path.join(FIXTURES, 'mgetty.config'),
        inittab: path.join(FIXTURES, 'inittab'),
        callbackConfig: path.join(FIXTURES, 'callback.config'),
        passwd: path.join(FIXTURES, 'passwd'),
        pppDir: dir,
      });
      expect(ok.err).toBe('');
      expect(ok.code).toBe(0);
      const cfg = parseConfig(ok.out, 'out');
      expect(cfg.callbacks[0]).toMatchObject({ name: 'call', number: '777' });
      expect(cfg.pppd.localAddress).toBe('192.168.1.1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
