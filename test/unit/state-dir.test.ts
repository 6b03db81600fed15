import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/defaults.js';
import { parseConfig } from '../../src/config/load.js';

const unit = readFileSync(new URL('../../systemd/callbackd.service', import.meta.url), 'utf8');
const sample = readFileSync(new URL('../../config/callbackd.toml', import.meta.url), 'utf8');

function setting(key: string): string[] {
  return [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => (m[1] as string).trim());
}

describe('lockouts and rate limits survive a restart in the shipped setup (issue 8 item 8)', () => {
  it('the default state_dir is the unit StateDirectory, not its RuntimeDirectory', () => {
    const stateDirs = setting('StateDirectory').map((d) => `/var/lib/${d}`);
    const runtimeDirs = setting('RuntimeDirectory').map((d) => `/run/${d}`);
    expect(stateDirs).toContain(DEFAULTS.daemon.stateDir);
    expect(runtimeDirs).not.toContain(DEFAULTS.daemon.stateDir);
    expect(setting('StateDirectoryMode')).toEqual(['0700']);
  });

  it('the sample config keeps it there too', () => {
    expect(parseConfig(sample, 'callbackd.toml').daemon.stateDir).toBe(DEFAULTS.daemon.stateDir);
  });
});
