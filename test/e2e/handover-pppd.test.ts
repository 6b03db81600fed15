import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diagnostics, E2E_DIR, killAllUml, readResult, REPO_DIR, runUml, umlAvailable } from './uml.js';

// callbackd's hand-over (dist/ppp + dist/serial) giving a tty and its UUCP lock to real
// pppd, which has `lock` in /etc/ppp/options as on Debian. Needs `npm run build` first.
const scenario = join(E2E_DIR, 'scenarios/handover-pppd.sh');
const built =
  existsSync(join(REPO_DIR, 'dist/ppp/handover.js')) && existsSync(join(REPO_DIR, 'dist/serial/lock.js'));
const logs = ['scenario.log', 'driver.out', 'driver.log', 'client-pppd.log', 'ping.log'];
const value = (text: string, key: string) => new RegExp(`^${key} (.+)$`, 'm').exec(text)?.[1];
const done: string[] = [];

async function boot(env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'callbackd-e2e-handover-'));
  const run = await runUml({ scenario, resultDir: dir, timeoutMs: 240_000, env });
  const out = readResult(dir, 'scenario.log');
  const driver = readResult(dir, 'driver.out');
  const marks = out
    .split('\n')
    .filter((l) => l.startsWith('mark '))
    .join(', ');
  console.log(`handover ${JSON.stringify(env)}: UML ${run.ms} ms; ${marks}`);
  const exit = JSON.parse(value(driver, 'driver-exit') ?? 'null') as { code: number; outcome: string } | null;
  return { dir, run, out, driver, exit, why: diagnostics(dir, run, logs) };
}

describe.skipIf(!umlAvailable() || !built)('hand-over to real pppd in user-mode-linux', () => {
  afterAll(() => {
    killAllUml();
    for (const d of done) rmSync(d, { recursive: true, force: true });
  });

  it('hands line and lock to pppd, which checks PAP and brings IPCP up; hang-up maps to 16', async () => {
    const r = await boot({});
    expect(r.run.scenarioCode, r.why).toBe(0);
    expect(value(r.driver, 'driver-saw-ppp-frame'), r.why).toBe('yes');
    const pid = value(r.driver, 'driver-pppd-pid');
    expect(value(r.driver, 'driver-lock-after-handover'), r.why).toBe(pid);
    // The lock pppd itself checks (named after ttyname(0)) holds pppd's pid while it runs.
    expect(r.out, r.why).toMatch(new RegExp(`^lockfile LCK\\.\\.\\S+ ${pid}$`, 'm'));
    expect(JSON.parse(value(r.driver, 'driver-argv') ?? '[]'), r.why).toContain('require-pap');
    expect(readResult(r.dir, 'driver.log'), r.why).toContain('PAP peer authentication succeeded for pppuser');
    expect(value(r.driver, 'driver-stderr-has-ipcp'), r.why).toBe('yes');
    expect(readResult(r.dir, 'ping.log'), r.why).toContain('3 packets transmitted, 3 received');
    expect(r.exit, r.why).toMatchObject({ code: 16, outcome: 'hangup' });
    done.push(r.dir);
  });

  it('a wrong PAP secret: pppd exits 11, mapped to peer-auth-failed', async () => {
    const r = await boot({ E2E_PAP_CLIENT_SECRET: 'wrong-secret' });
    expect(r.run.scenarioCode, r.why).toBe(0);
    expect(readResult(r.dir, 'driver.log'), r.why).toContain('PAP peer authentication failed for pppuser');
    expect(r.exit, r.why).toMatchObject({
      code: 11,
      outcome: 'peer-auth-failed',
      terminateCause: 'Service-Unavailable',
    });
    // The client pppd was refused (its own log says so). It exits 19, or 16 when our
    // pppd's exit (socat closing the pair) reaches it before it finishes its LCP close.
    expect(readResult(r.dir, 'client-pppd.log'), r.why).toContain('PAP authentication failed');
    expect(['19', '16'], r.why).toContain(value(r.out, 'client_rc'));
    done.push(r.dir);
  });

  it('pppd neither checks nor takes the lock for a line on its stdin: the hand-over is for others', async () => {
    // pppd treats an already open O_RDWR stdin as "privopen" and skips `lock` (tty.c), so
    // there is no race with pppd. The lock is handed over so that it keeps naming a live
    // owner for cu, minicom or a second callbackd, even if callbackd itself goes away.
    const r = await boot({ E2E_DRIVER_MODE: 'keep-lock' });
    expect(r.run.scenarioCode, r.why).toBe(0);
    expect(value(r.driver, 'driver-stderr-has-ipcp'), r.why).toBe('yes');
    expect(value(r.driver, 'driver-stderr-locked-by'), r.why).toBe('none');
    const pid = value(r.driver, 'driver-pppd-pid');
    const holder = value(r.driver, 'driver-lock-after-handover');
    expect(holder, r.why).not.toBe(pid);
    expect(r.out, r.why).toMatch(new RegExp(`^lockfile LCK\\.\\.\\S+ ${holder}$`, 'm'));
    expect(r.exit, r.why).toMatchObject({ code: 16, outcome: 'hangup' });
    done.push(r.dir);
  });
});
