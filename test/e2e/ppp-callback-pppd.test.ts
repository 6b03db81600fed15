import { describe, expect, it } from 'vitest';
import {
  cliHas,
  daemonScenario,
  parseLog,
  readResult,
  runUml,
  scenarioValue as value,
  umlAvailable,
  type LogLine,
} from './uml.js';

// Call-back inside PPP through the daemon, in user-mode-linux: the caller's real pppd with
// `user pppuser` and `callback 123456` dials the simulator's exchange, callbackd's PPP engine
// checks PAP and agrees the call-back in CBCP, the caller's pppd exits 14, a second pppd on
// the caller's modem answers the call-back, and callbackd's real pppd checks PAP, brings
// IPCP up and passes pings. Needs the built CLI (`npm run test:e2e` builds first).
const ready = umlAvailable() && cliHas('sim', 'run');
if (!ready)
  console.warn('ppp-callback e2e skipped: needs user-mode-linux and dist/cli.js with `sim` and `run`');

describe.skipIf(!ready)('call-back inside PPP with real pppd on both ends, through the daemon', () => {
  const scenario = daemonScenario('pppcb');

  it('PAP and CBCP with callbackd, exit 14, the call-back answered, PAP and IPCP with pppd, pings', async () => {
    const { dir, run, why } = await scenario.run('ppp-callback.sh', 400_000);
    const out = readResult(dir, 'scenario.log');
    const log = parseLog(readResult(dir, 'callbackd.log'));
    const client1 = readResult(dir, 'client1-pppd.log');
    const client2 = readResult(dir, 'client2-pppd.log');
    const lines = (who: string, text: string, re: RegExp) =>
      text
        .split('\n')
        .filter((l) => re.test(l))
        .map((l) => `${who}: ${l.trim()}`);
    const server = log
      .filter((l) =>
        ['ppp-cbcp', 'callback-accepted', 'ppp-pap-accepted', 'dialing'].includes(String(l.event)),
      )
      .map(
        (l) =>
          `callbackd: ${l.event} ${JSON.stringify({ ...l, level: undefined, time: undefined, event: undefined, pid: undefined, hostname: undefined })}`,
      );
    console.log(
      [
        `ppp-callback e2e: UML ${run.ms} ms; ${out
          .split('\n')
          .filter((l) => l.startsWith('mark '))
          .join(', ')}`,
        ...lines('caller pppd (first leg)', client1, /CBCP|[Cc]allback|PAP|Term|[Ee]xit/),
        ...server,
        `caller pppd exit code: ${value(out, 'client1_rc')}`,
        ...lines('server pppd (second leg)', pppdSaid(log), /PAP|IP address/),
        ...lines('caller pppd (second leg)', client2, /PAP|IP address/),
        ...lines('ping', readResult(dir, 'ping.log'), /packets transmitted/),
      ].join('\n'),
    );
    expect(run.scenarioCode, why).toBe(0);

    // First leg: PAP with callbackd's engine, CBCP with the caller's number, exit 14.
    expect(client1, why).toContain('PAP authentication succeeded');
    expect(client1, why).toMatch(/rcvd \[CBCP Request id=0x1/);
    expect(client1, why).toMatch(/sent \[CBCP Response id=0x1 .*123456/);
    expect(client1, why).toMatch(/rcvd \[CBCP Ack id=0x1/);
    expect(value(out, 'client1_rc'), why).toBe('14');
    expect(
      log.find((l) => l.event === 'callback-accepted'),
      why,
    ).toMatchObject({ entry: 'pppuser', number: '123456', via: 'cbcp-user' });
    // callbackd dialled the number from CBCP, once, and the caller's modem answered.
    expect(
      log.filter((l) => l.event === 'dialing').map((l) => l.number),
      why,
    ).toEqual(['123456']);
    expect(
      log.some((l) => l.event === 'callback-connected'),
      why,
    ).toBe(true);

    // Second leg: callbackd's pppd (AutoPPP) checks PAP; IPCP; pings.
    expect(pppdSaid(log), why).toContain('PAP peer authentication succeeded for pppuser');
    expect(client2, why).toContain('PAP authentication succeeded');
    expect(client2, why).toContain('local  IP address 192.168.1.2');
    expect(readResult(dir, 'ping.log'), why).toContain('3 packets transmitted, 3 received');

    // One record for the whole call, with both legs' facts.
    const records = readResult(dir, 'accounting.jsonl')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records, why).toHaveLength(1);
    expect(records[0], why).toMatchObject({ kind: 'callback', callbackNumber: '123456', login: ['pppuser'] });
    // The PAP secret appears nowhere in callbackd's log.
    expect(readResult(dir, 'callbackd.log'), why).not.toContain('password_for_pppuser');
    scenario.passed();
  }, 460_000);
});

function pppdSaid(log: LogLine[]): string {
  return log
    .filter((l) => l.event === 'pppd')
    .map((l) => String(l.msg))
    .join('\n');
}
