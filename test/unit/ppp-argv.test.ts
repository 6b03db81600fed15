import { describe, expect, it } from 'vitest';
import type { PppdConfig } from '../../src/config/types.js';
import { isCallbackdError } from '../../src/errors.js';
import { buildPppdArgv, papRequiredAtEnd } from '../../src/ppp/argv.js';
import { redactArgs } from '../../src/ppp/handover.js';

const base: PppdConfig = {
  path: '/usr/sbin/pppd',
  prefixArgs: [],
  options: ['asyncmap', '0', 'proxyarp'],
  localAddress: '192.168.1.1',
  remoteAddress: '192.168.1.2',
  autoPppBeforeCallback: false,
  autoPppAfterCallback: true,
};

describe('buildPppdArgv', () => {
  it('puts options, the address pair, logging, linkname and nodetach in order', () => {
    expect(buildPppdArgv(base, { autoPpp: false, lineName: 'ttyS1' })).toEqual({
      file: '/usr/sbin/pppd',
      args: [
        'asyncmap',
        '0',
        'proxyarp',
        '192.168.1.1:192.168.1.2',
        'logfd',
        '2',
        'linkname',
        'ttyS1',
        'nodetach',
      ],
    });
  });

  it("uses the user's remote address and keeps prefix args first", () => {
    const cfg = { ...base, prefixArgs: ['/opt/wrap.js'], path: '/usr/bin/node' };
    const user = { name: 'pppuser', passwordHash: 'x', remoteAddress: '192.168.1.9' };
    const { file, args } = buildPppdArgv(cfg, { user, autoPpp: false, lineName: 'm1' });
    expect(file).toBe('/usr/bin/node');
    expect(args[0]).toBe('/opt/wrap.js');
    expect(args).toContain('192.168.1.1:192.168.1.9');
    expect(args).not.toContain('192.168.1.1:192.168.1.2');
  });

  it('requires PAP for AutoPPP, after any noauth, and not twice', () => {
    const auto = (options: string[]) =>
      buildPppdArgv({ ...base, options }, { autoPpp: true, lineName: 'x' }).args;
    expect(auto([])).toContain('require-pap');
    const afterNoauth = auto(['require-pap', 'noauth']);
    expect(afterNoauth.lastIndexOf('require-pap')).toBeGreaterThan(afterNoauth.indexOf('noauth'));
    expect(auto(['noauth', 'require-pap']).filter((w) => w === 'require-pap')).toHaveLength(1);
    expect(auto(['+pap']).filter((w) => w === 'require-pap')).toHaveLength(0);
    // A text-logged-in user is not forced to PAP beyond what the options say.
    expect(buildPppdArgv(base, { autoPpp: false, lineName: 'x' }).args).not.toContain('require-pap');
  });

  it('keeps the operator’s logging and linkname, and nodetach is always last', () => {
    const options = ['logfile', '/var/log/ppp.log', 'linkname', 'mine', 'detach'];
    const { args } = buildPppdArgv({ ...base, options }, { autoPpp: false, lineName: 'x' });
    expect(args).not.toContain('logfd');
    expect(args.filter((w) => w === 'linkname')).toHaveLength(1);
    expect(args.at(-1)).toBe('nodetach');
  });

  it('refuses bad addresses and line names with a clear error', () => {
    const bad = (f: () => unknown, text: string) => {
      try {
        f();
        expect.unreachable('should have thrown');
      } catch (e) {
        expect(isCallbackdError(e, 'CONFIG_INVALID')).toBe(true);
        expect(String(e)).toContain(text);
      }
    };
    bad(
      () => buildPppdArgv({ ...base, remoteAddress: '192.168.1.256' }, { autoPpp: false, lineName: 'x' }),
      '192.168.1.256',
    );
    bad(
      () => buildPppdArgv({ ...base, localAddress: 'host' }, { autoPpp: false, lineName: 'x' }),
      'local address',
    );
    const user = { name: 'eve', passwordHash: 'x', remoteAddress: '1.2.3' };
    bad(() => buildPppdArgv(base, { user, autoPpp: false, lineName: 'x' }), 'user eve');
    bad(() => buildPppdArgv(base, { autoPpp: false, lineName: '../x y' }), 'linkname');
    bad(() => buildPppdArgv({ ...base, path: '' }, { autoPpp: false, lineName: 'x' }), 'pppd.path');
  });

  it('allows an empty local address (pppd picks its own)', () => {
    expect(buildPppdArgv({ ...base, localAddress: '' }, { autoPpp: false, lineName: 'x' }).args).toContain(
      ':192.168.1.2',
    );
  });
});

describe('papRequiredAtEnd', () => {
  it('looks only after the last noauth', () => {
    expect(papRequiredAtEnd([])).toBe(false);
    expect(papRequiredAtEnd(['require-pap'])).toBe(true);
    expect(papRequiredAtEnd(['require-pap', 'noauth'])).toBe(false);
    expect(papRequiredAtEnd(['noauth', '+pap'])).toBe(true);
  });
});

describe('redactArgs', () => {
  it('hides the word after password and nothing else', () => {
    expect(redactArgs(['user', 'u', 'password', 's3cret', 'debug'])).toEqual([
      'user',
      'u',
      'password',
      '[redacted]',
      'debug',
    ]);
  });
});
