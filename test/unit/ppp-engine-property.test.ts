import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, type EngineEvent, type PapDecision } from '../../src/ppp/engine/index.js';
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
  testRules,
} from '../helpers/ppp-peer.js';

/**
 * Hostile input: whatever bytes, frames, timer ticks and PAP decisions arrive in whatever
 * order, the engine does not throw, reports a call-back only after a successful PAP and
 * only for a number the rules accept (or the entry's own), ends exactly once, and holds a
 * bounded amount of memory.
 */
const ADMIN = '123456';

// CBCP Responses with random types, Ids, delays and numbers (digits, letters, AT text, empty).
const cbcpResponse = fc
  .record({
    id: fc.constantFrom(1, 1, 1, 2, 0, 255),
    type: fc.constantFrom(2, 2, 2, 3, 1, 4, 0, 9),
    delay: fc.integer({ min: 0, max: 255 }),
    addrType: fc.constantFrom(1, 1, 1, 0, 2),
    number: fc.oneof(
      fc.stringMatching(/^[0-9]{0,12}$/),
      fc.constantFrom('0900123456', '5551234', '123456;ATH', '', '+491234567'),
      fc.string({ maxLength: 20 }),
    ),
  })
  .map(({ id, type, delay, addrType, number }) => {
    const addr = Buffer.concat([
      Buffer.from([delay, addrType]),
      Buffer.from(number, 'latin1'),
      Buffer.from([0]),
    ]);
    const opt = Buffer.concat([Buffer.from([type, (addr.length + 2) & 0xff]), addr]);
    return { p: CBCP, b: packet(2, id, opt) };
  });

// Bits of what a real peer sends, so that random runs get past LCP and PAP often.
const frameBody = fc.oneof(
  fc.constant({ p: LCP, b: PPPD_CONFREQ_CALLBACK }),
  fc.constant({ p: LCP, b: PPPD_CONFREQ_PLAIN }),
  fc.constant({ p: LCP, b: hex('02 01 00 0e 03 04 c0 23 05 06 12 34 56 78') }),
  fc.constant({ p: LCP, b: packet(5, 2, Buffer.from('Call me back, please')) }),
  fc.constant({ p: PAP, b: hex('01 01 00 13 06 63 62 75 73 65 72 07 73 65 63 72 65 74 31') }),
  cbcpResponse,
  // LCP packets of any code, Id and options, including option lengths 0, 1 and 255.
  fc
    .record({
      code: fc.integer({ min: 0, max: 15 }),
      id: fc.integer({ min: 0, max: 3 }),
      opts: fc.array(
        fc.record({
          type: fc.integer({ min: 0, max: 30 }),
          len: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constant(255)),
          fill: fc.integer({ min: 0, max: 255 }),
        }),
        { maxLength: 5 },
      ),
    })
    .map(({ code, id, opts }) => {
      const data = Buffer.concat(
        opts.map((o) =>
          Buffer.concat([
            Buffer.from([o.type, o.len]),
            Buffer.alloc(Math.max(0, Math.min(o.len, 8) - 2), o.fill),
          ]),
        ),
      );
      return { p: LCP, b: packet(code, id, data) };
    }),
  // Anything at all under any protocol, and truncated packets.
  fc.record({
    p: fc.integer({ min: 0, max: 0xffff }),
    b: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  }),
  fc.record({
    p: fc.constantFrom(LCP, PAP, CBCP),
    b: fc.uint8Array({ maxLength: 6 }).map((a) => Buffer.from(a)),
  }),
);

