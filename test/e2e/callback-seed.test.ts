import { describe, expect, it } from 'vitest';
import { pppdOutcome } from '../../src/ppp/exit-codes.js';
import {
  cliHas,
  daemonScenario,
  type LogLine,
  parseLog,
  readResult,
  runUml,
  scenarioValue,
  umlAvailable,
} from './uml.js';

// Issue #5: the HOWTO's whole call-back, with real pppd on both ends, inside UML.
// Needs the built CLI (`npm run test:e2e` builds first) with the `sim` and `run` commands.
const ready = umlAvailable() && cliHas('sim', 'run');
if (!ready)
  console.warn('callback-seed e2e skipped: needs user-mode-linux and dist/cli.js with `sim` and `run`');

function lineState(dir: string, file: string): string | undefined {
  const text = readResult(dir, file);
  if (!text) return undefined;
  return (JSON.parse(text) as { lines: { state: string }[] }).lines[0]?.state;
}
const value = scenarioValue;

describe.skipIf(!ready)('the seed call-back with real pppd in user-mode-linux', () => {
  const scenario = daemonScenario('seed');

  it('calls back, authenticates with PAP, passes pings, refuses a wrong secret, and accounts both', async () => {
    const { dir, run, why } = await scenario.run('callback-seed.sh', 560_000);
    const out = readResult(dir, 'scenario.log');
    console.log(
      `seed e2e: UML ${run.ms} ms; ${out
        .split('\n')
        .filter((l) => l.startsWith('mark '))
        .join(', ')}`,
    );
    expect(run.scenarioCode, why).toBe(0);

    const log = parseLog(readResult(dir, 'callbackd.log'));
    const case2From = Number(value(out, 'case2_from')) - 1;
    const rawLines = readResult(dir, 'callbackd.log').split('\n');
    const case1 = parseLog(rawLines.slice(0, case2From).join('\n'));
    const case2 = parseLog(rawLines.slice(case2From).join('\n'));
    const pppdSaid = (lines: LogLine[]) =>
      lines
        .filter((l) => l.event === 'pppd')
        .map((l) => String(l.msg))
        .join('\n');
    expect(log.length, why).toBeGreaterThan(0);

    // Case 1: both pppd authenticated with PAP and reached IPCP with the seed's addresses.
    const server1 = pppdSaid(case1);
    expect(server1, why).toContain('PAP peer authentication succeeded for pppuser');
    expect(server1, why).toContain('local  IP address 192.168.1.1');
    expect(server1, why).toContain('remote IP address 192.168.1.2');
    const client1 = readResult(dir, 'client1-pppd.log');
    expect(client1, why).toContain('PAP authentication succeeded');
    expect(client1, why).toContain('local  IP address 192.168.1.2');
    expect(readResult(dir, 'ping.log'), why).toContain('3 packets transmitted, 3 received');
    // The evidence, in the test output: what each pppd said about PAP and IPCP.
    const matching = (who: string, text: string, re: RegExp) =>
      text
        .split('\n')
        .filter((l) => re.test(l))
        .map((l) => `${who}: ${l.trim()}`);
    console.log(
      [
        ...matching('server pppd (callbackd)', server1, /PAP|IP address/),
        ...matching('client pppd (pppcallback)', client1, /PAP|IP address/),
        ...matching('ping', readResult(dir, 'ping.log'), /packets transmitted/),
      ].join('\n'),
    );
    // The seed's call-back happened before PPP: dialled 123456, and CONNECT on the call-back.
    expect(
      case1.some((l) => l.event === 'callback-accepted'),
      why,
    ).toBe(true);
    expect(
      case1.some((l) => l.event === 'callback-connected'),
      why,
    ).toBe(true);
    // The UUCP lock was handed to the server's pppd while it ran.
    const running1 = case1.find((l) => l.event === 'ppp-running');
    expect(value(out, 'lockfile LCK..modem5376443'), why).toBe(String(running1?.pid));
    // The client hung up; callbackd mapped pppd's exit code, accounted it, and went idle.
    const exit1 = case1.find((l) => l.event === 'ppp-exit');
    expect([0, 16], why).toContain(exit1?.code);
    expect(String(exit1?.outcome), why).toContain(pppdOutcome(exit1?.code as number, null).outcome);
    const end1 = case1.filter((l) => l.event === 'call-end').at(-1);
    expect(end1?.pppExitCode, why).toBe(exit1?.code);
    expect(String(end1?.outcome), why).toContain(pppdOutcome(exit1?.code as number, null).outcome);
    const idleAfter = (lines: LogLine[], from: LogLine | undefined) =>
      lines.slice(lines.indexOf(from as LogLine)).some((l) => l.event === 'state' && l.to === 'idle');
    expect(idleAfter(case1, exit1), why).toBe(true);
    expect(lineState(dir, 'status-case1.json'), why).toBe('idle');

    // Case 2: a wrong PAP secret. Our pppd refuses it (11). The client gives up (19), or
    // reports the hang-up (16) when callbackd's hang-up reaches it first.
    expect(readResult(dir, 'client2-pppd.log'), why).toContain('PAP authentication failed');
    expect(['19', '16'], why).toContain(value(out, 'client2_rc'));
    expect(pppdSaid(case2), why).toContain('PAP peer authentication failed for pppuser');
    // pppd exits 11 when it finishes its LCP close before the line drops. When the client
    // hangs up first, the hang-up (16) or callbackd's SIGHUP (5) overwrites pppd's status;
    // callbackd must still account the call as peer-auth-failed from pppd's own log.
    const exit2 = case2.find((l) => l.event === 'ppp-exit');
    expect([11, 16, 5], why).toContain(exit2?.code);
    expect(String(exit2?.outcome), why).toContain('peer-auth-failed');
    const end2 = case2.filter((l) => l.event === 'call-end').at(-1);
    expect(end2?.pppExitCode, why).toBe(exit2?.code);
    expect(String(end2?.outcome), why).toContain('peer-auth-failed');
    expect(end2?.terminateCause, why).toBe('Service-Unavailable');
    expect(idleAfter(case2, exit2), why).toBe(true);
    expect(lineState(dir, 'status-case2.json'), why).toBe('idle');

    // Accounting has both calls with pppd's exit codes.
    const accounting = readResult(dir, 'accounting.jsonl');
    const records = accounting
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { outcome: string; pppExitCode?: number });
    expect(
      records.map((r) => r.pppExitCode),
      why,
    ).toEqual([exit1?.code, exit2?.code]);
    expect(records[1]?.outcome, why).toContain('peer-auth-failed');
    scenario.passed();
  }, 600_000);
});
