import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/types.js';
import { hashSecret } from '../../src/policy/index.js';
import type { LogEvent } from '../../src/log-tap.js';
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
import { FREERADIUS, FreeRadius, writeSecretFile } from '../helpers/freeradius.js';
import { firstLeg } from '../helpers/ppp-client.js';
import { testRadiusConfig } from '../helpers/radius-config.js';

// Call-back inside PPP with callbackd as a RADIUS NAS: the caller's scripted pppd-like
// client authenticates with PAP at the first login, and a real FreeRADIUS 3.2 on the
// loopback decides, exactly as for the text login's secret. Its Callback-Number becomes
// the CBCP offer (administrator-defined type) and the number dialled; its Access-Reject
// ends the link with no call-back and counts towards the lockout.

const SECRET = 'testing123';
const PIN = 'cbpin123';
// `rnum` is no local name: FreeRADIUS alone knows it. `roamer` is a local entry whose own
// PIN is right, but FreeRADIUS rejects it: RADIUS decides, not the local pin_hash. The
// second leg's text login (pppuser) is FreeRADIUS's too.
const USERS = `rnum    Cleartext-Password := "${PIN}"
        Service-Type = Callback-Framed-User, Callback-Number = "${CALLER}",
        Callback-Id = "roamer"
roamer  Auth-Type := Reject
radiususer Cleartext-Password := "${PIN}"
        Service-Type = Framed-User, Framed-Protocol = PPP, Session-Timeout = 3600
pppuser Cleartext-Password := "${PASSWORD}", Service-Type == Framed-User
        Service-Type = Framed-User, Framed-Protocol = PPP
`;

const haveFreeRadius = existsSync(FREERADIUS);
const answered = (e: LogEvent): boolean => e.msg === 'radius: answer';

