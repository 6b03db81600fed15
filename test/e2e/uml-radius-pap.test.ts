import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writePppdRadiusConfig } from '../../src/radius/pppd-config.js';
import { FreeRadius, parseDetail } from '../helpers/freeradius.js';
import { testRadiusConfig } from '../helpers/radius-config.js';
import { diagnostics, E2E_DIR, killAllUml, readResult, runUml, umlAvailable } from './uml.js';

// pppd's PAP on the call-back leg decided by a real FreeRADIUS through radius.so, with the
// files generated from [radius]. Two users entries chosen by the request's Service-Type:
// radius.so accepts only a Framed-User reply, callbackd's first login gets the call-back.
const scenario = join(E2E_DIR, 'scenarios/radius-pap.sh');
const SECRET = 'pap-radius-secret';
const USERS = `cbuser  Cleartext-Password := "secret1", Service-Type == Framed-User
        Service-Type = Framed-User, Framed-Protocol = PPP
cbuser  Cleartext-Password := "secret1"
        Service-Type = Callback-Framed-User, Callback-Number = "123456"
`;
const logs = ['scenario.log', 'server-pppd.log', 'client-pppd.log', 'freeradius.log', 'init.log'];
const cleanup: (() => Promise<void>)[] = [];

async function run(
  password: string,
): Promise<{ dir: string; fr: FreeRadius; why: string; rc: number | null }> {
  const fr = await FreeRadius.create({ secret: SECRET, users: USERS });
  cleanup.push(() => fr.destroy());
  const radius = testRadiusConfig({
    servers: [{ address: '127.0.0.1', authPort: fr.authPort, acctPort: fr.acctPort, secretFile: '/unused' }],
    nasIdentifier: 'nas-e2e',
  });
  const { configFile } = await writePppdRadiusConfig(
    radius,
    [Buffer.from(SECRET)],
    join(fr.dir, 'pppd-radius'),
  );
  const dir = mkdtempSync(join(tmpdir(), 'callbackd-e2e-radius-'));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  const r = await runUml({
    scenario,
    resultDir: dir,
    timeoutMs: 120_000,
    env: {
      E2E_RADIUS_DIR: fr.dir,
      E2E_RADIUS_CONF: configFile,
      E2E_PAP_SECRET: password,
      E2E_MULTI: 'call-77',
    },
  });
  console.log(`radius.so PAP (${password === 'secret1' ? 'right' : 'wrong'} password): UML run ${r.ms} ms`);
  return { dir, fr, why: diagnostics(dir, r, logs), rc: r.scenarioCode };
}

describe.skipIf(!umlAvailable())(
  'pppd radius.so PAP decided by a real FreeRADIUS, in user-mode-linux',
  () => {
    afterAll(async () => {
      killAllUml();
      for (const c of cleanup.splice(0)) await c();
    });

    it('accepts the right password (Framed-User entry) and accounts with the call id as Acct-Multi-Session-Id', async () => {
      const { dir, fr, why, rc } = await run('secret1');
      expect(rc, why).toBe(0);
      expect(readResult(dir, 'server-pppd.log'), why).toContain(
        'PAP peer authentication succeeded for cbuser',
      );
      const frlog = readResult(dir, 'freeradius.log');
      expect(frlog, why).toMatch(/Login OK: \[cbuser\] \(from client pppd_radius_so /);
      const acct = parseDetail(await fr.detail());
      expect(
        acct.filter((a) => a['Acct-Status-Type'] === 'Start').map((a) => a['Acct-Multi-Session-Id']),
        why,
      ).toEqual(['call-77']);
    });

    it('refuses a wrong password: FreeRADIUS says no, pppd Naks PAP', async () => {
      const { dir, why, rc } = await run('wrong-password');
      expect(rc, why).toBe(0);
      expect(readResult(dir, 'server-pppd.log'), why).toContain('PAP peer authentication failed for cbuser');
      expect(readResult(dir, 'freeradius.log'), why).toMatch(/Login incorrect.*\[cbuser/);
      expect(readResult(dir, 'server-pppd.log'), why).not.toContain('local  IP address');
    });
  },
);
