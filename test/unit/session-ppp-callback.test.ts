import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { transition, type MachineContext } from '../../src/session/machine.js';
import type { Effect, Input, State } from '../../src/session/types.js';
import type { CallbackEntry, Config } from '../../src/config/types.js';
import { LineReader } from '../../src/login/index.js';
import { Deframer, encodeFrame } from '../../src/ppp/engine/index.js';
import { testConfig, testEntry, testLine, testUser } from '../helpers/config.js';
import { PppClient, type PppClientOptions } from '../helpers/ppp-client.js';
import { testRadiusConfig } from '../helpers/radius-config.js';
import type { AuthResult } from '../../src/radius/auth.js';
import { CBCP, LCP, packet, PAP, PPPD_CONFREQ_CALLBACK } from '../helpers/ppp-peer.js';

// Call-back inside PPP through the session machine: a scripted pppd-like client on one
// side, the pure machine on the other, time and secret checks in the test's hands.

const PIN_HASH = 'hash-of-cbpin123';
const PPP_HASH = 'hash-of-pppsecret';

const cbuser = (over: Partial<CallbackEntry> = {}): CallbackEntry =>
  testEntry({
    name: 'cbuser',
    number: '5376443',
    pinHash: PIN_HASH,
    delayMs: 2_000,
    ppp: { types: ['admin'], withoutCbcp: 'refuse', maxDelayMs: 60_000 },
    ...over,
  });

const roamer = (over: Partial<CallbackEntry> = {}): CallbackEntry =>
  testEntry({
    name: 'roamer',
    number: undefined,
    callerSupplies: true,
    pinHash: PIN_HASH,
    rules: { allow: ['123'], deny: ['1239'], minLength: 6, maxLength: 12, modifiers: '' },
    delayMs: 2_000,
    ppp: { types: ['user'], withoutCbcp: 'refuse', maxDelayMs: 30_000 },
    ...over,
  });

interface World {
  state: State;
  now: number;
  timerAt?: number;
  effects: Effect[];
  client: PppClient;
  locked: string[];
  limited?: string;
  /** Verifications held back by the test (when `holdVerify`). */
  held: Input[];
  holdVerify: boolean;
  /** With [radius]: the scripted RADIUS server (name, secret) -> answer. */
  radius?: (name: string, secret: string) => AuthResult;
  apply(input: Input): void;
  settle(): void;
  fire(): void;
  /** Fires timers until the line is idle again (or `max` timers). */
  runOut(max?: number): void;
  of<K extends Effect['do']>(kind: K): Extract<Effect, { do: K }>[];
}

function world(client: PppClientOptions, config: Partial<Config> = {}, line = { pppCallback: true }): World {
  const cfg = testConfig({
    callbacks: [cbuser(), roamer(), testEntry()],
    pppUsers: [testUser(PPP_HASH)],
    ...config,
  });
  const inbox: Input[] = [];
  const w: World = {
    state: {
      tag: 'login',
      call: { callId: 'c1', startedAt: 0, callerId: '0301234', logins: [] },
      phase: 1,
      step: 'name',
      failures: 0,
      clock: { deadline: 240_000, warned: false },
    },
    now: 1_000,
    effects: [],
    client: new PppClient(client, (b) => inbox.push({ type: 'ppp-bytes', data: b })),
    locked: [],
    held: [],
    holdVerify: false,
    apply(input) {
      const ctx: MachineContext = {
        config: cfg,
        line: testLine(line),
        now: w.now,
        isLocked: (keys) => keys.some((k) => w.locked.includes(k)),
        rateCheck: () => (w.limited ? { ok: false, reason: w.limited } : { ok: true }),
        answerDisabled: () => false,
      };
      const step = transition(w.state, input, ctx);
      if (step.state) {
        w.state = step.state;
        w.timerAt = undefined;
      }
      for (const e of step.effects) {
        w.effects.push(e);
        if (e.do === 'write-bytes') w.client.receive(e.data);
        if (e.do === 'timer') w.timerAt = w.now + e.ms;
        if (e.do === 'verify') {
          const ok =
            (e.hash === PIN_HASH && e.secret === 'cbpin123') ||
            (e.hash === PPP_HASH && e.secret === 'pppsecret');
          const result: Input = e.ref ? { type: 'pap-verified', ok, ref: e.ref } : { type: 'verified', ok };
          if (w.holdVerify) w.held.push(result);
          else inbox.push(result);
        }
        if (e.do === 'radius-auth') {
          if (!w.radius) throw new Error('radius-auth without a scripted RADIUS server');
          const result = w.radius(e.name, e.secret);
          // The local check, made only when no server answered (as the line session does).
          const localOk =
            result.kind === 'unavailable' && cfg.radius?.localFallback === 'unavailable'
              ? (e.hash === PIN_HASH && e.secret === 'cbpin123') ||
                (e.hash === PPP_HASH && e.secret === 'pppsecret')
              : undefined;
          const answer: Input = {
            type: 'radius-answer',
            result,
            ...(localOk === undefined ? {} : { localOk }),
            ...(e.ref === undefined ? {} : { ref: e.ref }),
          };
          if (w.holdVerify) w.held.push(answer);
          else inbox.push(answer);
        }
        if (e.do === 'hangup') inbox.push({ type: 'hung-up' });
      }
    },
    settle() {
      while (inbox.length > 0) w.apply(inbox.shift()!);
    },
    fire() {
      if (w.timerAt === undefined) throw new Error(`no timer in ${w.state.tag}`);
      w.now = Math.max(w.now, w.timerAt);
      w.apply({ type: 'timeout' });
      w.settle();
    },
    runOut(max = 200) {
      for (let i = 0; i < max && w.state.tag !== 'idle' && w.state.tag !== 'dialing'; i++) w.fire();
    },
    of: (kind) => w.effects.filter((e) => e.do === kind) as never,
  };
  return w;
}

