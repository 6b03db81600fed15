import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { haveRealChat } from '../../src/sim/caller.js';
import type { LogEvent } from '../../src/log-tap.js';
import {
  answerCallback,
  CALLER,
  dialIn,
  chatThenOpen,
  pingStandin,
  startBench,
  type Bench,
} from '../helpers/bench.js';
import { FREERADIUS, FreeRadius, parseDetail, writeSecretFile } from '../helpers/freeradius.js';
import { testRadiusConfig } from '../helpers/radius-config.js';
import { testEntry } from '../helpers/config.js';
import { existsSync } from 'node:fs';

// A whole call through the daemon's line session with callbackd as a RADIUS NAS: the
// logins are decided by a real FreeRADIUS 3.2 on the loopback (no local call-back entry,
// no local PPP user), the call-back number comes from its Callback-Number, and both legs
// are accounted in its detail file.

const SECRET = 'testing123';
const PIN = '4711';
const USERS = `call    Cleartext-Password := "${PIN}"
        Service-Type = Callback-Framed-User, Callback-Number = "${CALLER}",
        Reply-Message = "RADIUS calls you back"
pppuser Cleartext-Password := "password_for_pppuser", Service-Type == Framed-User
        Service-Type = Framed-User, Framed-Protocol = PPP, Framed-IP-Address = 192.168.1.77,
        Idle-Timeout = 600
quick   Cleartext-Password := "${PIN}"
        Service-Type = Callback-Framed-User, Callback-Id = "quick"
rejectme Auth-Type := Reject
`;

/** The seed's client script with the PIN RADIUS asks for after `call`. */
const script = readFileSync(new URL('../../config/client/pppcallback', import.meta.url), 'utf8').replace(
  'ogin:-ogin: call\n',
  `ogin:-ogin: call\nsword: ${PIN}\n`,
);

const haveFreeRadius = existsSync(FREERADIUS);

/** The per-call summary line, from what FreeRADIUS wrote in its detail file. */
function summary(records: Record<string, string>[], callId: string): string {
  const mine = records.filter((r) => r['Acct-Multi-Session-Id'] === callId);
  const sessions = new Set(mine.map((r) => r['Acct-Session-Id']));
  const starts = mine.filter((r) => r['Acct-Status-Type'] === 'Start').length;
  const stops = mine.filter((r) => r['Acct-Status-Type'] === 'Stop');
  const multi = [...new Set(mine.map((r) => r['Acct-Multi-Session-Id']))].join(',');
  const cause = stops[stops.length - 1]?.['Acct-Terminate-Cause'];
  return `radius: call ${callId} legs=${sessions.size} start=${starts} stop=${stops.length} multi-session=${multi} cause=${cause}`;
}

const delivered = (e: LogEvent): boolean => e.msg === 'radius: accounting record delivered';
const answered = (e: LogEvent): boolean => e.msg === 'radius: answer';

