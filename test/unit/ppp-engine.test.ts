import { describe, expect, it } from 'vitest';
import {
  ENGINE_DEFAULTS,
  engineStep,
  initialEngine,
  type EngineContext,
  type EngineInput,
} from '../../src/ppp/engine/index.js';
import {
  CALLBACK_ALL,
  CBCP,
  hex,
  LCP,
  PAP,
  packet,
  PPPD_CONFREQ_CALLBACK,
  PPPD_CONFREQ_PLAIN,
  TestPeer,
} from '../helpers/ppp-peer.js';

const CALL_ME_BACK = packet(5, 2, Buffer.from('Call me back, please'));
const only = (peer: TestPeer, protocol: number) => peer.sent.filter((s) => s.protocol === protocol);
const hexOf = (b: Buffer) => b.toString('hex');

describe('PPP engine: the reference exchange with pppd 2.4.9 `callback 5551234`', () => {
  it('LCP with option 13, PAP, CBCP Request/Response/Ack, Term-Ack: byte for byte', () => {
    const peer = new TestPeer();
    const first = peer.send(LCP, PPPD_CONFREQ_CALLBACK);
    // Our request (PAP, magic 0x12345678), then the Ack of pppd's, option 13 included.
    expect(first.map((s) => [s.code, s.id, hexOf(s.data)])).toEqual([
      [1, 1, '0304c0230506' + '12345678'],
      [2, 1, hexOf(PPPD_CONFREQ_CALLBACK.subarray(4))],
    ]);
    peer.send(LCP, hex('02 01 00 0e 03 04 c0 23 05 06 12 34 56 78'));
    expect(peer.engine.phase).toBe('authenticate');

    peer.send(PAP, hex('01 01 00 13 06 63 62 75 73 65 72 07 73 65 63 72 65 74 31'));
    expect(peer.events).toEqual([{ type: 'pap-request', name: 'cbuser', secret: 'secret1' }]);
    const afterPap = peer.pap(CALLBACK_ALL);
    expect(afterPap.map((s) => [s.protocol, s.code, s.id, hexOf(s.data)])).toEqual([
      [PAP, 2, 1, '00'],
      // Type 1, type 3, then type 2 last: pppd misparses whatever follows a type 2.
      [CBCP, 1, 1, '0102' + '030300' + '0205000100'],
    ]);

    const response = hex('02 01 00 10 02 0c 05 01 35 35 35 31 32 33 34 00');
    const ack = peer.send(CBCP, response);
    expect(ack.map((s) => [s.code, s.id, hexOf(s.data)])).toEqual([[3, 1, hexOf(response.subarray(4))]]);
    expect(peer.events.at(-1)).toEqual({
      type: 'callback-agreed',
      kind: 'user',
      number: '5551234',
      delay: 5,
    });

    const termAck = peer.send(LCP, CALL_ME_BACK);
    expect(termAck.map((s) => [s.code, s.id, s.data.length])).toEqual([[6, 2, 0]]);
    expect(peer.events.at(-1)).toEqual({ type: 'terminated' });
    expect(peer.engine.done).toBe(true);
    expect(peer.engine.wakeAt).toBeUndefined();
  });

  it('`callback ""`: an empty type-2 number means the entry\'s own number', () => {
    const peer = new TestPeer();
    peer.toCbcp();
    peer.send(CBCP, hex('02 01 00 09 02 05 05 01 00'));
    expect(peer.events.at(-1)).toEqual({
      type: 'callback-agreed',
      kind: 'admin',
      number: '123456',
      delay: 5,
    });
  });

  it('an empty number with no entry number to fall back on is refused', () => {
    const peer = new TestPeer();
    peer.toCbcp({ ok: true, callback: { types: ['user'], withoutCbcp: 'refuse' } });
    expect(only(peer, CBCP).at(-1)?.data).toEqual(hex('0205000100'));
    const out = peer.send(CBCP, hex('02 01 00 09 02 05 05 01 00'));
    expect(out.map((s) => [s.protocol, s.code])).toEqual([[LCP, 5]]);
    peer.send(LCP, packet(6, out[0]!.id));
    expect(peer.events.map((e) => e.type)).toEqual(['pap-request', 'failed']);
    expect(peer.events.at(-1)).toMatchObject({ reason: expect.stringContaining('refused') });
  });

  it('offers only type 3 when the entry allows only its own number', () => {
    const peer = new TestPeer();
    peer.toCbcp({ ok: true, callback: { types: ['admin'], adminNumber: '123456', withoutCbcp: 'refuse' } });
    expect(only(peer, CBCP)[0]?.data).toEqual(hex('030300'));
    peer.send(CBCP, hex('02 01 00 07 03 03 05'));
    expect(peer.events.at(-1)).toEqual({
      type: 'callback-agreed',
      kind: 'admin',
      number: '123456',
      delay: 5,
    });
  });
});