type Step =
  | { k: 'frame'; p: number; b: Buffer; corrupt: number }
  | { k: 'bytes'; b: Buffer }
  | { k: 'tick'; ms: number }
  | { k: 'pap'; decision: PapDecision };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        f: frameBody,
        // Most frames arrive intact; the rest have a flipped bit or are cut short.
        corrupt: fc.oneof(
          { weight: 3, arbitrary: fc.constant(9999) },
          { weight: 1, arbitrary: fc.integer({ min: -4, max: 40 }) },
        ),
      })
      .map(({ f, corrupt }) => ({ k: 'frame' as const, p: f.p, b: f.b, corrupt })),
  },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => ({ k: 'bytes' as const, b: Buffer.from(a) })),
  },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 5000 }).map((ms) => ({ k: 'tick' as const, ms })) },
  {
    weight: 2,
    arbitrary: fc
      .record({
        ok: fc.boolean(),
        cb: fc.boolean(),
        types: fc.subarray(['none', 'user', 'admin'] as const, { minLength: 0 }),
        refuse: fc.boolean(),
      })
      .map(({ ok, cb, types, refuse }) => ({
        k: 'pap' as const,
        decision: (!ok
          ? { ok: false }
          : cb
            ? {
                ok: true,
                callback: { types: [...types], adminNumber: ADMIN, withoutCbcp: refuse ? 'refuse' : 'pppd' },
              }
            : { ok: true }) as PapDecision,
      })),
  },
);

function run(steps: Step[]) {
  const peer = new TestPeer();
  let maxOut = 0;
  let maxBuffered = 0;
  const papOk: number[] = [];
  for (const s of steps) {
    const before = peer.sent.length;
    if (s.k === 'frame') {
      const wire = encodeFrame(s.p, s.b);
      // corrupt >= 0 flips a bit in that byte (bad FCS, bad escape); below 0 cuts the frame short.
      if (s.corrupt >= 0 && s.corrupt < wire.length) wire[s.corrupt] = (wire[s.corrupt] as number) ^ 0x04;
      peer.raw(s.corrupt < 0 ? wire.subarray(0, wire.length + s.corrupt) : wire);
    } else if (s.k === 'bytes') peer.raw(s.b);
    else if (s.k === 'tick') peer.advance(s.ms);
    else {
      if (s.decision.ok) papOk.push(peer.events.length);
      peer.pap(s.decision);
    }
    maxOut = Math.max(maxOut, peer.sent.length - before);
    maxBuffered = Math.max(maxBuffered, peer.engine.buffered);
  }
  // Then let time run: every state has a deadline, so the engine must end.
  let guard = 0;
  while (!peer.engine.done && guard++ < 1000) peer.advance();
  return { peer, maxOut, maxBuffered, papOk };
}

function checkInvariants(r: ReturnType<typeof run>, okDecisions: boolean) {
  const ev: EngineEvent[] = r.peer.events;
  const finals = ev.filter((e) => e.type === 'terminated' || e.type === 'failed' || e.type === 'handoff');
  expect(finals).toHaveLength(1);
  expect(ev.at(-1)).toBe(finals[0]);
  expect(r.peer.engine.done).toBe(true);
  for (const [i, e] of ev.entries()) {
    if (e.type !== 'callback-agreed') continue;
    expect(okDecisions).toBe(true);
    // A successful PAP decision came before it.
    expect(r.papOk.some((at) => at <= i)).toBe(true);
    if (e.kind === 'admin') expect(e.number).toBe(ADMIN);
    else expect(testRules(e.number)).toEqual({ ok: true, dial: e.number });
  }
  expect(ev.filter((e) => e.type === 'callback-agreed').length).toBeLessThanOrEqual(1);
  expect(r.maxBuffered).toBeLessThanOrEqual(1600);
  // One input never makes the engine say more than a handful of frames.
  expect(r.maxOut).toBeLessThanOrEqual(4);
}

