import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/types.js';
import { hashSecret } from '../../src/policy/index.js';
import type { Terminal } from '../../src/sim/terminal.js';
import {
  CALLER,
  PASSWORD,
  SERVER,
  SERVER2,
  answerCallback,
  callBack,
  dialIn,
  pingStandin,
  startBench,
  type Bench,
} from '../helpers/bench.js';
import { testEntry, testUser } from '../helpers/config.js';

// Whole calls on real ptys, with a caller driven step by step from the test, for the
// paths the HOWTO's script does not take. Every wait is on an event or a text.

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

const dials = (b: Bench) =>
  b.exchange.events.filter((e) => e.type === 'command' && e.modem === SERVER && /^ATD/i.test(String(e.line)));

describe('second login', () => {
  it('starts pppd with PAP required on PPP frames after the call-back (AutoPPP)', async () => {
    bench = await startBench();
    const port = await callBack(bench);
    // An LCP Configure-Request start as a PPP client sends it, control byte escaped.
    await port.write(Buffer.from([0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04, 0x7e]));
    const spawned = await bench.tap.waitFor((e) => e.event === 'ppp-spawned', 10_000);
    expect(spawned.args).toContain('require-pap');
    expect(bench.tap.events.find((e) => e.event === 'ppp-start')).toMatchObject({ autoPpp: true });
    await pingStandin(port, 'lcp retry');
    await port.write('BYE\n');
    expect(await bench.callEnd()).toMatchObject({ outcome: 'ppp-ok', kind: 'callback', login: ['call'] });
  });

  it('accepts a password longer than any login name', async () => {
    const long = 'correct horse battery staple, twice: correct horse';
    const passwordHash = await hashSecret(long);
    bench = await startBench((c) => ({ ...c, pppUsers: [testUser(passwordHash)] }));
    const port = await callBack(bench);
    await port.write('pppuser\r');
    await port.expect('Password: ', 5_000);
    await port.write(`${long}\r`);
    await bench.tap.waitFor((e) => e.event === 'ppp-running', 10_000);
  });

  it('refuses a wrong password, and hangs up after max_attempts', async () => {
    bench = await startBench();
    const port = await callBack(bench);
    for (let i = 0; i < 3; i++) {
      if (i > 0) await port.expect('login: ', 5_000);
      await port.write('pppuser\r');
      await port.expect('Password: ', 5_000);
      await port.write('not-the-password\r');
      await port.expect('Login incorrect', 5_000);
    }
    // The goodbye gets out before the line drops.
    await port.expect('Goodbye.', 5_000);
    await port.expect('NO CARRIER', 5_000);
    expect(await bench.callEnd()).toMatchObject({ outcome: 'login-refused', terminateCause: 'User-Error' });
    expect(bench.tap.events.filter((e) => e.event === 'login-refused')).toHaveLength(3);
    expect(JSON.stringify(bench.tap.events)).not.toContain('not-the-password');
  });
});

describe('first login', () => {
  it('gives an unknown user the same dialogue as a wrong PIN', async () => {
    const pinHash = await hashSecret('2468');
    bench = await startBench((c) => ({ ...c, callbacks: [testEntry({ pinHash })] }));
    const port = await bench.openCaller();
    await dialIn(port);
    const mark = port.text.length;
    await port.write('call\r');
    await port.expect('Password: ', 5_000);
    await port.write('1111\r');
    await port.expect('login: ', 5_000);
    const wrongPin = port.text.slice(mark);
    const mark2 = port.text.length;
    await port.write('nobody\r');
    await port.expect('Password: ', 5_000);
    await port.write('1111\r');
    await port.expect('login: ', 5_000);
    const unknown = port.text.slice(mark2);
    // Same words, apart from the name echoed back as it was typed.
    expect(unknown.replace('nobody', 'NAME')).toBe(wrongPin.replace('call', 'NAME'));
    expect(dials(bench)).toHaveLength(0);
  });

  it('warns, then hangs up, when nobody logs in', async () => {
    bench = await startBench((c) => ({
      ...c,
      lines: c.lines.map((l) => ({ ...l, timing: { ...l.timing, loginMs: 400, loginGraceMs: 300 } })),
    }));
    const port = await bench.openCaller();
    await dialIn(port);
    await port.expect('Login timeout soon', 5_000);
    await port.expect('NO CARRIER', 5_000);
    expect(await bench.callEnd()).toMatchObject({ outcome: 'login-timeout', terminateCause: 'Idle-Timeout' });
  });
});