/** The client's first frame reaches the prompt; the machine and the client talk it out. */
function start(w: World, first = w.client.firstFrame()): World {
  w.apply({ type: 'ppp-frame', data: first });
  w.settle();
  return w;
}

const finishes = (w: World) => w.of('finish');
const logText = (w: World) => JSON.stringify(w.of('log'));

describe('session: call-back inside PPP', () => {
  it('callback 123456: PAP, CBCP user number, Terminate acked (exit 14), hang-up, the delay, ATD', () => {
    const w = start(world({ user: 'roamer', secret: 'cbpin123', callback: '123456', delay: 5 }));
    expect(w.client.exitCode).toBe(14);
    expect(w.client.said).toContainEqual('sent [CBCP Response id=0x1] 020b050131323334353600');
    expect(w.client.said).toContainEqual('rcvd [CBCP Ack id=0x1] 020b050131323334353600');
    expect(w.of('verify')).toEqual([{ do: 'verify', hash: PIN_HASH, secret: 'cbpin123', ref: 'c1:pap1' }]);
    expect(w.of('record-callback')).toEqual([{ do: 'record-callback', entry: 'roamer', number: '123456' }]);
    // The Terminate-Ack goes out before DTR drops.
    expect(w.state.tag).toBe('announcing');
    w.fire();
    expect(w.state).toMatchObject({ tag: 'callback-wait', number: '123456' });
    // max(delay 2 s, the caller's 5 s) = 5 s.
    expect(w.timerAt! - w.now).toBe(5_000);
    w.fire();
    expect(w.state).toMatchObject({ tag: 'dialing', number: '123456' });
    expect(w.of('dial')).toEqual([{ do: 'dial', number: '123456' }]);
    expect(w.state.tag === 'dialing' && w.state.call.callback).toMatchObject({
      entry: 'roamer',
      number: '123456',
    });
    expect(finishes(w)).toEqual([]);
    expect(logText(w)).not.toContain('cbpin123');
  });

  it('callback "" with an entry offering its own number: type 3, the entry number is dialled', () => {
    const w = start(world({ user: 'cbuser', secret: 'cbpin123', callback: '', delay: 0 }));
    expect(w.client.said).toContainEqual('rcvd [CBCP Request id=0x1] types 3');
    expect(w.client.exitCode).toBe(14);
    w.runOut();
    expect(w.state).toMatchObject({ tag: 'dialing', number: '5376443' });
  });

  it('caps the caller CBCP delay at max_delay', () => {
    const w = start(world({ user: 'roamer', secret: 'cbpin123', callback: '123456', delay: 200 }));
    w.fire(); // announcing -> dropping -> callback-wait
    expect(w.timerAt! - w.now).toBe(30_000);
  });

  it('a wrong PAP secret: Authenticate-Nak, no call-back, no ATD, one User-Error record', () => {
    const w = start(world({ user: 'roamer', secret: 'wrong!', callback: '123456' }));
    expect(w.client.said).toContainEqual('rcvd [PAP AuthNak] "Authentication failed"');
    expect(w.client.exitCode).toBe(19);
    w.runOut();
    expect(w.state.tag).toBe('idle');
    expect(w.of('record-callback')).toEqual([]);
    expect(w.of('dial')).toEqual([]);
    expect(w.of('failure')).toEqual([{ do: 'failure', keys: ['name:roamer', 'cid:0301234'] }]);
    expect(finishes(w)).toHaveLength(1);
    expect(finishes(w)[0]).toMatchObject({
      outcome: 'ppp-callback-failed',
      terminateCause: 'User-Error',
      detail: 'PAP refused: wrong name or secret',
    });
    expect(JSON.stringify(finishes(w))).not.toContain('wrong!');
    expect(logText(w)).not.toContain('wrong!');
  });

  it('an unknown PAP name is checked against the dummy hash and never logged', () => {
    const w = start(world({ user: 'cbpin123', secret: 'cbpin123', callback: '123456' }));
    expect(w.of('verify')).toEqual([{ do: 'verify', hash: undefined, secret: 'cbpin123', ref: 'c1:pap1' }]);
    w.runOut();
    expect(finishes(w)).toHaveLength(1);
    expect(finishes(w)[0]?.call?.logins).toEqual(['UNKNOWN']);
    expect(logText(w)).not.toContain('cbpin123');
    expect(w.of('failure')).toEqual([{ do: 'failure', keys: ['cid:0301234'] }]);
  });

  it('an entry without [callbacks.ppp] cannot authenticate inside PPP', () => {
    const w = start(world({ user: 'call', secret: 'cbpin123', callback: '123456' }));
    expect(w.of('verify')[0]?.hash).toBeUndefined();
    w.runOut();
    expect(w.of('dial')).toEqual([]);
    expect(finishes(w)[0]?.outcome).toBe('ppp-callback-failed');
  });

  it.each([
    ['outside the allow list', '4567890', 'number refused'],
    ['denied', '1239999', 'number refused'],
    ['a premium-looking string', '123;ATH', 'number refused'],
  ])('a user number %s is refused inside CBCP: no call-back, no ATD', (_what, number, detail) => {
    const w = start(world({ user: 'roamer', secret: 'cbpin123', callback: number }));
    expect(w.client.exitCode).not.toBe(14);
    w.runOut();
    expect(w.of('dial')).toEqual([]);
    expect(w.of('record-callback')).toEqual([]);
    expect(finishes(w)).toHaveLength(1);
    expect(finishes(w)[0]).toMatchObject({ outcome: 'ppp-callback-failed', terminateCause: 'User-Error' });
    expect(finishes(w)[0]?.detail).toContain(detail);
  });

  it('a rate-limited number is refused inside CBCP', () => {
    const w = world({ user: 'roamer', secret: 'cbpin123', callback: '123456' });
    w.limited = 'per-number limit reached';
    start(w);
    w.runOut();
    expect(w.of('dial')).toEqual([]);
    expect(finishes(w)[0]?.detail).toBe('number refused: per-number limit reached');
  });

  it('a rate-limited entry number is refused at PAP, without a lockout count', () => {
    const w = world({ user: 'cbuser', secret: 'cbpin123', callback: '' });
    w.limited = 'per-entry limit reached';
    start(w);
    expect(w.client.said).toContainEqual('rcvd [PAP AuthNak] "Authentication failed"');
    w.runOut();
    expect(w.of('failure')).toEqual([]);
    expect(finishes(w)[0]?.detail).toBe('PAP refused: rate limited: per-entry limit reached');
  });

  it('a locked-out name is refused even with the right secret', () => {
    const w = world({ user: 'cbuser', secret: 'cbpin123', callback: '' });
    w.locked = ['name:cbuser'];
    start(w);
    expect(w.client.exitCode).toBe(19);
    w.runOut();
    expect(w.of('dial')).toEqual([]);
    expect(finishes(w)[0]?.detail).toBe('PAP refused: locked out');
  });

  it('a client without LCP option 13 and without_cbcp = "refuse": no call-back, one record', () => {
    const w = start(world({ user: 'cbuser', secret: 'cbpin123' }));
    expect(w.client.said.some((s) => s.startsWith('rcvd [CBCP'))).toBe(false);
    w.runOut();
    expect(w.of('dial')).toEqual([]);
    expect(w.of('ppp')).toEqual([]);
    expect(finishes(w)).toHaveLength(1);
    expect(finishes(w)[0]).toMatchObject({ outcome: 'ppp-callback-failed', terminateCause: 'NAS-Request' });
    expect(finishes(w)[0]?.detail).toContain('option 13');
  });

  it('a client without LCP option 13 and without_cbcp = "pppd": the line goes to pppd', () => {
    const entry = cbuser({ ppp: { types: ['admin'], withoutCbcp: 'pppd', maxDelayMs: 60_000 } });
    const w = start(world({ user: 'cbuser', secret: 'cbpin123' }, { callbacks: [entry] }));
    expect(w.state).toMatchObject({ tag: 'ppp', autoPpp: true });
    expect(w.of('ppp')).toEqual([{ do: 'ppp', user: undefined, autoPpp: true }]);
    expect(w.client.said).toContainEqual('rcvd [PAP AuthAck]');
  });

  it('a PPP user (no call-back) is handed to pppd after PAP when AutoPPP is allowed before the call-back', () => {
    const w = world(
      { user: 'pppuser', secret: 'pppsecret' },
      {
        pppd: { ...testConfig().pppd, autoPppBeforeCallback: true },
      },
    );
    start(w);
    expect(w.of('verify')[0]?.hash).toBe(PPP_HASH);
    expect(w.state).toMatchObject({ tag: 'ppp', autoPpp: true, call: { pppUser: 'pppuser' } });
  });

  it('a PPP user is unknown on the first leg when AutoPPP is not allowed there', () => {
    const w = start(world({ user: 'pppuser', secret: 'pppsecret' }));
    expect(w.of('verify')[0]?.hash).toBeUndefined();
    w.runOut();
    expect(w.of('ppp')).toEqual([]);
    expect(finishes(w)[0]?.outcome).toBe('ppp-callback-failed');
  });

  it('carrier loss after the call-back was agreed still calls back', () => {
    const w = start(world({ user: 'roamer', secret: 'cbpin123', callback: '123456', noTerminate: true }));
    expect(w.client.said).toContainEqual('rcvd [CBCP Ack id=0x1] 020b050131323334353600');
    expect(w.state.tag).toBe('ppp-callback');
    expect(w.of('record-callback')).toHaveLength(1);
    w.apply({ type: 'carrier-lost' });
    w.settle();
    expect(w.state.tag).toBe('callback-wait');
    w.fire();
    expect(w.of('dial')).toEqual([{ do: 'dial', number: '123456' }]);
  });

  it('a caller silent after the Callback-Ack is called back once the engine ends the link', () => {
    const w = start(world({ user: 'roamer', secret: 'cbpin123', callback: '123456', noTerminate: true }));
    w.runOut();
    expect(w.state).toMatchObject({ tag: 'dialing', number: '123456' });
    expect(finishes(w)).toEqual([]);
  });

  it('carrier loss before anything was agreed ends the call with one record', () => {
    const w = world({ user: 'roamer', secret: 'cbpin123', callback: '123456' });
    w.apply({ type: 'ppp-frame', data: w.client.firstFrame() });
    w.apply({ type: 'carrier-lost' });
    w.settle();
    w.runOut();
    expect(finishes(w)).toHaveLength(1);
    expect(finishes(w)[0]?.outcome).toBe('carrier-lost');
  });

  it('the secret check outlives the state changes a peer causes meanwhile; a stale one is ignored', () => {
    const w = world({ user: 'roamer', secret: 'cbpin123', callback: '123456' });
    w.holdVerify = true;
    start(w);
    expect(w.held).toHaveLength(1);
    // The peer keeps talking (an LCP Echo-Request) while the check runs.
    w.apply({ type: 'ppp-bytes', data: encodeFrame(LCP, Buffer.from('0907000800000000', 'hex')) });
    w.settle();
    // A result for another call changes nothing.
    w.apply({ type: 'pap-verified', ok: true, ref: 'other:pap1' });
    expect(w.client.said).not.toContainEqual('rcvd [PAP AuthAck]');
    w.apply(w.held.shift()!);
    w.settle();
    expect(w.client.exitCode).toBe(14);
  });

  it('a secret check of a request before the peer renegotiated LCP does not count for the next one', () => {
    const w = world({ user: 'roamer', secret: 'cbpin123', callback: '123456' });
    w.holdVerify = true;
    start(w);
    expect(w.held).toHaveLength(1); // roamer's right secret, still being checked
    // The peer renegotiates LCP and authenticates again, as cbuser with a wrong secret.
    secondRequestRefused(w, 'cbuser', 'PAP refused: wrong name or secret');
  });

  it('garbage frames at the first prompt: no throw, a deadline all along, one record', () => {
    const w = world({ user: 'x', secret: 'y', callback: '1' });
    const noise = Buffer.from('7eff7d23c02101ffffff7e7e00112233447e41424344457e', 'hex');
    w.apply({ type: 'ppp-frame', data: noise });
    for (let i = 0; i < 300; i++) {
      w.apply({ type: 'ppp-bytes', data: Buffer.from([0x7e, i & 0xff, 0x7d, 0x7e, 0x55, 0x7e]) });
      if (w.state.tag === 'ppp-callback') expect(w.timerAt).toBeDefined();
    }
    w.settle();
    w.runOut();
    expect(w.state.tag).toBe('idle');
    expect(finishes(w)).toHaveLength(1);
    expect(finishes(w)[0]?.outcome).toBe('ppp-callback-failed');
    expect(w.of('dial')).toEqual([]);
  });

  it('a silent client is dropped at the engine deadline with one record', () => {
    const w = world({ user: 'roamer', secret: 'cbpin123', callback: '123456' });
    w.apply({ type: 'ppp-frame', data: encodeFrame(LCP, PPPD_CONFREQ_CALLBACK) });
    // Nothing more arrives: the timers alone end the call.
    w.runOut();
    expect(w.state.tag).toBe('idle');
    expect(finishes(w)).toHaveLength(1);
    expect(finishes(w)[0]?.outcome).toBe('ppp-callback-failed');
    expect(w.now - 1_000).toBeLessThanOrEqual(2 * 60_000 + 10_000);
  });

  it('lines without ppp_callback keep today’s path (AutoPPP or nothing)', () => {
    const w = start(
      world({ user: 'roamer', secret: 'cbpin123', callback: '123456' }, {}, { pppCallback: false }),
    );
    expect(w.state.tag).toBe('login');
    expect(w.of('verify')).toEqual([]);
  });

  it('the daemon stopping during the first leg writes one record', () => {
    const w = world({ user: 'roamer', secret: 'cbpin123', callback: '123456' });
    w.apply({ type: 'ppp-frame', data: w.client.firstFrame() });
    w.apply({ type: 'stop' });
    expect(w.state.tag).toBe('stopped');
    expect(finishes(w)).toHaveLength(1);
    expect(finishes(w)[0]?.outcome).toBe('daemon-stopped');
  });
});

