import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** The shipped unit must fit the way notify.ts talks to systemd. */
const UNIT = path.resolve(import.meta.dirname, '../../systemd/callbackd.service');
const text = readFileSync(UNIT, 'utf8');

function directives(name: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}=`))
    .map((l) => l.slice(name.length + 1));
}

describe('systemd/callbackd.service', () => {
  it('is a notify service that accepts messages from the systemd-notify child', () => {
    expect(directives('Type')).toEqual(['notify']);
    expect(directives('NotifyAccess')).toEqual(['all']);
    expect(directives('ExecStart')).toEqual([
      '/usr/sbin/callbackd run --config /etc/callbackd/callbackd.toml',
    ]);
    expect(directives('ExecReload')).toEqual(['/usr/sbin/callbackd reload --socket /run/callbackd/control']);
    expect(directives('KillSignal')).toEqual(['SIGTERM']);
    expect(directives('Restart')).toEqual(['on-failure']);
    expect(directives('WatchdogSec')).toHaveLength(1);
    for (const d of ['StateDirectory', 'RuntimeDirectory', 'LogsDirectory', 'TimeoutStopSec']) {
      expect(directives(d), d).toHaveLength(1);
    }
  });

  it('leaves the devices callbackd and pppd need reachable', () => {
    expect(directives('PrivateDevices')).toEqual([]);
    expect(directives('MemoryDenyWriteExecute')).toEqual([]);
    const allowed = directives('DeviceAllow').join('\n');
    for (const dev of ['char-ttyS', 'char-ttyUSB', 'char-pts', '/dev/ppp']) expect(allowed).toContain(dev);
  });

  it.skipIf(!existsSync('/usr/bin/systemd-analyze'))('passes systemd-analyze verify', async () => {
    // verify also checks that ExecStart exists and runs man(1) for man: documentation;
    // point it at a program that does exist, and leave out the man pages (the package
    // installs them; test/integration/package.test.ts checks the package).
    const dir = mkdtempSync(path.join(tmpdir(), 'unit-'));
    try {
      const copy = path.join(dir, 'callbackd.service');
      writeFileSync(copy, text.replaceAll('=/usr/sbin/callbackd', '=/bin/true').replace(/man:\S+ /g, ''));
      const { stdout, stderr } = await promisify(execFile)('systemd-analyze', ['verify', copy], { cwd: dir });
      // verify also loads the units ours refers to and may warn about them (freeradius.service
      // on a machine with FreeRADIUS); only what it says about callbackd.service counts.
      const others = /^\/(lib|etc)\/systemd\/system\/(?!callbackd\.service)\S+:/;
      expect((stdout + stderr).split('\n').filter((l) => l && !others.test(l))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