describe('PPP engine: refusals', () => {
  it('a wrong PAP secret: Nak "Authentication failed", LCP Terminate-Request, failed, no call-back', () => {
    const peer = new TestPeer();
    peer.openLcp();
    peer.authRequest('cbuser', 'wrong');
    const out = peer.pap({ ok: false });
    expect(out.map((s) => [s.protocol, s.code])).toEqual([
      [PAP, 3],
      [LCP, 5],
    ]);
    expect(out[0]!.data.subarray(1).toString()).toBe('Authentication failed');
    // CBCP from the peer now goes nowhere.
    peer.send(CBCP, hex('02 01 00 10 02 0c 05 01 35 35 35 31 32 33 34 00'));
    peer.send(LCP, packet(6, out[1]!.id));
    expect(peer.events.map((e) => e.type)).toEqual(['pap-request', 'failed']);
    expect(peer.events.at(-1)).toEqual({ type: 'failed', reason: 'PAP authentication failed' });
  });

  it('a number outside the rules is refused: no callback-agreed, the link is closed', () => {
    const peer = new TestPeer();
    peer.toCbcp();
    const out = peer.send(CBCP, hex('02 01 00 11 02 0d 05 01 30 39 30 30 31 32 33 34 00'));
    expect(out.map((s) => [s.protocol, s.code])).toEqual([[LCP, 5]]);
    expect(peer.events.some((e) => e.type === 'callback-agreed')).toBe(false);
    peer.advance();
    peer.advance();
    peer.advance();
    expect(peer.events.at(-1)).toMatchObject({ type: 'failed', reason: expect.stringContaining('premium') });
  });

  it('a peer without option 13: refused, or handed to pppd, as the entry says', () => {
    const refuse = new TestPeer();
    refuse.openLcp(PPPD_CONFREQ_PLAIN);
    refuse.authRequest('cbuser', 'secret1');
    const out = refuse.pap(CALLBACK_ALL);
    expect(out.map((s) => [s.protocol, s.code])).toEqual([
      [PAP, 2],
      [LCP, 5],
    ]);
    refuse.send(LCP, packet(6, out[1]!.id));
    expect(refuse.events.at(-1)).toMatchObject({
      type: 'failed',
      reason: expect.stringContaining('option 13'),
    });

    const hand = new TestPeer();
    hand.openLcp(PPPD_CONFREQ_PLAIN);
    hand.authRequest('cbuser', 'secret1');
    hand.pap({ ok: true, callback: { types: ['user'], withoutCbcp: 'pppd' } });
    expect(hand.events.at(-1)).toEqual({ type: 'handoff', user: 'cbuser', reason: 'not-negotiated' });
  });

  it('a user without call-back is handed to pppd after PAP', () => {
    const peer = new TestPeer();
    peer.openLcp();
    peer.authRequest('pppuser', 'pw');
    peer.pap({ ok: true });
    expect(peer.events.at(-1)).toEqual({ type: 'handoff', user: 'pppuser', reason: 'no-callback' });
    expect(only(peer, CBCP)).toEqual([]);
  });

  it('option 13 is rejected where call-back is off, and unknown options always', () => {
    const peer = new TestPeer({ config: { acceptCallback: false } });
    const out = peer.send(LCP, hex('01 07 00 15 0d 03 06 11 04 05 dc 03 04 c0 23 05 06 0a0b0c0d'));
    expect(out.map((s) => [s.code, hexOf(s.data)])).toEqual([
      [1, '0304c023050612345678'],
      [4, '0d0306' + '110405dc' + '0304c023'],
    ]);
  });

  it('the caller declines (type 1): Ack, then the line is for pppd', () => {
    const peer = new TestPeer();
    peer.toCbcp();
    const out = peer.send(CBCP, hex('02 01 00 06 01 02'));
    expect(out.map((s) => [s.protocol, s.code, hexOf(s.data)])).toEqual([[CBCP, 3, '0102']]);
    expect(peer.events.at(-1)).toEqual({ type: 'handoff', user: 'cbuser', reason: 'declined' });
  });
});