/**
 * With the first request's check held (a success): the peer renegotiates LCP and asks
 * again as `name` with a wrong secret. The first answer must not authenticate the second
 * request; the second refuses it with `detail`.
 */
function secondRequestRefused(w: World, name: string, detail: string): void {
  w.apply({ type: 'ppp-bytes', data: encodeFrame(LCP, Buffer.from(PPPD_CONFREQ_CALLBACK).fill(2, 1, 2)) });
  w.settle();
  w.apply({ type: 'ppp-bytes', data: encodeFrame(PAP, papRequest(2, name, 'guess1')) });
  w.settle();
  expect(w.held).toHaveLength(2);
  w.apply(w.held.shift()!);
  w.settle();
  expect(w.client.said).not.toContainEqual('rcvd [PAP AuthAck]');
  expect(w.of('success')).toEqual([]);
  w.apply(w.held.shift()!);
  w.settle();
  expect(w.client.said).toContainEqual('rcvd [PAP AuthNak] "Authentication failed"');
  w.runOut();
  expect(w.of('dial')).toEqual([]);
  expect(finishes(w)[0]?.detail).toBe(detail);
}

/** A PAP Authenticate-Request. */
function papRequest(id: number, user: string, secret: string): Buffer {
  const n = Buffer.from(user);
  const k = Buffer.from(secret);
  return packet(1, id, Buffer.concat([Buffer.from([n.length]), n, Buffer.from([k.length]), k]));
}

