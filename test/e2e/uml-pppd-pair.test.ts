import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diagnostics, E2E_DIR, killAllUml, readResult, runUml, umlAvailable } from './uml.js';

// First milestone of the e2e layer: proves the UML runner, the PPP modules and PAP
// checking with two real pppd over a pty pair, before callbackd is involved at all.
const scenario = join(E2E_DIR, 'scenarios/pppd-pair.sh');
const logs = ['scenario.log', 'server-pppd.log', 'client-pppd.log', 'ping.log', 'init.log'];
const kept: string[] = [];

function value(scenarioLog: string, key: string): string | undefined {
  return new RegExp(`^${key} (\\S+)$`, 'm').exec(scenarioLog)?.[1];
}

describe.skipIf(!umlAvailable())('two real pppd in user-mode-linux', () => {
  afterAll(() => {
    killAllUml();
    for (const d of kept) rmSync(d, { recursive: true, force: true });
  });

  it('authenticate with PAP, bring IPCP up with the seed addresses and pass pings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callbackd-e2e-pair-'));
    const run = await runUml({ scenario, resultDir: dir, timeoutMs: 120_000 });
    const why = diagnostics(dir, run, logs);
    const out = readResult(dir, 'scenario.log');
    const server = readResult(dir, 'server-pppd.log');
    const client = readResult(dir, 'client-pppd.log');
    console.log(`pppd pair: UML run ${run.ms} ms, negotiation ${value(out, 'negotiated_ms')} ms`);
    expect(run.scenarioCode, why).toBe(0);
    expect(server, why).toContain('PAP peer authentication succeeded for pppuser');
    expect(server, why).toMatch(/local {2}IP address 192\.168\.1\.1\n/);
    expect(server, why).toMatch(/remote IP address 192\.168\.1\.2\n/);
    expect(client, why).toMatch(/local {2}IP address 192\.168\.1\.2\n/);
    expect(readResult(dir, 'ping.log'), why).toContain('3 packets transmitted, 3 received');
    // The client was stopped with SIGTERM (5); the server then saw the line hang up (16).
    expect(value(out, 'client_rc'), why).toBe('5');
    expect(value(out, 'server_rc'), why).toBe('16');
    kept.push(dir);
  });

  it('refuse a wrong PAP secret: server pppd exits 11, client 19', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callbackd-e2e-pair-'));
    const run = await runUml({
      scenario,
      resultDir: dir,
      timeoutMs: 120_000,
      env: { E2E_PAP_CLIENT_SECRET: 'wrong-secret' },
    });
    const why = diagnostics(dir, run, logs);
    const out = readResult(dir, 'scenario.log');
    console.log(`pppd pair, wrong secret: UML run ${run.ms} ms`);
    expect(run.scenarioCode, why).toBe(0);
    expect(readResult(dir, 'server-pppd.log'), why).toContain('PAP peer authentication failed for pppuser');
    expect(readResult(dir, 'server-pppd.log'), why).not.toContain('local  IP address');
    expect(value(out, 'server_rc'), why).toBe('11');
    expect(value(out, 'client_rc'), why).toBe('19');
    kept.push(dir);
  });
});
