import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { DEFAULT_TIMING } from '../../src/timing.js';
import { verifySecret } from '../../src/policy/hash.js';

const SAMPLE = fileURLToPath(new URL('../../config/callbackd.toml', import.meta.url));

describe('config/callbackd.toml (the HOWTO setup)', () => {
  it('loads and carries the HOWTO values', async () => {
    const cfg = await loadConfig(SAMPLE);
    expect(cfg.source).toBe(SAMPLE);
    expect(cfg.daemon).toMatchObject({
      lockDir: '/var/lock',
      stateDir: '/var/lib/callbackd',
      accountingFile: '/var/log/callbackd/accounting.jsonl',
      logLevel: 'info',
      nologinDir: '/etc',
    });
    expect(cfg.lines).toHaveLength(1);
    const line = cfg.lines[0]!;
    expect(line).toMatchObject({
      name: 'ttyS1',
      device: '/dev/ttyS1',
      speed: 115200,
      flowControl: 'rtscts',
      init: '"" \\dATQ0V1H0 OK ATS0=0Q0&D3&C1 OK',
      dialPrefix: 'ATDT',
      rings: 1,
      answer: true,
      dialOut: true,
      signals: { kind: 'hardware' },
    });
    // The line's own override, merged over the global timing.
    expect(line.timing.answerMs).toBe(60_000);
    expect(cfg.timing.answerMs).toBe(80_000);
    expect(line.timing.loginMs).toBe(240_000);

    const [call, roam] = cfg.callbacks;
    expect(call).toMatchObject({ name: 'call', number: '123456', callerSupplies: false });
    expect(call).toMatchObject({ delayMs: 20_000, attempts: 3, retryDelayMs: 30_000, dialLines: [] });
    expect(call!.pinHash).toBeUndefined();
    expect(roam).toMatchObject({ name: 'roam', callerSupplies: true, delayMs: 30_000 });
    expect(roam!.number).toBeUndefined();
    expect(roam!.rules).toEqual({
      allow: ['0', '/^[2-9][0-9]{5,7}$/'],
      deny: ['0900', '0190', '0137', '00'],
      minLength: 6,
      maxLength: 15,
      modifiers: '',
      serviceCodes: false,
      internationalPrefix: '00',
      nationalPrefix: '0',
    });

    expect(cfg.pppUsers.map((u) => u.name)).toEqual(['pppuser']);
    expect(cfg.pppd).toEqual({
      path: '/usr/sbin/pppd',
      prefixArgs: [],
      options: [
        'asyncmap',
        '0',
        'crtscts',
        'proxyarp',
        'lock',
        'require-pap',
        'refuse-chap',
        'ms-dns',
        '192.168.1.1',
      ],
      localAddress: '192.168.1.1',
      remoteAddress: '192.168.1.2',
      autoPppBeforeCallback: false,
      autoPppAfterCallback: true,
    });
    expect(cfg.security).toEqual(DEFAULTS.security);
    expect(cfg.login.issue).toBe('\\n@ (\\L) \\D \\T\\n\\n');
  });

  it('documents hashes that really are of the example secrets', async () => {
    const cfg = await loadConfig(SAMPLE);
    expect(await verifySecret(cfg.pppUsers[0]!.passwordHash, 'password_for_pppuser')).toBe(true);
    expect(await verifySecret(cfg.pppUsers[0]!.passwordHash, 'password_for_ppuser')).toBe(false);
    expect(await verifySecret(cfg.callbacks[1]!.pinHash, '2468')).toBe(true);
  });

  it('shows the defaults: keys not marked "sample value" equal the built-in defaults', () => {
    const text = readFileSync(SAMPLE, 'utf8');
    // Drop every line marked as a sample value: what is left must be the defaults.
    const defaultsOnly = text
      .split('\n')
      .filter((l) => !l.includes('(sample value'))
      .join('\n');
    const cfg = parseConfig(defaultsOnly, 'defaults-only');
    expect(cfg.timing).toEqual(DEFAULT_TIMING);
    expect(cfg.daemon).toMatchObject(DEFAULTS.daemon);
    const { issue: _issue, ...loginRest } = DEFAULTS.login;
    expect(cfg.login).toMatchObject(loginRest);
    expect(cfg.lines[0]).toMatchObject(DEFAULTS.line);
    expect(cfg.callbacks[0]).toMatchObject(DEFAULTS.callback);
    expect(cfg.pppd).toMatchObject(DEFAULTS.pppd);
    expect(cfg.lines[0]!.timing).toEqual(DEFAULT_TIMING);
  });
});