/** A CBCP Callback-Response choosing type 2 with `number`. */
function cbcpUser(id: number, number: string): Buffer {
  const addr = Buffer.concat([Buffer.from(number, 'latin1'), Buffer.from([0])]);
  return packet(2, id, Buffer.concat([Buffer.from([2, 4 + addr.length, 3, 1]), addr]));
}

/**
 * A scripted RADIUS server: `cbpin123` is the secret of every name it knows; `radiususer`
 * is a PPP user (Framed-User), `rnum` gets a Callback-Number, `byid` a Callback-Id naming
 * `cbuser`, `plainid` a Callback-Id naming an entry without [callbacks.ppp].
 */
function radiusServer(name: string, secret: string): AuthResult {
  if (secret !== 'cbpin123') return { kind: 'reject' };
  switch (name) {
    case 'radiususer':
      return { kind: 'accept', serviceType: 'framed', sessionTimeout: 3600, idleTimeout: 600 };
    case 'rnum':
      return { kind: 'accept', serviceType: 'callback-framed', callbackNumber: '+4930777888' };
    case 'rbad':
      return { kind: 'accept', serviceType: 'callback-framed', callbackNumber: '123;ATH' };
    case 'byid':
      return { kind: 'accept', serviceType: 'callback-framed', callbackId: 'cbuser' };
    case 'plainid':
      return { kind: 'accept', serviceType: 'callback-framed', callbackId: 'call' };
    default:
      return { kind: 'reject' };
  }
}

