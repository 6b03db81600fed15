import { existsSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { LogTap } from '../../src/log-tap.js';
import { createLogger } from '../../src/log.js';
import { FREERADIUS, FreeRadius, writeSecretFile } from '../helpers/freeradius.js';

// The daemon owns the RADIUS client: opened at start, opened afresh when a reload changes
// [radius] (a reload that cannot open it is rejected and the old one kept), closed at stop.

const SECRET = 'daemon-secret';

function configText(dir: string, secretFile: string, authPort: number, timeout: string): string {
  return `[daemon]
state_dir = "${dir}/state"
lock_dir = "${dir}"
accounting_file = "${dir}/accounting.jsonl"
control_socket = "${dir}/control"
nologin_dir = "${dir}"

[[lines]]
device = "${dir}/no-such-tty"

[pppd]
local_address = "192.168.1.1"
remote_address = "192.168.1.2"

[radius]
secret_file = "${secretFile}"
pppd_bind_address = "127.0.0.2"
timeout = "${timeout}"

[[radius.servers]]
address = "127.0.0.1"
auth_port = ${authPort}
acct_port = ${authPort + 1}
`;
}

const ready = (e: Record<string, unknown>): boolean => e.msg === 'radius: ready';

describe.skipIf(!existsSync(FREERADIUS))('the daemon and [radius]', () => {
  let fr: FreeRadius;
  let dir: string;
  beforeAll(async () => {
    fr = await FreeRadius.create({ secret: SECRET, users: 'x Cleartext-Password := "y"\n' });
    dir = await fsp.mkdtemp(path.join(tmpdir(), 'radius-daemon-'));
  });
  afterAll(async () => {
    await fr?.destroy();
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  it('opens RADIUS at start, reopens it when a reload changes [radius], keeps it when the new one cannot open', async () => {
    const secretFile = await writeSecretFile(dir, SECRET);
    const file = path.join(dir, 'callbackd.toml');
    await fsp.writeFile(file, configText(dir, secretFile, fr.authPort, '1s'));
    const tap = new LogTap();
    const log = createLogger({ level: 'debug', destination: tap.stream });
    const daemon = await startDaemon({ config: await loadConfig(file), configPath: file, log });
    try {
      expect(tap.events.filter(ready)).toHaveLength(1);
      // radius.so's files for pppd on the second leg.
      expect(existsSync(path.join(dir, 'state', 'radius', 'radiusclient.conf'))).toBe(true);

      // Nothing in [radius] changed: nothing reopened.
      expect(await daemon.reload()).toBe(true);
      expect(tap.events.filter(ready)).toHaveLength(1);

      await fsp.writeFile(file, configText(dir, secretFile, fr.authPort, '2s'));
      expect(await daemon.reload()).toBe(true);
      await tap.waitFor((e) => e.event === 'radius-reopened', 5_000);
      expect(tap.events.filter(ready)).toHaveLength(2);

      // A secret others can read: the reload is refused, the running client stays.
      const loose = path.join(dir, 'loose.secret');
      await fsp.writeFile(loose, `${SECRET}\n`, { mode: 0o644 });
      await fsp.chmod(loose, 0o644);
      await fsp.writeFile(file, configText(dir, loose, fr.authPort, '3s'));
      const r = await daemon.reloadResult();
      expect(r.ok).toBe(false);
      expect(JSON.stringify(r)).toContain('accessible to others');
      expect(JSON.stringify(r)).not.toContain(SECRET);
      expect(tap.events.filter((e) => e.event === 'radius-reopened')).toHaveLength(1);
    } finally {
      await daemon.stop();
    }
    expect(tap.events.some((e) => e.event === 'stopped')).toBe(true);
  });
});