describe.skipIf(!haveFreeRadius)('a call through the session with callbackd as a RADIUS NAS', () => {
  let fr: FreeRadius;
  let secretFile: string;
  let bench: Bench | undefined;

  beforeAll(async () => {
    fr = await FreeRadius.create({ secret: SECRET, users: USERS });
    await fr.start();
    secretFile = await writeSecretFile(fr.dir, SECRET);
  });
  afterAll(async () => {
    await fr?.destroy();
  });
  afterEach(async () => {
    await bench?.close();
    bench = undefined;
  });

  const withRadius =
    (over: Parameters<typeof testRadiusConfig>[0] = {}, maxFailures = 5) =>
    (c: Bench['config']): Bench['config'] => ({
      ...c,
      // Only "quick" is a local entry (PIN-less: RADIUS decides all the same), for Callback-Id.
      callbacks: [testEntry({ name: 'quick', number: CALLER })],
      pppUsers: [],
      // The exchange sends the caller ID with the second RING; the lockout counts by it.
      lines: c.lines.map((l) => ({ ...l, rings: 2 })),
      login: { ...c.login, maxAttempts: 10 },
      security: { ...c.security, lockout: { ...c.security.lockout, maxFailures } },
      radius: testRadiusConfig({
        servers: [{ address: '127.0.0.1', authPort: fr.authPort, acctPort: fr.acctPort, secretFile }],
        ...over,
      }),
    });

  it.skipIf(!haveRealChat())(
    'calls back the Callback-Number FreeRADIUS gives, logs pppuser in through it, accounts both legs',
    async () => {
      bench = await startBench(withRadius());
      const { ok, log, port } = await chatThenOpen(bench, script, 60_000);
      expect(ok, log).toBe(true);
      await pingStandin(port, 'hello radius');
      await port.write('BYE\n');
      const end = await bench.callEnd();
      const callId = String(end.callId);
      expect(end).toMatchObject({
        outcome: 'ppp-ok',
        kind: 'callback',
        callbackNumber: CALLER,
        pppUser: 'pppuser',
        login: ['call', 'pppuser'],
        terminateCause: 'User-Request',
      });
      // Exactly one local record: the ground truth.
      expect(bench.accounting()).toHaveLength(1);
      // Both logins were FreeRADIUS's answers; the local config has neither name.
      const answers = bench.tap.events.filter(answered);
      expect(answers.map((e) => [e.user, e.leg, e.result])).toEqual([
        ['call', 1, 'accept'],
        ['pppuser', 2, 'accept'],
      ]);
      // Framed-IP-Address and Idle-Timeout from the Access-Accept reached pppd's argv.
      const spawned = bench.tap.events.find((e) => e.event === 'ppp-spawned');
      const args = spawned?.args as string[];
      expect(args).toContain('192.168.1.1:192.168.1.77');
      expect(args.join(' ')).toContain('idle 600');
      // A text login on the second leg: callbackd asked RADIUS itself, radius.so is not loaded.
      expect(args).not.toContain('plugin');

      // Start and Stop of both legs, acknowledged by FreeRADIUS (so in its detail file).
      await bench.tap.waitForCount(delivered, 4, 20_000);
      const records = parseDetail(await fr.detail()).filter((r) => r['Acct-Multi-Session-Id'] === callId);
      const line = summary(records, callId);
      console.log(line);
      expect(line).toBe(
        `radius: call ${callId} legs=2 start=2 stop=2 multi-session=${callId} cause=User-Request`,
      );
      const stop1 = records.find(
        (r) => r['Acct-Session-Id'] === `${callId}-1` && r['Acct-Status-Type'] === 'Stop',
      );
      const start2 = records.find(
        (r) => r['Acct-Session-Id'] === `${callId}-2` && r['Acct-Status-Type'] === 'Start',
      );
      const stop2 = records.find(
        (r) => r['Acct-Session-Id'] === `${callId}-2` && r['Acct-Status-Type'] === 'Stop',
      );
      expect(stop1?.['Acct-Terminate-Cause']).toBe('Callback');
      expect(start2).toMatchObject({
        'Called-Station-Id': CALLER,
        'User-Name': 'call',
        'NAS-Port-Id': 'ttyS1',
      });
      // pppd's traffic on the Stop of the PPP leg, as in the local record.
      expect(Number(stop2?.['Acct-Input-Octets'])).toBe(bench.accounting()[0]!.bytesIn);
      expect(JSON.stringify(bench.tap.events)).not.toContain('password_for_pppuser');
      expect(JSON.stringify(bench.tap.events)).not.toContain(SECRET);
    },
    120_000,
  );

  it('loads radius.so into pppd on an AutoPPP second leg, with the call id as Acct-Multi-Session-Id', async () => {
    bench = await startBench(withRadius());
    const port = await bench.openCaller();
    await dialIn(port);
    // Callback-Id: the local entry "quick" (its number and its short delay).
    await port.write('quick\r');
    await port.expect('Password: ', 5_000);
    await port.write(`${PIN}\r`);
    await port.expect(`Calling you back at ${CALLER}`, 10_000);
    await port.expect('NO CARRIER', 5_000);
    await answerCallback(port);
    // An LCP Configure-Request at the prompt: pppd takes over and checks PAP itself.
    await port.write(Buffer.from([0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04, 0x7e]));
    const spawned = await bench.tap.waitFor((e) => e.event === 'ppp-spawned', 20_000);
    const callId = String(bench.tap.events.find((e) => e.event === 'ppp-start')?.callId);
    const args = spawned.args as string[];
    const at = args.indexOf('plugin');
    expect(args.slice(at, at + 6)).toEqual([
      'plugin',
      'radius.so',
      'radius-config-file',
      `${bench.dir}/radius/radiusclient.conf`,
      'avpair',
      `Acct-Multi-Session-Id=${callId}`,
    ]);
    expect(args).toContain('require-pap');
  });

  it('refuses a wrong PIN, an unknown user and an Access-Reject with the same words, and counts each', async () => {
    bench = await startBench(withRadius({}, 3));
    const port = await bench.openCaller();
    await dialIn(port);
    const said: string[] = [];
    for (const [name, secret] of [
      ['call', 'wrong'],
      ['nobody', PIN],
      ['rejectme', 'whatever'],
    ] as const) {
      await port.write(`${name}\r`);
      await port.expect('Password: ', 5_000);
      await port.write(`${secret}\r`);
      said.push((await port.expect('login: ', 10_000)).replace(/^\s*/, ''));
    }
    expect(said[0]).toContain('Login incorrect');
    expect(new Set(said).size).toBe(1);
    const refused = bench.tap.events.filter((e) => e.event === 'login-refused');
    expect(refused.map((e) => e.failures)).toEqual([1, 2, 3]);
    expect(refused.every((e) => String(e.reason) === 'radius: Access-Reject')).toBe(true);
    await bench.tap.waitFor((e) => e.event === 'locked-out' && e.key === `cid:${CALLER}`, 5_000);
    expect(bench.tap.events.filter(answered).map((e) => e.result)).toEqual(['reject', 'reject', 'reject']);

    // Three failures from this caller ID lock it: the right PIN now gets the same refusal,
    // and FreeRADIUS is not even asked.
    await port.write('call\r');
    await port.expect('Password: ', 5_000);
    await port.write(`${PIN}\r`);
    expect((await port.expect('login: ', 10_000)).replace(/^\s*/, '')).toBe(said[0]);
    expect(bench.tap.events.filter(answered)).toHaveLength(3);
    expect(bench.tap.events.filter((e) => e.event === 'callback-accepted')).toHaveLength(0);
  });

  it('says the login service is unavailable when no RADIUS server answers, and logs it', async () => {
    // A port nobody listens on: every transmission times out.
    bench = await startBench((c) => {
      const t = withRadius({ timeoutMs: 200, retries: 1 })(c);
      return {
        ...t,
        radius: { ...t.radius!, servers: [{ ...t.radius!.servers[0]!, authPort: fr.authPort + 2 }] },
      };
    });
    const port = await bench.openCaller();
    await dialIn(port);
    await port.write('call\r');
    await port.expect('Password: ', 5_000);
    await port.write(`${PIN}\r`);
    const text = await port.expect('login: ', 10_000);
    expect(text).toContain('Login service unavailable');
    const e = await bench.tap.waitFor((x) => x.event === 'radius-unavailable', 5_000);
    expect(e).toMatchObject({ fallback: 'none' });
    expect(bench.tap.events.find((x) => x.event === 'login-refused')).toMatchObject({
      reason: 'radius: no RADIUS server answered',
    });
    expect(bench.tap.events.some((x) => x.event === 'call-end')).toBe(false);
  });
});