function radiusWorld(client: PppClientOptions, config: Partial<Config> = {}, server = radiusServer): World {
  const w = world(client, { radius: testRadiusConfig(), ...config });
  w.radius = server;
  return w;
}

describe('session: call-back inside PPP with [radius]', () => {
  it('PAP goes to RADIUS, not to the local hash; an Accept with Callback-Number gets CBCP type 3 with that number, normalised', () => {
    const w = start(radiusWorld({ user: 'rnum', secret: 'cbpin123', callback: '' }));
    expect(w.of('verify')).toEqual([]);
    expect(w.of('radius-auth')).toEqual([
      { do: 'radius-auth', name: 'rnum', secret: 'cbpin123', leg: 1, hash: undefined, ref: 'c1:pap1' },
    ]);
    expect(w.client.said).toContainEqual('rcvd [PAP AuthAck]');
    expect(w.client.said).toContainEqual('rcvd [CBCP Request id=0x1] types 3');
    expect(w.client.exitCode).toBe(14);
    expect(w.of('record-callback')).toEqual([
      { do: 'record-callback', entry: 'rnum', number: '004930777888' },
    ]);
    expect(w.of('success')).toEqual([{ do: 'success', keys: ['name:rnum', 'cid:0301234'] }]);
    w.runOut();
    expect(w.state).toMatchObject({ tag: 'dialing', number: '004930777888' });
    expect(w.of('dial')).toEqual([{ do: 'dial', number: '004930777888' }]);
    expect(w.state.tag === 'dialing' && w.state.call).toMatchObject({ radiusUser: 'rnum', logins: ['rnum'] });
    expect(logText(w)).not.toContain('cbpin123');
  });

  it('a caller asking for its own number (type 2) still gets only the RADIUS number (type 3)', () => {
    const w = start(radiusWorld({ user: 'rnum', secret: 'cbpin123', callback: '123456' }));
    expect(w.client.said).toContainEqual('rcvd [CBCP Request id=0x1] types 3');
    w.runOut();
    expect(w.of('dial')).toEqual([{ do: 'dial', number: '004930777888' }]);
  });

  it('an Accept with a Callback-Id gets CBCP with that entry and its [callbacks.ppp] types', () => {
    const w = start(radiusWorld({ user: 'byid', secret: 'cbpin123', callback: '', delay: 0 }));
    expect(w.client.said).toContainEqual('rcvd [CBCP Request id=0x1] types 3');
    expect(w.of('record-callback')).toEqual([{ do: 'record-callback', entry: 'cbuser', number: '5376443' }]);
    w.fire(); // announcing -> dropping -> callback-wait: the entry's delay (2 s)
    expect(w.timerAt! - w.now).toBe(2_000);
    w.runOut();
    expect(w.of('dial')).toEqual([{ do: 'dial', number: '5376443' }]);
  });

  it('a Callback-Id naming an entry without [callbacks.ppp]: refused, not counted, no ATD', () => {
    const w = start(radiusWorld({ user: 'plainid', secret: 'cbpin123', callback: '' }));
    expect(w.client.exitCode).toBe(19);
    w.runOut();
    expect(w.of('dial')).toEqual([]);
    expect(w.of('failure')).toEqual([]);
    expect(finishes(w)[0]?.detail).toContain('has no [callbacks.ppp]');
  });

  it('a Callback-Number that is not dialable is refused before any ATD', () => {
    const w = start(radiusWorld({ user: 'rbad', secret: 'cbpin123', callback: '' }));
    expect(w.client.exitCode).toBe(19);
    w.runOut();
    expect(w.of('dial')).toEqual([]);
    expect(w.of('record-callback')).toEqual([]);
    expect(finishes(w)[0]?.detail).toBe('PAP refused: radius: Callback-Number is not dialable');
  });

  it('an Access-Reject: Authenticate-Nak, the failure counted, no ATD, one User-Error record', () => {
    // cbuser's local PIN is right, but RADIUS decides.
    const w = start(
      radiusWorld({ user: 'cbuser', secret: 'cbpin123', callback: '' }, {}, () => ({ kind: 'reject' })),
    );
    expect(w.of('verify')).toEqual([]);
    expect(w.client.said).toContainEqual('rcvd [PAP AuthNak] "Authentication failed"');
    expect(w.client.exitCode).toBe(19);
    w.runOut();
    expect(w.of('failure')).toEqual([{ do: 'failure', keys: ['name:cbuser', 'cid:0301234'] }]);
    expect(w.of('dial')).toEqual([]);
    expect(finishes(w)).toHaveLength(1);
    expect(finishes(w)[0]).toMatchObject({
      outcome: 'ppp-callback-failed',
      terminateCause: 'User-Error',
      detail: 'PAP refused: radius: Access-Reject',
    });
  });

  it('an unknown name rejected by RADIUS is recorded as UNKNOWN and counted by caller ID', () => {
    const w = start(radiusWorld({ user: 'nobody', secret: 'guess', callback: '' }));
    expect(w.of('radius-auth')[0]?.name).toBe('nobody');
    w.runOut();
    expect(w.of('failure')).toEqual([{ do: 'failure', keys: ['cid:0301234'] }]);
    expect(finishes(w)[0]?.call?.logins).toEqual(['UNKNOWN']);
  });

  it('no server answering: refused, not counted, no ATD', () => {
    const w = start(
      radiusWorld({ user: 'cbuser', secret: 'cbpin123', callback: '' }, {}, () => ({ kind: 'unavailable' })),
    );
    expect(w.client.exitCode).toBe(19);
    w.runOut();
    expect(w.of('failure')).toEqual([]);
    expect(w.of('dial')).toEqual([]);
    expect(finishes(w)[0]?.detail).toBe('PAP refused: radius: no RADIUS server answered');
  });

  it('no server answering with local_fallback = "unavailable": the local pin_hash decides', () => {
    const w = start(
      radiusWorld(
        { user: 'cbuser', secret: 'cbpin123', callback: '' },
        { radius: testRadiusConfig({ localFallback: 'unavailable' }) },
        () => ({ kind: 'unavailable' }),
      ),
    );
    expect(w.client.exitCode).toBe(14);
    w.runOut();
    expect(w.of('dial')).toEqual([{ do: 'dial', number: '5376443' }]);
  });

  it('a locked-out name is refused without asking RADIUS', () => {
    const w = radiusWorld({ user: 'rnum', secret: 'cbpin123', callback: '' });
    w.locked = ['cid:0301234'];
    start(w);
    expect(w.of('radius-auth')).toEqual([]);
    expect(w.client.exitCode).toBe(19);
    w.runOut();
    expect(w.of('dial')).toEqual([]);
  });

  it('an Accept without call-back attributes is a PPP user: handed to pppd with its options', () => {
    const w = start(
      radiusWorld(
        { user: 'radiususer', secret: 'cbpin123' },
        { pppd: { ...testConfig().pppd, autoPppBeforeCallback: true } },
      ),
    );
    expect(w.client.said).toContainEqual('rcvd [PAP AuthAck]');
    expect(w.state).toMatchObject({
      tag: 'ppp',
      autoPpp: true,
      call: { pppUser: 'radiususer', radiusUser: 'radiususer' },
    });
    expect(w.of('ppp')).toEqual([
      {
        do: 'ppp',
        user: { name: 'radiususer', passwordHash: '' },
        autoPpp: true,
        pppdOptions: ['maxconnect', '3600', 'idle', '600'],
      },
    ]);
  });

  it('an Accept for a PPP user where PPP may not start before the call-back: refused', () => {
    const w = start(radiusWorld({ user: 'radiususer', secret: 'cbpin123' }));
    expect(w.client.exitCode).toBe(19);
    w.runOut();
    expect(w.of('ppp')).toEqual([]);
    expect(finishes(w)[0]?.outcome).toBe('ppp-callback-failed');
  });

  it('an answer counts only for the request it was asked for: not another call, not a renegotiated link, not the text login', () => {
    const w = radiusWorld({ user: 'rnum', secret: 'cbpin123', callback: '' });
    w.holdVerify = true;
    start(w);
    expect(w.held).toHaveLength(1);
    const accept = (w.held[0] as Extract<Input, { type: 'radius-answer' }>).result;
    // Another call's answer, and one without a request (the text login's): nothing.
    w.apply({ type: 'radius-answer', result: accept, ref: 'other:pap1' });
    w.apply({ type: 'radius-answer', result: accept });
    expect(w.client.said).not.toContainEqual('rcvd [PAP AuthAck]');
    // The peer renegotiates LCP and authenticates again with a wrong secret.
    secondRequestRefused(w, 'rnum', 'PAP refused: radius: Access-Reject');
  });

  it("the engine waits for RADIUS's whole budget, not only its own 15 s", () => {
    const radius = testRadiusConfig({ timeoutMs: 5_000, retries: 3 }); // 21 s
    const w = radiusWorld({ user: 'rnum', secret: 'cbpin123', callback: '' }, { radius });
    w.holdVerify = true;
    start(w);
    // Every server with every retransmission, and a second: the state's deadline.
    expect(w.timerAt! - w.now).toBe(21_000);
    w.now += 20_000;
    w.apply(w.held.shift()!);
    w.settle();
    expect(w.client.exitCode).toBe(14);
  });

  it('a radius-answer with a ref is not taken by a text login waiting for its own', () => {
    const w = world({ user: 'x', secret: 'y' }, { radius: testRadiusConfig() });
    const clock = { deadline: 240_000, warned: false };
    const call = { callId: 'c2', startedAt: 0, logins: ['call'] };
    w.state = {
      tag: 'verifying',
      call,
      phase: 1,
      failures: 0,
      claim: { kind: 'unknown', name: 'call' },
      clock,
    };
    w.apply({ type: 'radius-answer', result: { kind: 'reject' }, ref: 'c1:pap1' });
    expect(w.state.tag).toBe('verifying');
    expect(w.effects).toEqual([]);
  });
});