// A generous timeout: the runs take well under a second, but CI machines are loaded.
describe('PPP engine under hostile input (fast-check)', { timeout: 60_000 }, () => {
  it('never throws, ends exactly once, grants call-backs only after PAP and within the rules', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const r = run(steps);
        checkInvariants(r, true);
      }),
      { numRuns: 400 },
    );
  });

  it('with every PAP decision a refusal, no call-back is ever agreed', () => {
    const refusing = step.map((s) => (s.k === 'pap' ? { ...s, decision: { ok: false } as PapDecision } : s));
    fc.assert(
      fc.property(fc.array(refusing, { maxLength: 60 }), (steps) => {
        const r = run(steps);
        checkInvariants(r, false);
        expect(r.peer.events.some((e) => e.type === 'callback-agreed')).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('reaches a call-back often enough that the properties above are not vacuous', () => {
    // The prefix of a good exchange, then random steps: most runs get to CBCP.
    const good: Step[] = [
      { k: 'frame', p: LCP, b: PPPD_CONFREQ_CALLBACK, corrupt: 99 },
      { k: 'frame', p: LCP, b: hex('02 01 00 0e 03 04 c0 23 05 06 12 34 56 78'), corrupt: 99 },
      { k: 'frame', p: PAP, b: hex('01 01 00 13 06 63 62 75 73 65 72 07 73 65 63 72 65 74 31'), corrupt: 99 },
      {
        k: 'pap',
        decision: {
          ok: true,
          callback: { types: ['user', 'admin'], adminNumber: ADMIN, withoutCbcp: 'refuse' },
        },
      },
    ];
    const cbcpFirst = fc.oneof(
      {
        weight: 2,
        arbitrary: cbcpResponse.map((f) => ({ k: 'frame' as const, p: f.p, b: f.b, corrupt: 9999 })),
      },
      { weight: 1, arbitrary: step },
    );
    let agreed = 0;
    let refusedNumbers = 0;
    fc.assert(
      fc.property(fc.array(cbcpFirst, { maxLength: 30 }), (steps) => {
        const r = run([...good, ...steps]);
        checkInvariants(r, true);
        if (r.peer.events.some((e) => e.type === 'callback-agreed')) agreed++;
        if (r.peer.events.some((e) => e.type === 'failed' && e.reason.includes('number refused')))
          refusedNumbers++;
      }),
      // A fixed seed: the counts below must not depend on luck.
      { numRuns: 400, seed: 20261205 },
    );
    expect(agreed).toBeGreaterThan(20);
    expect(refusedNumbers).toBeGreaterThan(5);
  });

  it('a flood of valid frames or of noise ends the exchange instead of growing anything', () => {
    const peer = new TestPeer();
    peer.openLcp();
    const echo = encodeFrame(LCP, hex('09 05 00 08 0a0b0c0d'));
    for (let i = 0; i < 2000 && !peer.engine.done; i++) peer.raw(echo);
    expect(peer.events.at(-1)).toEqual({ type: 'failed', reason: 'more than 1000 frames' });

    const noisy = new TestPeer();
    const noise = Buffer.concat([Buffer.alloc(30, 0x41), Buffer.from([0x7e])]);
    for (let i = 0; i < 1000 && !noisy.engine.done; i++) noisy.raw(noise);
    expect(noisy.events.at(-1)).toEqual({ type: 'failed', reason: 'more than 200 bad frames' });
    expect(noisy.engine.buffered).toBeLessThanOrEqual(1600);
  });

  it('the way the line cuts the byte stream into chunks changes nothing', () => {
    // pppd's whole reference exchange as it arrives on the wire (escaped as our default map
    // asks), in two parts around the PAP decision; fed whole, or cut anywhere, the engine
    // must say exactly the same.
    const before = Buffer.concat([
      encodeFrame(LCP, PPPD_CONFREQ_CALLBACK),
      encodeFrame(LCP, hex('02 01 00 0e 03 04 c0 23 05 06 12 34 56 78')),
      encodeFrame(PAP, hex('01 01 00 13 06 63 62 75 73 65 72 07 73 65 63 72 65 74 31')),
    ]);
    const after = Buffer.concat([
      encodeFrame(CBCP, hex('02 01 00 10 02 0c 05 01 35 35 35 31 32 33 34 00')),
      encodeFrame(LCP, packet(5, 2, Buffer.from('Call me back, please'))),
    ]);
    const play = (cuts: number[]) => {
      const peer = new TestPeer();
      const feed = (b: Buffer) => {
        let at = 0;
        for (const c of [...cuts.map((x) => x % (b.length + 1))].sort((x, y) => x - y)) {
          peer.raw(b.subarray(at, Math.max(at, c)));
          at = Math.max(at, c);
        }
        peer.raw(b.subarray(at));
      };
      feed(before);
      peer.pap(CALLBACK_ALL);
      feed(after);
      return { sent: peer.sent, events: peer.events };
    };
    const whole = play([]);
    expect(whole.events.map((e) => e.type)).toEqual(['pap-request', 'callback-agreed', 'terminated']);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        expect(play(cuts)).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });
});