describe.skipIf(!haveFreeRadius)('call-back inside PPP decided by FreeRADIUS', () => {
  let fr: FreeRadius;
  let secretFile: string;
  let pinHash: string;
  let bench: Bench | undefined;

  beforeAll(async () => {
    fr = await FreeRadius.create({ secret: SECRET, users: USERS });
    await fr.start();
    secretFile = await writeSecretFile(fr.dir, SECRET);
    pinHash = await hashSecret(PIN);
  });
  afterAll(async () => {
    await fr?.destroy();
  });
  afterEach(async () => {
    await bench?.close();
    bench = undefined;
  });

  const withRadius = (c: Config): Config => ({
    ...c,
    // A PPP user RADIUS accepts may connect without call-back (for the hand-over test).
    pppd: { ...c.pppd, autoPppBeforeCallback: true },
    lines: c.lines.map((l) => ({ ...l, pppCallback: true, rings: 2 })),
    callbacks: [
      testEntry(),
      // The entry Callback-Id names: its delays and [callbacks.ppp]; the number is RADIUS's.
      testEntry({
        name: 'roamer',
        number: undefined,
        callerSupplies: true,
        pinHash,
        rules: { allow: ['123'], deny: [], minLength: 6, maxLength: 12, modifiers: '' },
        ppp: { types: ['user'], withoutCbcp: 'refuse', maxDelayMs: 60_000 },
      }),
    ],
    // One counted failure locks the caller ID out: the test sees the count as that event.
    security: { ...c.security, lockout: { ...c.security.lockout, maxFailures: 1 } },
    radius: testRadiusConfig({
      servers: [{ address: '127.0.0.1', authPort: fr.authPort, acctPort: fr.acctPort, secretFile }],
    }),
  });

  const commands = (b: Bench) =>
    b.exchange.events.filter(
      (e) => e.type === 'command' && e.modem === SERVER && /^ATD/i.test(String(e.line)),
    );

  it('an Access-Accept with Callback-Number: CBCP offers that number, the client exits 14, it is dialled', async () => {
    bench = await startBench(withRadius);
    const port = await bench.openCaller();
    await dialIn(port);
    // The caller asks for its own number (type 2); only RADIUS's is offered (type 3).
    const client = await firstLeg(port, { user: 'rnum', secret: PIN, callback: '999999', delay: 0 });
    expect(client.exitCode, client.said.join('\n')).toBe(14);
    expect(client.said).toContainEqual('rcvd [PAP AuthAck]');
    expect(client.said).toContainEqual('rcvd [CBCP Request id=0x1] types 3');
    await port.expect('NO CARRIER', 10_000);
    await answerCallback(port);
    await port.write('pppuser\r');
    await port.expect('Password: ', 5_000);
    await port.write(`${PASSWORD}\r`);
    await pingStandin(port, 'called back by radius');
    await port.write('BYE\n');
    await bench.tap.waitFor((e) => e.event === 'call-end', 30_000);
    const records = bench.accounting();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      outcome: 'ppp-ok',
      kind: 'callback',
      callbackNumber: CALLER,
      login: ['rnum', 'pppuser'],
    });
    expect(commands(bench).map((e) => e.line)).toEqual([`ATDT${CALLER}`]);
    // FreeRADIUS was asked about the PAP request, on the first leg.
    expect(bench.tap.events.filter(answered).map((e) => [e.user, e.leg, e.result])).toEqual([
      ['rnum', 1, 'accept'],
      ['pppuser', 2, 'accept'],
    ]);
    const logged = JSON.stringify(bench.tap.events);
    expect(logged).not.toContain(PIN);
    expect(logged).toContain('"via":"cbcp-admin"');
  });

  it('an Access-Reject: Authenticate-Nak, no ATD, one record, the failure counted', async () => {
    bench = await startBench(withRadius);
    const port = await bench.openCaller();
    await dialIn(port);
    // The right local PIN: FreeRADIUS rejects it all the same, and it decides.
    const client = await firstLeg(port, { user: 'roamer', secret: PIN, callback: '123456' });
    expect(client.exitCode, client.said.join('\n')).toBe(19);
    expect(client.said).toContainEqual('rcvd [PAP AuthNak] "Authentication failed"');
    await bench.tap.waitFor((e) => e.event === 'locked-out' && e.key === `cid:${CALLER}`, 10_000);
    await bench.tap.waitFor((e) => e.event === 'call-end', 30_000);
    const records = bench.accounting();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 'ppp-callback-failed' });
    expect(bench.tap.events.find((e) => e.event === 'call-end')?.detail).toBe(
      'PAP refused: radius: Access-Reject',
    );
    expect(bench.tap.events.filter(answered).map((e) => [e.user, e.result])).toEqual([['roamer', 'reject']]);
    await bench.tap.waitFor((e) => e.event === 'state' && e.to === 'idle' && e.from === 'teardown', 10_000);
    expect(commands(bench)).toHaveLength(0);
    expect(JSON.stringify(bench.tap.events)).not.toContain(PIN);
  });

  it('an Access-Accept without call-back attributes: a PPP user, handed to pppd with radius.so', async () => {
    bench = await startBench(withRadius);
    const port = await bench.openCaller();
    await dialIn(port);
    await firstLeg(port, { user: 'radiususer', secret: PIN }, (c) => c.said.includes('rcvd [PAP AuthAck]'));
    const spawned = await bench.tap.waitFor((e) => e.event === 'ppp-spawned', 20_000);
    const callId = String(bench.tap.events.find((e) => e.event === 'ppp-start')?.callId);
    const args = spawned.args as string[];
    const at = args.indexOf('plugin');
    // pppd renegotiates LCP and asks the same servers about PAP (radius.so).
    expect(args.slice(at, at + 6)).toEqual([
      'plugin',
      'radius.so',
      'radius-config-file',
      `${bench.dir}/radius/radiusclient.conf`,
      'avpair',
      `Acct-Multi-Session-Id=${callId}`,
    ]);
    expect(args).toContain('require-pap');
    // Session-Timeout from the Access-Accept.
    expect(args.slice(args.indexOf('maxconnect'), args.indexOf('maxconnect') + 2)).toEqual([
      'maxconnect',
      '3600',
    ]);
    await pingStandin(port, 'handed over by radius');
    await port.write('BYE\n');
    await bench.tap.waitFor((e) => e.event === 'call-end', 30_000);
    const records = bench.accounting();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 'ppp-ok', kind: 'direct-ppp', login: ['radiususer'] });
    expect(commands(bench)).toHaveLength(0);
  });
});
