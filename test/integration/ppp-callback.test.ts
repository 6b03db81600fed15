import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/types.js';
import { hashSecret } from '../../src/policy/index.js';
import {
  CALLER,
  PASSWORD,
  SERVER,
  answerCallback,
  dialIn,
  pingStandin,
  startBench,
  type Bench,
} from '../helpers/bench.js';
import { testEntry } from '../helpers/config.js';
import { firstLeg, type PppClient } from '../helpers/ppp-client.js';

// Call-back inside PPP through the whole daemon on the simulator: the caller's modem dials
// in, a scripted pppd-like client (test/helpers/ppp-client.ts) speaks LCP, PAP and CBCP to
// callbackd's PPP engine at the first login, callbackd hangs up, calls back, and the second
// leg is today's (login, the pppd stand-in). Every wait is on a frame, a text or a log event.

const PIN = 'cbpin123';

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

let pinHash: string | undefined;

async function pppBench(withoutCbcp: 'refuse' | 'pppd' = 'refuse'): Promise<Bench> {
  pinHash ??= await hashSecret(PIN);
  const hash = pinHash;
  return startBench((c: Config) => ({
    ...c,
    lines: c.lines.map((l) => ({ ...l, pppCallback: true })),
    callbacks: [
      testEntry(),
      testEntry({
        name: 'roamer',
        number: undefined,
        callerSupplies: true,
        pinHash: hash,
        rules: { allow: ['123'], deny: [], minLength: 6, maxLength: 12, modifiers: '' },
        ppp: { types: ['user'], withoutCbcp, maxDelayMs: 60_000 },
      }),
    ],
  }));
}

const commands = (b: Bench, re: RegExp) =>
  b.exchange.events.filter((e) => e.type === 'command' && e.modem === SERVER && re.test(String(e.line)));

const callEnds = (b: Bench, n: number) =>
  b.tap.waitForCount((e) => e.event === 'call-end', n, 30_000).then(() => b.accounting());

describe('call-back inside PPP on the simulator', () => {
  it('callback 123456: PAP, CBCP, the client exits 14, the call-back, the second leg to pppd', async () => {
    bench = await pppBench();
    const port = await bench.openCaller();
    await dialIn(port);
    const client = await firstLeg(port, { user: 'roamer', secret: PIN, callback: CALLER, delay: 0 });
    expect(client.exitCode, client.said.join('\n')).toBe(14);
    await port.expect('NO CARRIER', 10_000);
    await answerCallback(port);
    await port.write('pppuser\r');
    await port.expect('Password: ', 5_000);
    await port.write(`${PASSWORD}\r`);
    await pingStandin(port, 'called back');
    await port.write('BYE\n');
    const records = await callEnds(bench, 1);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      outcome: 'ppp-ok',
      kind: 'callback',
      callbackNumber: CALLER,
      dialAttempts: 1,
      login: ['roamer', 'pppuser'],
      pppUser: 'pppuser',
    });
    expect(commands(bench, /^ATD/i).map((e) => e.line)).toEqual([`ATDT${CALLER}`]);
    const logged = JSON.stringify(bench.tap.events);
    expect(logged).not.toContain(PIN);
    expect(logged).toContain('"via":"cbcp-user"');
  });

  it('a caller that drops the line right after the Callback-Ack is called back all the same', async () => {
    bench = await pppBench();
    const port = await bench.openCaller();
    await dialIn(port);
    const acked = (c: PppClient) => c.said.some((l) => l.startsWith('rcvd [CBCP Ack'));
    await firstLeg(
      port,
      { user: 'roamer', secret: PIN, callback: CALLER, delay: 0, noTerminate: true },
      acked,
    );
    bench.caller.dropCarrier();
    await answerCallback(port);
    await port.write('pppuser\r');
    await port.expect('Password: ', 5_000);
    await port.write(`${PASSWORD}\r`);
    await pingStandin(port, 'called back anyway');
    await port.write('BYE\n');
    const records = await callEnds(bench, 1);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 'ppp-ok', kind: 'callback', callbackNumber: CALLER });
    expect(commands(bench, /^ATD/i).map((e) => e.line)).toEqual([`ATDT${CALLER}`]);
  });

  it.each([
    ['a wrong PAP secret', { user: 'roamer', secret: 'wrong-pin', callback: CALLER }, 19, 'PAP refused'],
    [
      'a number outside the rules',
      { user: 'roamer', secret: PIN, callback: '4567890' },
      16,
      'number refused',
    ],
    ['a client without LCP option 13', { user: 'roamer', secret: PIN }, 16, 'option 13'],
  ] as const)('%s: no call-back, no ATD, one record', async (_what, opts, exit, detail) => {
    bench = await pppBench();
    const port = await bench.openCaller();
    await dialIn(port);
    const client = await firstLeg(port, { ...opts });
    expect(client.exitCode, client.said.join('\n')).toBe(exit);
    const records = await callEnds(bench, 1);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 'ppp-callback-failed' });
    const end = bench.tap.events.find((e) => e.event === 'call-end');
    expect(String(end?.detail)).toContain(detail);
    expect(JSON.stringify(records)).not.toContain('wrong-pin');
    expect(JSON.stringify(bench.tap.events)).not.toContain('wrong-pin');
    await bench.tap.waitFor((e) => e.event === 'state' && e.to === 'idle' && e.from === 'teardown', 10_000);
    expect(commands(bench, /^ATD/i)).toHaveLength(0);
  });

  it('a client without option 13 and without_cbcp = "pppd": after PAP the line goes to pppd, no call-back', async () => {
    bench = await pppBench('pppd');
    const port = await bench.openCaller();
    await dialIn(port);
    await firstLeg(port, { user: 'roamer', secret: PIN }, (c) => c.said.includes('rcvd [PAP AuthAck]'));
    // The pppd stand-in has the line now, as after an AutoPPP login.
    await pingStandin(port, 'handed over');
    await port.write('BYE\n');
    const records = await callEnds(bench, 1);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 'ppp-ok', kind: 'direct-ppp', login: ['roamer'] });
    expect(records[0]!.callbackNumber).toBeUndefined();
    expect(commands(bench, /^ATD/i)).toHaveLength(0);
    expect(bench.tap.events.find((e) => e.event === 'ppp-callback-handoff')?.reason).toBe('not-negotiated');
  });

  it('garbage frames at the first prompt: no crash, one record, the line answers the next call', async () => {
    bench = await pppBench();
    const port = await bench.openCaller();
    await dialIn(port);
    // An LCP start (so the prompt hands the line to the engine), then broken frames and noise.
    await port.write(Buffer.from('7eff7d23c0210101ffff7e7e0011223344557e', 'hex'));
    for (let i = 0; i < 20; i++)
      await port.write(Buffer.from([0x7e, 0xff, 0x03, i, 0x7d, 0x7e, 0x41, 0x0d, 0x0a, 0x7e]));
    await bench.tap.waitFor((e) => e.event === 'ppp-callback-start', 10_000);
    bench.caller.dropCarrier();
    const records = await callEnds(bench, 1);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 'carrier-lost' });
    expect(bench.tap.events.find((e) => e.event === 'call-end')?.detail).toBe('during ppp-callback');
    await bench.tap.waitFor((e) => e.event === 'state' && e.to === 'idle' && e.from === 'teardown', 10_000);
    expect(commands(bench, /^ATD/i)).toHaveLength(0);
    // The same line takes the next call as usual.
    await port.write('ATH\r');
    await port.expect('OK', 5_000);
    await dialIn(port);
  });
});
