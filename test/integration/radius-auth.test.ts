import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate, type AuthRequest } from '../../src/radius/auth.js';
import { RadiusClient, type RadiusServer } from '../../src/radius/client.js';
import { FreeRadius } from '../helpers/freeradius.js';
import { capturingLogger, Responder, type Misbehaviour } from '../helpers/radius-responder.js';

const SECRET = 'testing123';
const USERS = `cbuser  Cleartext-Password := "secret1", Service-Type == Framed-User
        Service-Type = Framed-User, Framed-Protocol = PPP
cbuser  Cleartext-Password := "secret1"
        Service-Type = Callback-Framed-User, Callback-Number = "123456",
        Framed-Protocol = PPP, Session-Timeout = 3600, Reply-Message = "Calling you back"
anyno   Cleartext-Password := "1234"
        Service-Type = Callback-Framed-User, Callback-Number = ""
place   Cleartext-Password := "1234"
        Service-Type = Callback-Framed-User, Callback-Id = "office"
pppuser Cleartext-Password := "pw"
        Service-Type = Framed-User, Framed-IP-Address = 192.168.1.9, Idle-Timeout = 600
chal    Cleartext-Password := "x"
        Reply-Message = "hello"
`;

const NAS = { nasIdentifier: 'nas-test', nasIpAddress: '127.0.0.1' };

function req(name: string, secret: string, leg: 1 | 2 = 1): AuthRequest {
  return { name, secret, line: 'ttyS1', lineIndex: 1, callerId: '5550000', calledId: '5559999', leg };
}

function server(port: number, secret = SECRET): RadiusServer {
  return { host: '127.0.0.1', authPort: port, acctPort: port + 1, secret: Buffer.from(secret) };
}

describe('RADIUS authentication against a real FreeRADIUS 3.2', () => {
  let fr: FreeRadius;
  let client: RadiusClient;
  const cap = capturingLogger();

  beforeAll(async () => {
    fr = await FreeRadius.create({ secret: SECRET, users: USERS });
    await fr.start();
    client = await RadiusClient.open([server(fr.authPort)], {
      timeoutMs: 1000,
      retries: 3,
      deadTimeMs: 30_000,
      log: cap.log,
    });
  });
  afterAll(async () => {
    await client?.close();
    await fr?.destroy();
  });

  it('accepts a call-back user with Callback-Number, Session-Timeout and Reply-Message', async () => {
    const r = await authenticate(client, NAS, req('cbuser', 'secret1'), cap.log);
    expect(r).toEqual({
      kind: 'accept',
      serviceType: 'callback-framed',
      callbackNumber: '123456',
      sessionTimeout: 3600,
      replyMessage: 'Calling you back',
    });
  });

  it('resolves a server name once and matches its replies by address', async () => {
    const { log } = capturingLogger();
    const named = await RadiusClient.open([{ ...server(fr.authPort), host: 'localhost' }], {
      timeoutMs: 1500,
      retries: 2,
      deadTimeMs: 1000,
      log,
    });
    try {
      expect(named.servers[0]?.host).toBe('127.0.0.1');
      expect(await authenticate(named, NAS, req('cbuser', 'secret1'), log)).toMatchObject({ kind: 'accept' });
    } finally {
      await named.close();
    }
  });

  it('gives the same user the Framed-User entry on the second leg (as radius.so gets)', async () => {
    const r = await authenticate(client, NAS, req('cbuser', 'secret1', 2), cap.log);
    expect(r).toEqual({ kind: 'accept', serviceType: 'framed' });
  });

  it('passes Callback-Id, Framed-IP and Idle-Timeout; FreeRADIUS never sends an empty Callback-Number', async () => {
    // RFC 2865 §5.19 wants at least one octet; 3.2.1 leaves an empty one out. The
    // caller-supplied case is therefore a Callback-Id naming a caller_supplies entry.
    expect(await authenticate(client, NAS, req('anyno', '1234'), cap.log)).toEqual({
      kind: 'accept',
      serviceType: 'callback-framed',
    });
    expect(await authenticate(client, NAS, req('place', '1234'), cap.log)).toEqual({
      kind: 'accept',
      serviceType: 'callback-framed',
      callbackId: 'office',
    });
    expect(await authenticate(client, NAS, req('pppuser', 'pw', 2), cap.log)).toEqual({
      kind: 'accept',
      serviceType: 'framed',
      framedIp: '192.168.1.9',
      idleTimeout: 600,
    });
  });

  it('answers a wrong PIN and an unknown user identically, with nothing from the users file', async () => {
    const wrong = await authenticate(client, NAS, req('cbuser', 'nope'), cap.log);
    const unknown = await authenticate(client, NAS, req('nobody', 'secret1'), cap.log);
    expect(wrong).toEqual({ kind: 'reject' });
    expect(unknown).toEqual(wrong);
  });

  it('is unavailable (not rejected) when the shared secret differs: FreeRADIUS drops the request', async () => {
    const { log } = capturingLogger();
    const other = await RadiusClient.open([server(fr.authPort, 'wrong-secret')], {
      timeoutMs: 300,
      retries: 0,
      deadTimeMs: 1000,
      log,
    });
    try {
      expect(await authenticate(other, NAS, req('cbuser', 'secret1'), log)).toEqual({ kind: 'unavailable' });
    } finally {
      await other.close();
    }
  });
});