describe('PPP engine: timers and retransmission', () => {
  it('resends the Callback-Request every 2 s with a new Id, drops stale Responses, gives up at the limit', () => {
    const peer = new TestPeer({ config: { cbcpTries: 4 } });
    peer.toCbcp();
    const t0 = peer.now;
    peer.advance();
    peer.advance();
    expect(peer.now - t0).toBe(4000);
    expect(only(peer, CBCP).map((s) => s.id)).toEqual([1, 2, 3]);
    // A Response to Request 1 is stale now and dropped.
    expect(peer.send(CBCP, hex('02 01 00 10 02 0c 05 01 35 35 35 31 32 33 34 00'))).toEqual([]);
    // A type that was not offered gets the Request again at once, with a new Id.
    const again = peer.send(CBCP, hex('02 03 00 06 04 02'));
    expect(again.map((s) => [s.protocol, s.code, s.id])).toEqual([[CBCP, 1, 4]]);
    expect(peer.events.map((e) => e.type)).toEqual(['pap-request']);
    const last = peer.advance();
    expect(only(peer, CBCP).map((s) => s.id)).toEqual([1, 2, 3, 4]);
    expect(last.map((s) => [s.protocol, s.code])).toEqual([[LCP, 5]]);
    // The peer never answers: Terminate-Request twice, then give up.
    while (!peer.engine.done) peer.advance();
    expect(only(peer, LCP).filter((s) => s.code === 5)).toHaveLength(2);
    expect(peer.events.at(-1)).toMatchObject({
      type: 'failed',
      reason: expect.stringContaining('Callback-Response'),
    });
  });

  it('a silent peer after its first request: Configure-Request resent every 3 s with the same Id, 10 in all', () => {
    const peer = new TestPeer();
    peer.send(LCP, PPPD_CONFREQ_CALLBACK);
    while (!peer.engine.done) peer.advance();
    const reqs = only(peer, LCP).filter((s) => s.code === 1);
    expect(reqs).toHaveLength(10);
    expect(new Set(reqs.map((s) => s.id))).toEqual(new Set([1]));
    expect(peer.events).toEqual([{ type: 'failed', reason: 'LCP negotiation timed out' }]);
  });

  it('the caller not deciding on PAP in time closes the link', () => {
    const peer = new TestPeer({ config: { decideMs: 5000 } });
    peer.openLcp();
    peer.authRequest('cbuser', 'secret1');
    peer.advance();
    expect(only(peer, LCP).at(-1)?.code).toBe(5);
    // A late decision changes nothing.
    peer.pap(CALLBACK_ALL);
    expect(only(peer, PAP)).toEqual([]);
    while (!peer.engine.done) peer.advance();
    expect(peer.events.at(-1)).toEqual({ type: 'failed', reason: 'deciding timed out' });
  });

  it('after the Ack, a peer that never sends Terminate-Request is closed by us; the call-back stands', () => {
    const peer = new TestPeer();
    peer.toCbcp();
    peer.send(CBCP, hex('02 01 00 0f 02 0b 00 01 31 32 33 34 35 36 00'));
    expect(peer.events.at(-1)).toMatchObject({ type: 'callback-agreed', number: '123456', delay: 0 });
    while (!peer.engine.done) peer.advance();
    expect(peer.events.at(-1)).toEqual({ type: 'terminated' });
  });
});