describe('bad input at the prompt', () => {
  it('survives line noise and an overlong name, then serves the caller', async () => {
    bench = await startBench();
    const port = await bench.openCaller();
    await dialIn(port);
    // 20 KB of noise with no line end, ^C or ^U in it: one overlong "name".
    const noise = Buffer.alloc(20_000);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919 + 13) % 256;
    const clean = noise.filter((b) => ![0x0d, 0x0a, 0x03, 0x15, 0x2b].includes(b & 0x7f));
    await port.write(Buffer.from(clean));
    await port.write('\r');
    await port.expect('Login incorrect', 5_000);
    await port.expect('login: ', 5_000);
    expect(bench.tap.events.find((e) => e.event === 'login-refused')).toMatchObject({
      reason: 'input too long',
    });
    await port.write('call\r');
    await port.expect('Calling you back', 5_000);
  });
});

describe('dialling back', () => {
  it('calls back even when the caller leaves its modem alone after NO CARRIER', async () => {
    bench = await startBench();
    const port = await bench.openCaller();
    await dialIn(port);
    await port.write('call\r');
    // No ATH, no further commands: callbackd's DTR drop ends the first call by itself.
    await port.expect('NO CARRIER', 5_000);
    await answerCallback(port);
    await port.write('pppuser\r');
    await port.expect('Password: ', 5_000);
    await port.write(`${PASSWORD}\r`);
    await pingStandin(port, 'after callback');
    await port.write('BYE\n');
    expect(await bench.callEnd()).toMatchObject({ outcome: 'ppp-ok', dialAttempts: 1 });
  });

  it('retries after BUSY and connects on the second attempt', async () => {
    bench = await startBench();
    bench.server.setFaults({ dialResult: 'BUSY', dialResultCount: 1 });
    const port = await bench.openCaller();
    await dialIn(port);
    await port.write('call\r');
    await port.expect('NO CARRIER', 5_000);
    await answerCallback(port);
    const failed = bench.tap.events.filter((e) => e.event === 'dial-failed');
    expect(failed).toMatchObject([{ outcome: 'busy', attempt: 1 }]);
    expect(dials(bench)).toHaveLength(2);
  });

  it('gives up after NO ANSWER on every attempt and says why', async () => {
    bench = await startBench();
    bench.server.setFaults({ dialResult: 'NO ANSWER' });
    const port = await bench.openCaller();
    await dialIn(port);
    await port.write('call\r');
    const end = await bench.callEnd();
    expect(end).toMatchObject({ outcome: 'callback-failed-no-answer', kind: 'failed', dialAttempts: 3 });
    expect(bench.tap.events.filter((e) => e.event === 'dial-failed')).toHaveLength(3);
    expect(dials(bench)).toHaveLength(3);
    expect(bench.accounting()).toHaveLength(1);
  });
});

describe('another dial-out line', () => {
  it("calls back on the entry's dial_lines, and that line carries the call to pppd", async () => {
    bench = await startBench(
      (c) => ({
        ...c,
        lines: c.lines.map((l) => (l.name === 'ttyS1' ? { ...l, dialOut: false } : { ...l, answer: false })),
        callbacks: [testEntry({ dialLines: ['ttyS2'] })],
      }),
      { twoLines: true },
    );
    const port = await callBack(bench);
    const dialled = bench.exchange.events.filter((e) => e.type === 'command' && /^ATD/.test(String(e.line)));
    expect(dialled.map((e) => [e.modem, e.line])).toEqual([
      [CALLER, `ATDT${SERVER}`],
      [SERVER2, `ATDT${CALLER}`],
    ]);
    await port.write('pppuser\r');
    await port.expect('Password: ', 5_000);
    await port.write(`${PASSWORD}\r`);
    await pingStandin(port, 'via line 2');
    await port.write('BYE\n');
    const end = await bench.callEnd();
    expect(end).toMatchObject({ line: 'ttyS2', outcome: 'ppp-ok', login: ['call', 'pppuser'] });
    expect(bench.accounting()).toHaveLength(1);
    expect(bench.tap.events.find((e) => e.event === 'callback-transferred')).toMatchObject({ to: 'ttyS2' });
  });
});

