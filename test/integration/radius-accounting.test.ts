import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/log.js';
import { RadiusAccounting, type Leg } from '../../src/radius/accounting.js';
import { CallAccounting } from '../../src/radius/call.js';
import { authenticate } from '../../src/radius/auth.js';
import { RadiusClient, type RadiusServer } from '../../src/radius/client.js';
import { FreeRadius, parseDetail } from '../helpers/freeradius.js';
import { capturingLogger } from '../helpers/radius-responder.js';

const SECRET = 'testing123';
const USERS = `cbuser  Cleartext-Password := "secret1"
        Service-Type = Callback-Framed-User, Callback-Number = "123456"
`;
const NAS = { nasIdentifier: 'nas-test', nasIpAddress: '127.0.0.1' };

function server(fr: FreeRadius): RadiusServer {
  return { host: '127.0.0.1', authPort: fr.authPort, acctPort: fr.acctPort, secret: Buffer.from(SECRET) };
}

function legs(callId: string): [Leg, Leg] {
  const base = { multiSessionId: callId, line: 'ttyS1', lineIndex: 1, authentic: 'radius' as const };
  return [
    { ...base, sessionId: `${callId}-1`, userName: 'cbuser', callerId: '5550000', calledId: '5559999' },
    { ...base, sessionId: `${callId}-2`, userName: 'pppuser', calledId: '123456' },
  ];
}

/**
 * One whole call-back's accounting as the session drives it: leg 1 ends for the call-back
 * after 12 s, leg 2 ends by the user after 300 s (a clock of the call's own, so the
 * spool's event times, and with them Acct-Delay-Time, stay fixed).
 */
async function account(acct: RadiusAccounting, callId: string, log: Logger): Promise<void> {
  let t = 0;
  const call = new CallAccounting(
    acct,
    { callId, line: 'ttyS1', lineIndex: 1, callerId: '5550000' },
    { log, now: () => t },
  );
  await call.start(1, { userName: 'cbuser', authentic: 'radius' });
  t += 12_000;
  await call.stop(1, 'Callback');
  await call.start(2, { userName: 'pppuser', calledId: '123456', authentic: 'radius' });
  t += 300_000;
  await call.end('User-Request', { bytesIn: 1000, bytesOut: 2000, packetsIn: 10, packetsOut: 20 });
}

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