describe('PPP engine: PAP retransmissions and the secret', () => {
  it('answers the latest Identifier while deciding, re-acks a repeat of the same request, ignores another password', () => {
    const peer = new TestPeer();
    peer.openLcp();
    peer.authRequest('cbuser', 'secret1', 1);
    expect(peer.authRequest('cbuser', 'secret1', 2)).toEqual([]);
    expect(peer.pap(CALLBACK_ALL)[0]).toMatchObject({ protocol: PAP, code: 2, id: 2 });
    expect(peer.authRequest('cbuser', 'secret1', 3).map((s) => [s.protocol, s.code, s.id])).toEqual([
      [PAP, 2, 3],
    ]);
    expect(peer.authRequest('cbuser', 'guess', 4)).toEqual([]);
    expect(peer.events.filter((e) => e.type === 'pap-request')).toHaveLength(1);
  });

  it('is a pure function: the same inputs give the same outputs, and no state holds the password', () => {
    const inputs: EngineInput[] = [
      { type: 'frame', protocol: LCP, info: PPPD_CONFREQ_CALLBACK },
      { type: 'frame', protocol: LCP, info: hex('02 01 00 0e 03 04 c0 23 05 06 12 34 56 78') },
      { type: 'frame', protocol: PAP, info: hex('01 01 00 13 06 63 62 75 73 65 72 07 73 65 63 72 65 74 31') },
      { type: 'pap-result', decision: CALLBACK_ALL },
    ];
    const play = () => {
      const c: EngineContext = {
        now: 5,
        config: ENGINE_DEFAULTS,
        random: () => 0x12345678,
        checkNumber: (n) => ({ ok: true, dial: n }),
      };
      let state = initialEngine(c);
      const trace: string[] = [];
      for (const i of inputs) {
        const r = engineStep(state, i, c);
        state = r.state;
        trace.push(JSON.stringify(r.effects), JSON.stringify(state));
      }
      return trace;
    };
    const first = play();
    expect(play()).toEqual(first);
    const states = first.filter((_, i) => i % 2 === 1).join('\n');
    expect(states).not.toContain('secret1');
    expect(states).toContain('cbuser');
  });
});

describe('PPP engine: LCP housekeeping', () => {
  it('answers Echo-Request with our magic, rejects unknown codes and protocols, discards NCPs', () => {
    const peer = new TestPeer();
    peer.openLcp();
    const echo = peer.send(LCP, hex('09 05 00 0a 0a0b0c0d 6869'));
    expect(echo.map((s) => [s.code, s.id, hexOf(s.data)])).toEqual([[10, 5, '12345678' + '6869']]);
    const codeRej = peer.send(LCP, hex('42 06 00 05 99'));
    expect(codeRej.map((s) => [s.code, hexOf(s.data)])).toEqual([[7, '4206000599']]);
    const protoRej = peer.send(0x4021, hex('0102'));
    expect(protoRej.map((s) => [s.code, hexOf(s.data)])).toEqual([[8, '40210102']]);
    expect(peer.send(0x8021, hex('01 01 00 0a 03 06 00000000'))).toEqual([]);
  });

  it('PAP and CBCP before LCP is open are discarded', () => {
    const peer = new TestPeer();
    expect(peer.authRequest('cbuser', 'secret1')).toEqual([]);
    expect(peer.send(CBCP, hex('02 01 00 06 01 02'))).toEqual([]);
    expect(peer.events).toEqual([]);
  });

  it('a Nak of our magic number gets a new request with a new Id and another number', () => {
    const peer = new TestPeer();
    peer.send(LCP, PPPD_CONFREQ_CALLBACK);
    const again = peer.send(LCP, hex('03 01 00 0a 05 06 12345678'));
    const req = again.find((s) => s.code === 1)!;
    expect(req.id).toBe(2);
    expect(hexOf(req.data).startsWith('0304c0230506')).toBe(true);
    expect(hexOf(req.data)).not.toContain('12345678');
  });

  it('a peer that will not authenticate with PAP is closed', () => {
    const peer = new TestPeer();
    peer.send(LCP, PPPD_CONFREQ_CALLBACK);
    const out = peer.send(LCP, hex('04 01 00 08 03 04 c0 23'));
    expect(out.map((s) => s.code)).toEqual([5]);
    peer.send(LCP, packet(6, out[0]!.id));
    expect(peer.events).toEqual([{ type: 'failed', reason: 'peer refuses to authenticate' }]);
  });

  it('an LCP renegotiation after PAP forgets the authentication', () => {
    const peer = new TestPeer();
    peer.toCbcp();
    expect(peer.engine.phase).toBe('callback');
    peer.send(LCP, PPPD_CONFREQ_CALLBACK);
    expect(peer.engine.phase).toBe('establish');
    // Without a new PAP, a Response is not taken.
    peer.send(CBCP, hex('02 01 00 10 02 0c 05 01 35 35 35 31 32 33 34 00'));
    expect(peer.events.map((e) => e.type)).toEqual(['pap-request']);
  });

  it('the peer ending the link before a call-back is agreed is a failure', () => {
    const peer = new TestPeer();
    peer.toCbcp();
    const out = peer.send(LCP, CALL_ME_BACK);
    expect(out.map((s) => s.code)).toEqual([6]);
    expect(peer.events.at(-1)).toEqual({ type: 'failed', reason: 'peer ended the link' });
  });
});