describe('RADIUS replies that must be dropped', () => {
  const cases: [Misbehaviour, RegExp][] = [
    ['no-message-authenticator', /no Message-Authenticator in an Access response/],
    ['wrong-authenticator', /wrong Response Authenticator/],
    ['forged-identifier', /identifier we are not waiting for/],
  ];
  for (const [mode, logged] of cases) {
    it(`drops and logs a reply with ${mode}`, async () => {
      const responder = await Responder.start(Buffer.from(SECRET), mode);
      const cap = capturingLogger();
      const client = await RadiusClient.open([server(responder.port)], {
        // Long enough for any load: the test ends the wait itself once the drop is logged.
        timeoutMs: 30_000,
        retries: 0,
        deadTimeMs: 1000,
        log: cap.log,
      });
      try {
        const pending = authenticate(client, NAS, req('cbuser', 'secret1'), cap.log);
        await cap.waitFor(logged);
        await client.close();
        expect(await pending).toEqual({ kind: 'unavailable' });
        expect(responder.received).toBe(1);
        expect(cap.text()).not.toContain(SECRET);
      } finally {
        await client.close();
        await responder.close();
      }
    });
  }

  it('never takes a Callback-Number from an Access-Reject', async () => {
    const responder = await Responder.start(Buffer.from(SECRET), 'reject-with-callback');
    const cap = capturingLogger();
    const client = await RadiusClient.open([server(responder.port)], {
      timeoutMs: 2000,
      retries: 2,
      deadTimeMs: 1000,
      log: cap.log,
    });
    try {
      expect(await authenticate(client, NAS, req('cbuser', 'secret1'), cap.log)).toEqual({
        kind: 'reject',
        replyMessage: 'no',
      });
    } finally {
      await client.close();
      await responder.close();
    }
  });
});

describe('dead-server detection and recovery with two real FreeRADIUS', () => {
  it('skips a dead first server for dead_time, then goes back to it once it answers', async () => {
    const users =
      'u  Cleartext-Password := "p"\n   Service-Type = Callback-Framed-User, Callback-Number = "42"\n';
    const [a, b] = await Promise.all([
      FreeRadius.create({ secret: SECRET, users }),
      FreeRadius.create({ secret: SECRET, users }),
    ]);
    // Both start once so their ports are final; then the first goes down.
    await Promise.all([a.start(), b.start()]);
    await a.stop();
    const cap = capturingLogger();
    let clock = 1_000_000;
    const client = await RadiusClient.open([server(a.authPort), server(b.authPort)], {
      timeoutMs: 1500,
      retries: 2,
      deadTimeMs: 60_000,
      log: cap.log,
      now: () => clock,
    });
    const LOGIN = /Login OK: \[u\]/;
    const loginsOn = (fr: FreeRadius): number => fr.count(LOGIN);
    try {
      const ask = () => authenticate(client, NAS, { ...req('u', 'p'), name: 'u' }, cap.log);
      expect(await ask()).toMatchObject({ kind: 'accept', callbackNumber: '42' });
      expect(client.deadServers()).toEqual([`127.0.0.1:${a.authPort}`]);
      await a.start();
      // Within dead_time the first server is not asked even though it is back.
      expect(await ask()).toMatchObject({ kind: 'accept' });
      await b.waitFor(LOGIN, 2);
      expect([loginsOn(a), loginsOn(b)]).toEqual([0, 2]);
      clock += 60_000;
      expect(client.deadServers()).toEqual([]);
      expect(await ask()).toMatchObject({ kind: 'accept' });
      expect(await ask()).toMatchObject({ kind: 'accept' });
      await a.waitFor(LOGIN, 2);
      expect([loginsOn(a), loginsOn(b)]).toEqual([2, 2]);
    } finally {
      await client.close();
      await Promise.all([a.destroy(), b.destroy()]);
    }
  });
});
