import { describe, expect, it } from 'vitest';
import { buildPppdArgv } from '../../src/ppp/argv.js';
import { testConfig } from '../helpers/config.js';

// The per-call options an Access-Accept gives pppd (Session-Timeout, Idle-Timeout).

describe('pppd argv: options from RADIUS', () => {
  const pppd = testConfig().pppd;

  it('appends them before nodetach, after radius.so', () => {
    const { args } = buildPppdArgv(pppd, {
      autoPpp: true,
      lineName: 'ttyS1',
      radius: {
        plugin: 'radius.so',
        configFile: '/var/lib/callbackd/radius/radiusclient.conf',
        multiSessionId: 'c-1',
      },
      extraOptions: ['maxconnect', '3600', 'idle', '900'],
    });
    expect(args.slice(-11)).toEqual([
      'plugin',
      'radius.so',
      'radius-config-file',
      '/var/lib/callbackd/radius/radiusclient.conf',
      'avpair',
      'Acct-Multi-Session-Id=c-1',
      'maxconnect',
      '3600',
      'idle',
      '900',
      'nodetach',
    ]);
  });

  it('refuses a word that is not a plain option name or number', () => {
    expect(() =>
      buildPppdArgv(pppd, { autoPpp: false, lineName: 'ttyS1', extraOptions: ['idle', '1 connect /bin/sh'] }),
    ).toThrow(/not usable/);
  });
});
