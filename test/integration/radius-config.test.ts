import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { isCallbackdError } from '../../src/errors.js';
import { Radius } from '../../src/radius/index.js';
import { FreeRadius, parseDetail, writeSecretFile } from '../helpers/freeradius.js';
import { capturingLogger } from '../helpers/radius-responder.js';

const SECRET = 'one-config-secret';
const USERS = `call  Cleartext-Password := "4711"
      Service-Type = Callback-Framed-User, Callback-Number = "5551234"
`;

function configText(fr: FreeRadius, secretFile: string, stateDir: string): string {
  return `[daemon]
hostname = "nas-7"
state_dir = "${stateDir}"

[[lines]]
device = "/dev/ttyS1"

[pppd]
local_address = "192.168.1.1"
remote_address = "192.168.1.2"

[radius]
secret_file = "${secretFile}"
nas_ip_address = "127.0.0.1"
pppd_bind_address = "127.0.0.2"
timeout = "1s"

[[radius.servers]]
address = "127.0.0.1"
auth_port = ${fr.authPort}
acct_port = ${fr.acctPort}
`;
}

describe('one [radius] section drives authentication, accounting and radius.so', () => {
  let fr: FreeRadius;
  let dir: string;
  beforeAll(async () => {
    fr = await FreeRadius.create({ secret: SECRET, users: USERS });
    await fr.start();
    dir = await fsp.mkdtemp(path.join(tmpdir(), 'radius-config-'));
  });
  afterAll(async () => {
    await fr?.destroy();
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  it('authenticates, accounts and writes radius.so files from the parsed config', async () => {
    const secretFile = await writeSecretFile(dir, SECRET);
    const stateDir = path.join(dir, 'state');
    const cfg = parseConfig(configText(fr, secretFile, stateDir), 'cb.toml');
    const cap = capturingLogger();
    const radius = await Radius.open(cfg.radius!, { stateDir, log: cap.log });
    try {
      const r = await radius.authenticate({
        name: 'call',
        secret: '4711',
        line: 'ttyS1',
        lineIndex: 0,
        leg: 1,
      });
      expect(r).toEqual({ kind: 'accept', serviceType: 'callback-framed', callbackNumber: '5551234' });
      const leg = { sessionId: 'c1-1', multiSessionId: 'c1', userName: 'call', line: 'ttyS1', lineIndex: 0 };
      await radius.accounting!.start({ ...leg, authentic: 'radius' });
      await radius.accounting!.stop(
        { ...leg, authentic: 'radius' },
        { sessionTime: 5, terminateCause: 'Callback' },
      );
      await radius.accounting!.drained();
      const recs = parseDetail(await fr.detail());
      expect(recs.map((x) => [x['Acct-Status-Type'], x['NAS-Identifier'], x['NAS-IP-Address']])).toEqual([
        ['Start', 'nas-7', '127.0.0.1'],
        ['Stop', 'nas-7', '127.0.0.1'],
      ]);
      const conf = await fsp.readFile(radius.pppd!.configFile, 'utf8');
      expect(conf).toContain(`authserver 127.0.0.1:${fr.authPort}\n`);
      expect(conf).toContain('bindaddr 127.0.0.2\n');
      const servers = path.join(stateDir, 'radius', 'servers');
      expect((await fsp.stat(servers)).mode & 0o777).toBe(0o600);
      expect((await fsp.stat(path.join(stateDir, 'radius'))).mode & 0o777).toBe(0o700);
      expect(cap.text()).not.toContain(SECRET);
    } finally {
      await radius.close();
    }
  });

  it('refuses a secret file that others can read, naming the file and not the secret', async () => {
    const secretFile = await writeSecretFile(dir, SECRET);
    await fsp.chmod(secretFile, 0o644);
    const stateDir = path.join(dir, 'state2');
    const cfg = parseConfig(configText(fr, secretFile, stateDir), 'cb.toml');
    let err: unknown;
    try {
      await Radius.open(cfg.radius!, { stateDir, log: capturingLogger().log });
    } catch (e) {
      err = e;
    }
    expect(isCallbackdError(err, 'RADIUS_SECRET')).toBe(true);
    expect((err as Error).message).toBe(
      `${secretFile}: the RADIUS secret is accessible to others (mode 644); chmod 600 it`,
    );
  });
});