describe('RADIUS accounting and failover against two real FreeRADIUS 3.2', () => {
  let a: FreeRadius;
  let b: FreeRadius;
  let spoolDir: string;
  const cap = capturingLogger();
  let clock = Date.now();
  const now = (): number => clock;

  beforeAll(async () => {
    [a, b] = await Promise.all([
      FreeRadius.create({ secret: SECRET, users: USERS }),
      FreeRadius.create({ secret: SECRET, users: USERS }),
    ]);
    await Promise.all([a.start(), b.start()]);
    spoolDir = await fsp.mkdtemp(path.join(tmpdir(), 'radius-spool-'));
  });
  afterAll(async () => {
    await Promise.all([a?.destroy(), b?.destroy()]);
    if (spoolDir) await fsp.rm(spoolDir, { recursive: true, force: true });
  });

  async function open(): Promise<{ client: RadiusClient; acct: RadiusAccounting }> {
    const client = await RadiusClient.open([server(a), server(b)], {
      // Generous: a loaded machine must not make a live server look dead.
      timeoutMs: 1500,
      retries: 2,
      deadTimeMs: 600_000,
      log: cap.log,
    });
    const acct = await RadiusAccounting.open({
      client,
      nas: NAS,
      spoolDir,
      log: cap.log,
      retryMs: 600_000,
      now,
    });
    return { client, acct };
  }

  it('records Start and Stop for both legs with one Acct-Multi-Session-Id, then fails over, spools and drains', async () => {
    let { client, acct } = await open();

    // 1. Both servers up: everything goes to the first.
    await account(acct, 'call-1', cap.log);
    await acct.drained();
    const first = parseDetail(await a.detail());
    const line1 = summary(first, 'call-1');
    console.log(line1);
    expect(line1).toBe('radius: call call-1 legs=2 start=2 stop=2 multi-session=call-1 cause=User-Request');
    const stop2 = first.find((r) => r['Acct-Session-Id'] === 'call-1-2' && r['Acct-Status-Type'] === 'Stop');
    expect(stop2).toMatchObject({
      'User-Name': 'pppuser',
      'NAS-Port': '1',
      'NAS-Port-Id': 'ttyS1',
      'NAS-Port-Type': 'Async',
      'NAS-Identifier': 'nas-test',
      'Called-Station-Id': '123456',
      'Acct-Session-Time': '300',
      'Acct-Input-Octets': '1000',
      'Acct-Output-Octets': '2000',
      'Acct-Input-Packets': '10',
      'Acct-Output-Packets': '20',
      'Acct-Terminate-Cause': 'User-Request',
      'Acct-Delay-Time': '0',
    });
    expect(
      first.find((r) => r['Acct-Session-Id'] === 'call-1-1' && r['Acct-Status-Type'] === 'Stop'),
    ).toMatchObject({
      'Acct-Terminate-Cause': 'Callback',
      'Calling-Station-Id': '5550000',
      'User-Name': 'cbuser',
    });

    // 2. The first server stops mid-run: authentication and accounting fail over to the second.
    await a.stop();
    const auth = await authenticate(
      client,
      NAS,
      { name: 'cbuser', secret: 'secret1', line: 'ttyS1', lineIndex: 1, leg: 1 },
      cap.log,
    );
    expect(auth).toMatchObject({ kind: 'accept', callbackNumber: '123456' });
    await cap.waitFor(/server did not answer; trying the next one/);
    await account(acct, 'call-2', cap.log);
    await acct.drained();
    console.log(summary(parseDetail(await b.detail()), 'call-2'));
    expect(summary(parseDetail(await b.detail()), 'call-2')).toBe(
      'radius: call call-2 legs=2 start=2 stop=2 multi-session=call-2 cause=User-Request',
    );
    expect(summary(parseDetail(await a.detail()), 'call-2')).toMatch(/legs=0 start=0 stop=0/);

    // 3. Both down: records fill the spool and nothing is lost...
    await b.stop();
    await account(acct, 'call-3', cap.log);
    await cap.waitFor(/records stay in the spool/);
    expect(await acct.queued()).toBe(4);

    // ...across a restart of the sender (daemon restart: a new client, the same spool)...
    await acct.close();
    await client.close();
    clock += 30_000;
    await b.start();
    ({ client, acct } = await open());
    await acct.drained();
    expect(await acct.queued()).toBe(0);

    // ...and each record arrives exactly once, with the time it waited as Acct-Delay-Time.
    const onB = parseDetail(await b.detail());
    const line3 = summary(onB, 'call-3');
    console.log(line3);
    expect(line3).toBe('radius: call call-3 legs=2 start=2 stop=2 multi-session=call-3 cause=User-Request');
    expect(
      onB.filter((r) => r['Acct-Multi-Session-Id'] === 'call-3').map((r) => r['Acct-Delay-Time']),
    ).toEqual(['30', '30', '30', '30']);
    expect(onB.filter((r) => r['Acct-Multi-Session-Id'] === 'call-2')).toHaveLength(4);
    expect(cap.text()).not.toContain(SECRET);
    await acct.close();
    await client.close();
  });
});

describe('Interim-Update', () => {
  it('sends Interim-Updates with the progress so far until the leg stops', async () => {
    const fr = await FreeRadius.create({ secret: SECRET, users: USERS });
    const dir = await fsp.mkdtemp(path.join(tmpdir(), 'radius-spool-'));
    const cap = capturingLogger();
    await fr.start(); // before the client: a first start may move to other ports
    const client = await RadiusClient.open([server(fr)], {
      timeoutMs: 1500,
      retries: 2,
      deadTimeMs: 60_000,
      log: cap.log,
    });
    try {
      const acct = await RadiusAccounting.open({
        client,
        nas: NAS,
        spoolDir: dir,
        log: cap.log,
        retryMs: 60_000,
      });
      const [leg] = legs('call-i');
      await acct.start(leg);
      let octets = 0;
      const cancel = acct.every(leg, 20, () => ({
        sessionTime: 1,
        terminateCause: 'User-Request',
        inputOctets: (octets += 100),
      }));
      // Wait (bounded by the test timeout) until two Interim-Updates reached the detail file.
      const interimsSoFar = async (): Promise<number> =>
        parseDetail(await fr.detail()).filter((r) => r['Acct-Status-Type'] === 'Interim-Update').length;
      while ((await interimsSoFar()) < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      cancel();
      await acct.stop(leg, { sessionTime: 2, terminateCause: 'User-Request' });
      await acct.drained();
      const text = await fr.detail();
      const recs = parseDetail(text);
      const statuses = recs.map((r) => r['Acct-Status-Type']);
      expect(statuses[0], text).toBe('Start');
      expect(statuses[statuses.length - 1], text).toBe('Stop');
      const interims = recs.filter((r) => r['Acct-Status-Type'] === 'Interim-Update');
      expect(interims.length, text).toBeGreaterThanOrEqual(2);
      expect(interims[0], text).toMatchObject({
        'Acct-Input-Octets': '100',
        'Acct-Multi-Session-Id': 'call-i',
      });
      expect(interims[0]?.['Acct-Terminate-Cause']).toBeUndefined();
      await acct.close();
    } finally {
      await client.close();
      await fr.destroy();
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
