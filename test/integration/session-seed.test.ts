import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { haveRealChat } from '../../src/sim/caller.js';
import { CALLER, chatThenOpen, pingStandin, startBench, type Bench } from '../helpers/bench.js';

// The HOWTO's scenario, end to end on real ptys: the real chat(8) runs the HOWTO's
// client script (config/client/pppcallback) on the caller's modem; callbackd answers,
// hangs up on `call`, dials back, takes pppuser's password and hands the tty to the
// pppd stand-in, which then talks to the caller over the same line.

const script = readFileSync(new URL('../../config/client/pppcallback', import.meta.url), 'utf8');
let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

describe('the seed scenario with the real chat program', () => {
  it.skipIf(!haveRealChat())(
    'calls back, logs pppuser in, hands the line to pppd, accounts for the call',
    async () => {
      bench = await startBench();
      const { ok, log, port } = await chatThenOpen(bench, script, 60_000);
      expect(log).toContain('CONNECT');
      expect(ok, log).toBe(true);
      // Both directions across the handed-over line: the caller's lines reach the
      // stand-in on its stdin, its answers reach the caller from its stdout.
      await pingStandin(port, 'hello 1');
      await pingStandin(port, 'hello 2');
      const running = bench.tap.events.find((e) => e.event === 'ppp-running');
      expect(running?.pid).toEqual(expect.any(Number));
      await port.write('BYE\n');

      const end = await bench.callEnd();
      expect(end).toMatchObject({
        outcome: 'ppp-ok',
        kind: 'callback',
        callbackNumber: CALLER,
        pppUser: 'pppuser',
        login: ['call', 'pppuser'],
        dialAttempts: 1,
        terminateCause: 'User-Request',
      });
      const records = bench.accounting();
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ callbackNumber: CALLER, pppExitCode: 0 });
      // Traffic as pppd reported it when the link ended.
      expect(records[0]!.bytesIn).toBeGreaterThanOrEqual('hello 1\nhello 2\nBYE\n'.length);
      expect(records[0]!.bytesOut).toBeGreaterThan(0);
      // Nothing secret reached the log.
      expect(JSON.stringify(bench.tap.events)).not.toContain('password_for_pppuser');
      // The line is ready for the next call.
      await bench.tap.waitFor((e) => e.event === 'state' && e.to === 'idle' && e.from === 'teardown', 10_000);
    },
  );
});

describe('the seed scenario with no settle time', () => {
  // With settle 0 the prompt is out before what the script sends at CONNECT arrives (a
  // CR on the first leg; on the second, `AT&C1A` for its own modem, which has answered
  // already, then a CR): each only shows the prompt again, nothing is counted, and the
  // name typed after it is kept whole, whichever way the bytes are split.
  it.skipIf(!haveRealChat())('what the script sends at CONNECT costs nothing, on both legs', async () => {
    bench = await startBench((c) => ({
      ...c,
      lines: c.lines.map((l) => ({ ...l, timing: { ...l.timing, settleMs: 0 } })),
    }));
    const { ok, log, port } = await chatThenOpen(bench, script, 60_000);
    expect(ok, log).toBe(true);
    await pingStandin(port, 'hello');
    await port.write('BYE\n');
    const end = await bench.callEnd();
    expect(end).toMatchObject({ outcome: 'ppp-ok', login: ['call', 'pppuser'], pppUser: 'pppuser' });
    expect(bench.tap.events.filter((e) => e.event === 'login-refused')).toHaveLength(0);
    expect(bench.accounting()).toHaveLength(1);
  });
});
