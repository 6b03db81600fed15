import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/types.js';
import { haveRealChat, runRealChat } from '../../src/sim/caller.js';
import {
  CALLER,
  PASSWORD,
  SERVER,
  dialIn,
  chatThenOpen,
  pingStandin,
  startBench,
  type Bench,
} from '../helpers/bench.js';
import { testEntry } from '../helpers/config.js';

// Ring-back by caller ID on real ptys: the caller's real chat(8) dials, its modem gives
// up after two RINGs (the simulator's abandonAfterRings: the caller pays nothing), and
// callbackd, which never answered, calls the entry's number back. Every wait is on an
// event or a text; nothing here measures time.

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

/** The caller's ring-back entry; `listed` is the caller-ID list. */
function ringBack(listed: string[]): (c: Config) => Config {
  return (c) => ({
    ...c,
    // Two RINGs before answering: the caller ID arrives between the first and the second.
    lines: c.lines.map((l) => ({ ...l, rings: 2 })),
    callbacks: [
      testEntry(),
      testEntry({ name: 'home', trigger: 'ring', callerId: listed, number: CALLER, ringGapMs: 2_000 }),
    ],
    security: { ...c.security, rateLimit: { ...c.security.rateLimit, perEntry: 1 } },
  });
}

const commands = (b: Bench, re: RegExp) =>
  b.exchange.events.filter((e) => e.type === 'command' && e.modem === SERVER && re.test(String(e.line)));

/** chat(8) rings the server and waits for its own modem to give up. */
const RING_AND_HANG_UP = `TIMEOUT 20
ABORT 'BUSY'
ABORT 'CONNECT'
'' AT&FH0 OK ATDT${SERVER} '\\nNO CARRIER\\r' \\c
`;

/** As the HOWTO's client: ring, hang up, answer the call-back, log in for PPP. */
const RING_BACK_CLIENT = `${RING_AND_HANG_UP}TIMEOUT 60
'\\nRING\\r' ATA
CONNECT ''
TIMEOUT 20
ogin:-ogin: pppuser
sword:-sword ${PASSWORD}
`;

const callEnds = (b: Bench, n: number) =>
  b.tap.waitForCount((e) => e.event === 'call-end', n, 30_000).then(() => b.accounting());

describe.skipIf(!haveRealChat())('ring-back by caller ID, with the real chat program', () => {
  it('calls a listed caller back without answering, then refuses the next ring over the rate limit', async () => {
    bench = await startBench(ringBack([CALLER, '!all']));
    bench.caller.setFaults({ abandonAfterRings: 2 });
    const { ok, log, port } = await chatThenOpen(bench, RING_BACK_CLIENT, 90_000);
    expect(ok, log).toBe(true);
    // The pppd stand-in has the line after the second leg's login.
    await pingStandin(port, 'rang back');
    await port.write('BYE\n');
    const [first] = await callEnds(bench, 1);
    expect(first).toMatchObject({
      outcome: 'ppp-ok',
      kind: 'callback',
      callerId: CALLER,
      callbackNumber: CALLER,
      dialAttempts: 1,
      login: ['pppuser'],
      pppUser: 'pppuser',
    });
    // Rang, never answered: the first leg has no ATA; the one dial is the entry's number.
    expect(commands(bench, /^ATA/i)).toHaveLength(0);
    expect(commands(bench, /^ATD/i).map((e) => e.line)).toEqual([`ATDT${CALLER}`]);
    await bench.tap.waitFor((e) => e.event === 'state' && e.to === 'idle' && e.from === 'teardown', 10_000);

    // A second ring within the hour: per_entry = 1 refuses it, and nothing is dialled.
    // chat must be the tty's only reader.
    await port.close();
    const again = await runRealChat(bench.caller.ttyPath, RING_AND_HANG_UP, 30_000);
    again.release();
    expect(again.ok, again.log).toBe(true);
    const records = await callEnds(bench, 2);
    expect(records).toHaveLength(2);
    expect(records[1]).toMatchObject({
      outcome: 'ring-back-refused',
      terminateCause: 'Service-Unavailable',
      kind: 'refused',
      callerId: CALLER,
    });
    expect(records[1]!.callbackNumber).toBeUndefined();
    expect(commands(bench, /^ATD/i)).toHaveLength(1);
    expect(commands(bench, /^ATA/i)).toHaveLength(0);
  });

  it('answers an unlisted caller ID as an ordinary call', async () => {
    bench = await startBench(ringBack(['0301234', '!all']));
    const port = await bench.openCaller();
    await dialIn(port);
    bench.caller.dropCarrier();
    const [record] = await callEnds(bench, 1);
    expect(record).toMatchObject({ outcome: 'carrier-lost', callerId: CALLER });
    expect(commands(bench, /^ATA/i)).toHaveLength(1);
    expect(commands(bench, /^ATD/i)).toHaveLength(0);
  });

  it('records an unlisted ring on a line that does not answer, and does nothing else', async () => {
    bench = await startBench((c) => {
      const t = ringBack(['0301234', '!all'])(c);
      return { ...t, lines: t.lines.map((l) => ({ ...l, answer: false })) };
    });
    bench.caller.setFaults({ abandonAfterRings: 2 });
    const chat = await runRealChat(bench.caller.ttyPath, RING_AND_HANG_UP, 30_000);
    chat.release();
    expect(chat.ok, chat.log).toBe(true);
    const records = await callEnds(bench, 1);
    expect(records).toEqual([
      expect.objectContaining({
        outcome: 'ring-not-listed',
        terminateCause: 'Service-Unavailable',
        kind: 'refused',
        callerId: CALLER,
      }),
    ]);
    expect(commands(bench, /^AT[AD]/i)).toHaveLength(0);
  });
});