describe('caller-supplied numbers', () => {
  const roam = (c: Config): Config => ({
    ...c,
    callbacks: [
      testEntry({
        name: 'roam',
        number: undefined,
        callerSupplies: true,
        rules: { allow: ['1234'], deny: ['0900'], minLength: 6, maxLength: 12, modifiers: '' },
      }),
    ],
  });

  it('dials a number that passes the rules', async () => {
    bench = await startBench(roam);
    const port = await bench.openCaller();
    await dialIn(port);
    await port.write('roam\r');
    await port.expect('Call-back number: ', 5_000);
    await port.write('123-456\r');
    await port.expect(`Calling you back at ${CALLER}`, 5_000);
    await answerCallback(port);
    expect(dials(bench).map((e) => e.line)).toEqual([`ATDT${CALLER}`]);
  });

  it('refuses a number outside the rules and never dials it', async () => {
    bench = await startBench(roam);
    const port = await bench.openCaller();
    await dialIn(port);
    await port.write('roam\r');
    await port.expect('Call-back number: ', 5_000);
    await port.write('0900123456\r');
    await port.expect('Number not allowed', 5_000);
    await port.expect('login: ', 5_000);
    await port.write('roam\r');
    await port.expect('Call-back number: ', 5_000);
    await port.write('123456;ATH\r');
    await port.expect('Number not allowed', 5_000);
    expect(dials(bench)).toHaveLength(0);
    expect(bench.tap.events.filter((e) => e.event === 'login-refused')).toHaveLength(2);
  });
});

describe('carrier lost', () => {
  it('at the login prompt ends the call and the line waits again', async () => {
    bench = await startBench();
    const port = await bench.openCaller();
    await dialIn(port);
    bench.caller.dropCarrier();
    expect(await bench.callEnd()).toMatchObject({ outcome: 'carrier-lost', terminateCause: 'Lost-Carrier' });
    await bench.tap.waitFor((e) => e.event === 'state' && e.to === 'idle', 5_000);
  });

  it('at the password prompt after the call-back ends the call', async () => {
    bench = await startBench();
    const port = await callBack(bench);
    await port.write('pppuser\r');
    await port.expect('Password: ', 5_000);
    bench.caller.dropCarrier();
    expect(await bench.callEnd()).toMatchObject({ outcome: 'carrier-lost', kind: 'callback' });
  });

  it('while pppd runs: pppd sees the hang-up and the call ends with its outcome', async () => {
    bench = await startBench();
    const port = await callBack(bench);
    await port.write('pppuser\r');
    await port.expect('Password: ', 5_000);
    await port.write(`${PASSWORD}\r`);
    await pingStandin(port, 'up');
    bench.caller.dropCarrier();
    const end = await bench.callEnd();
    // As the kernel does on a real tty, callbackd hands pppd the hang-up (SIGHUP):
    // pppd exits 16, "modem hung up".
    expect(end).toMatchObject({
      kind: 'callback',
      pppUser: 'pppuser',
      outcome: 'ppp-hangup',
      pppExitCode: 16,
      terminateCause: 'Lost-Carrier',
    });
  });

  it('while a child that ignores the hang-up runs: SIGHUP, SIGTERM, SIGKILL to its group; the line is ready again', async () => {
    bench = await startBench((c) => ({
      ...c,
      pppd: { ...c.pppd, prefixArgs: [...c.pppd.prefixArgs, 'standin-ignore-hup', 'standin-ignore-term'] },
    }));
    const port = await callBack(bench);
    await port.write('pppuser\r');
    await port.expect('Password: ', 5_000);
    await port.write(`${PASSWORD}\r`);
    await pingStandin(port, 'up');
    bench.caller.dropCarrier();
    const end = await bench.callEnd();
    expect(end).toMatchObject({ kind: 'callback', pppUser: 'pppuser' });
    const exit = bench.tap.events.find((e) => e.event === 'ppp-exit');
    expect(exit).toMatchObject({ code: null, signal: 'SIGKILL' });
    // The order, not the time: the hang-up, then each step the child ignored, then the exit.
    const seq = bench.tap.events
      .filter((e) => ['carrier-lost', 'pppd-ignores-hangup', 'ppp-exit'].includes(String(e.event)))
      .map((e) => (e.event === 'pppd-ignores-hangup' ? String(e.signal) : String(e.event)));
    expect(seq).toEqual(['carrier-lost', 'SIGTERM', 'SIGKILL', 'ppp-exit']);
    // The line is initialised again and answers the next call.
    await bench.tap.waitFor((e) => e.event === 'state' && e.to === 'idle', 10_000);
    // One reader on the caller's tty: with the first call's port still open, either fd
    // could read the modem's OK (seen under load: the new port waited for it in vain).
    await port.close();
    const again = await bench.openCaller();
    await dialIn(again);
  });

  it('while the call-back rings: the attempt fails and is retried', async () => {
    bench = await startBench();
    const port = await bench.openCaller();
    await dialIn(port);
    await port.write('call\r');
    await port.expect('NO CARRIER', 5_000);
    await port.expect('RING', 10_000);
    // The caller's modem is unplugged mid-ring: the exchange reports the call gone.
    await port.close();
    const failed = await bench.tap.waitFor((e) => e.event === 'dial-failed', 15_000);
    expect(failed.attempt).toBe(1);
  });
});
