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
    // The client was stopped with SIGTERM (5). The server saw its LCP TermReq and then the
    // line hang up (16); if the hang-up comes later than the server's 3 s terminate timer
    // (a loaded machine), it ends the link itself with the status of an up link (0).
    expect(value(out, 'client_rc'), why).toBe('5');
    expect(['16', '0'], why).toContain(value(out, 'server_rc'));
    kept.push(dir);
  });

  it('refuse a wrong PAP secret: both pppd log the PAP failure and exit with a documented code', async () => {
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
    const server = readResult(dir, 'server-pppd.log');
    const client = readResult(dir, 'client-pppd.log');
    // What both ends logged is the proof: the server refused the secret, the client was refused.
    expect(server, why).toContain('PAP peer authentication failed for pppuser');
    expect(client, why).toContain('PAP authentication failed');
    expect(server, why).not.toContain('local  IP address');
    expect(client, why).not.toContain('local  IP address');
    // Exit codes race: both pppd send each other an LCP TermReq. The server ends with 11
    // (peer auth failed) unless it sees the line hang up first (16). The client ends with 19
    // (auth to peer failed), or 16 when the server's exit (socat closing the pair) reaches
    // it first. Any other code is a different failure.
    expect(['11', '16'], why).toContain(value(out, 'server_rc'));
    expect(['19', '16'], why).toContain(value(out, 'client_rc'));
    kept.push(dir);
  });
});