describe('session: call-back inside PPP against hostile input (property)', () => {
  /** What a caller may send: meaningful frames in any order, broken ones, and noise. */
  const frame = fc.oneof(
    fc.constant(encodeFrame(LCP, PPPD_CONFREQ_CALLBACK)),
    fc
      .integer({ min: 0, max: 255 })
      .map((id) => encodeFrame(LCP, packet(2, id, Buffer.from('0304c023', 'hex')))),
    fc.integer({ min: 0, max: 3 }).map((id) => encodeFrame(LCP, packet(2, id, Buffer.alloc(0)))),
    fc.constant(encodeFrame(CBCP, packet(2, 1, Buffer.from([2, 0xff, 0])))),
    fc.constantFrom('cbpin123', 'wrong-pin').map((k) => encodeFrame(PAP, papRequest(1, 'roamer', k))),
    fc
      .constantFrom('123456', '4567890', '1239999', '', '123;H')
      .chain((n) => fc.integer({ min: 0, max: 4 }).map((id) => encodeFrame(CBCP, cbcpUser(id, n)))),
    fc.constant(encodeFrame(LCP, packet(5, 7, Buffer.from('bye')))),
    fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    fc
      .uint8Array({ maxLength: 20 })
      .map((b) => Buffer.concat([Buffer.from([0x7e, 0xff, 0x03]), b, Buffer.from([0x7e])])),
  );
  const action = fc.oneof(
    { weight: 6, arbitrary: frame.map((data) => ({ kind: 'bytes' as const, data })) },
    // Answers to what the server said last, as a real peer gives them.
    { weight: 2, arbitrary: fc.constant({ kind: 'ack' as const }) },
    // A well-behaved caller's whole exchange at once, for the rest to interfere with.
    {
      weight: 1,
      arbitrary: fc
        .record({
          number: fc.constantFrom('123456', '4567890'),
          secret: fc.constantFrom('cbpin123', 'wrong-pin'),
        })
        .map((p) => ({ kind: 'polite' as const, ...p })),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom('123456', '4567890', '1239999', '')
        .map((number) => ({ kind: 'cbcp' as const, number })),
    },
    { weight: 2, arbitrary: fc.constant({ kind: 'verify' as const }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'timeout' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'carrier' as const }) },
  );

  /** With [radius]: roamer's right PIN is accepted with its own entry (Callback-Id), else rejected. */
  const server = (name: string, secret: string): AuthResult =>
    name === 'roamer' && secret === 'cbpin123'
      ? { kind: 'accept', serviceType: 'callback-framed', callbackId: 'roamer' }
      : { kind: 'reject' };
  /** A secret check's answer that lets PAP succeed. */
  const grants = (r: Input | undefined): boolean =>
    (r?.type === 'pap-verified' && r.ok) || (r?.type === 'radius-answer' && r.result.kind === 'accept');

  it.each([
    ['local', false],
    ['[radius]', true],
  ])(
    'never throws, always has a deadline, dials only after PAP and only numbers the rules allow, one record (%s)',
    (_how, radius) => {
      const reached = { dial: 0, refusedNumber: 0, papRefused: 0 };
      fc.assert(
        fc.property(fc.array(action, { maxLength: 50 }), (actions) => {
          const client = { user: 'roamer', secret: 'cbpin123', callback: '123456' };
          const w = radius ? radiusWorld(client, {}, server) : world(client);
          w.holdVerify = true;
          // The scripted client stays quiet: every byte is the generated caller's, which
          // may answer the server's last Configure-Request or Callback-Request.
          const heard = new Deframer(4000, 0);
          let confReq: { id: number; data: Buffer } | undefined;
          let cbcpId: number | undefined;
          w.client.receive = (b) => {
            for (const f of heard.push(b)) {
              if (f.protocol === LCP && f.info[0] === 1)
                confReq = { id: f.info[1]!, data: f.info.subarray(4) };
              if (f.protocol === CBCP && f.info[0] === 1) cbcpId = f.info[1];
            }
          };
          w.apply({ type: 'ppp-frame', data: encodeFrame(LCP, PPPD_CONFREQ_CALLBACK) });
          let granted = false;
          for (const a of actions) {
            if (a.kind === 'polite') {
              if (confReq)
                w.apply({ type: 'ppp-bytes', data: encodeFrame(LCP, packet(2, confReq.id, confReq.data)) });
              w.apply({ type: 'ppp-bytes', data: encodeFrame(PAP, papRequest(9, 'roamer', a.secret)) });
              w.settle();
              const r = w.held.shift();
              if (grants(r)) granted = true;
              if (r) w.apply(r);
              w.settle();
              if (cbcpId !== undefined) {
                w.apply({ type: 'ppp-bytes', data: encodeFrame(CBCP, cbcpUser(cbcpId, a.number)) });
              }
            } else if (a.kind === 'bytes') w.apply({ type: 'ppp-bytes', data: a.data });
            else if (a.kind === 'ack' && confReq) {
              w.apply({ type: 'ppp-bytes', data: encodeFrame(LCP, packet(2, confReq.id, confReq.data)) });
            } else if (a.kind === 'cbcp' && cbcpId !== undefined) {
              w.apply({ type: 'ppp-bytes', data: encodeFrame(CBCP, cbcpUser(cbcpId, a.number)) });
            } else if (a.kind === 'verify') {
              const r = w.held.shift();
              if (r) {
                if (grants(r)) granted = true;
                w.apply(r);
              }
            } else if (a.kind === 'timeout' && w.timerAt !== undefined) w.fire();
            else if (a.kind === 'carrier') w.apply({ type: 'carrier-lost' });
            w.settle();
            if (w.state.tag === 'ppp-callback') expect(w.timerAt).toBeDefined();
            if (!granted) expect(w.of('record-callback')).toEqual([]);
          }
          w.runOut();
          for (const d of w.of('dial')) {
            expect(granted).toBe(true);
            expect(d.number).toMatch(/^123[0-8][0-9]{2,8}$/);
          }
          expect(finishes(w).length).toBeLessThanOrEqual(1);
          if (w.state.tag === 'idle') expect(finishes(w)).toHaveLength(1);
          else expect(['dialing', 'ppp']).toContain(w.state.tag);
          expect(logText(w)).not.toContain('cbpin123');
          if (w.of('dial').length > 0) reached.dial++;
          if (/number refused/.test(String(finishes(w)[0]?.detail))) reached.refusedNumber++;
          if (/PAP refused/.test(String(finishes(w)[0]?.detail))) reached.papRefused++;
        }),
        { numRuns: 300, seed: 20261205 },
      );
      // The properties are not vacuous: this seed reaches call-backs and both refusals.
      expect(reached.dial, JSON.stringify(reached)).toBeGreaterThan(0);
      expect(reached.refusedNumber, JSON.stringify(reached)).toBeGreaterThan(0);
      expect(reached.papRefused, JSON.stringify(reached)).toBeGreaterThan(0);
    },
  );
});

describe('LineReader: the first frame is kept for whoever speaks PPP next', () => {
  it('gives the bytes from the flag on, also when the flag came in an earlier chunk', () => {
    const r = new LineReader({ maxLength: 32, echo: true, detectPpp: true });
    const frame = encodeFrame(LCP, PPPD_CONFREQ_CALLBACK);
    expect(r.feed(Buffer.from('ab')).events).toEqual([]);
    expect(r.feed(frame.subarray(0, 2)).events).toEqual([]);
    expect(r.feed(frame.subarray(2)).events).toEqual([{ kind: 'ppp' }]);
    expect(r.takePppBytes()).toEqual(frame);
    expect(r.takePppBytes()).toEqual(Buffer.alloc(0));
  });
});
