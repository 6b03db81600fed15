import { describe, expect, it } from 'vitest';
import {
  initialLcp,
  LCP_TIMING,
  lcpStep,
  ourOptions,
  type LcpAction,
  type LcpContext,
  type LcpEvent,
  type LcpState,
} from '../../src/ppp/engine/lcp.js';
import { parsePacket } from '../../src/ppp/engine/packet.js';
import { hex, packet, PPPD_CONFREQ_PLAIN } from '../helpers/ppp-peer.js';

// RFC 1661 §4.1's automaton, row by row, on the pure step function.
const ctx = (now = 0, acceptCallback = true): LcpContext => ({
  now,
  timing: LCP_TIMING,
  acceptCallback,
  random: () => 0x0badcafe,
});
const ev = (bytes: Buffer): LcpEvent => ({ e: 'packet', packet: parsePacket(bytes)! });
const sends = (actions: LcpAction[]) =>
  actions.flatMap((a) => (a.a === 'send' ? [[a.code, a.id, a.data.toString('hex')]] : [[a.a]]));

function walk(events: LcpEvent[], start: LcpState = initialLcp(0x12345678), c = ctx()) {
  let state = start;
  const all: LcpAction[] = [];
  const tags: string[] = [];
  for (const e of events) {
    const r = lcpStep(state, e, c);
    state = r.state;
    all.push(...r.actions);
    tags.push(state.tag);
  }
  return { state, actions: all, tags };
}

const ackOf = (s: LcpState) => {
  const data = ourOptions(s);
  return ev(packet(2, s.reqId, data));
};

describe('LCP automaton (RFC 1661 §4.1)', () => {
  it('Stopped + RCR+: irc, scr, sca -> Ack-Sent; RCA -> Opened with This-Layer-Up', () => {
    const a = walk([ev(PPPD_CONFREQ_PLAIN)]);
    expect(a.state.tag).toBe('ack-sent');
    expect(sends(a.actions)).toEqual([
      [1, 1, '0304c023050612345678'],
      [2, 1, PPPD_CONFREQ_PLAIN.subarray(4).toString('hex')],
    ]);
    expect(a.state.peer).toMatchObject({ accm: 0, magic: 0x0a0b0c0d, pfc: true, acfc: true, cbcp: false });
    const b = walk([ackOf(a.state)], a.state);
    expect(b.state.tag).toBe('opened');
    expect(sends(b.actions)).toEqual([['up']]);
    expect(b.state.restartAt).toBeUndefined();
  });

  it('Req-Sent + RCA -> Ack-Rcvd; then RCR+ -> Opened', () => {
    const a = walk([ev(hex('01 01 00 08 99 04 0000'))]); // unknown option: RCR-
    expect(a.tags).toEqual(['req-sent']);
    expect(sends(a.actions)[1]).toEqual([4, 1, '99040000']);
    const b = walk([ackOf(a.state), ev(PPPD_CONFREQ_PLAIN)], a.state);
    expect(b.tags).toEqual(['ack-rcvd', 'opened']);
    expect(sends(b.actions)).toEqual([[2, 1, PPPD_CONFREQ_PLAIN.subarray(4).toString('hex')], ['up']]);
  });

  it('ignores a Configure-Ack with the wrong Identifier or other options', () => {
    const a = walk([ev(PPPD_CONFREQ_PLAIN)]);
    const wrongId = ev(packet(2, 7, ourOptions(a.state)));
    const wrongData = ev(packet(2, a.state.reqId, hex('0506 00000001')));
    const b = walk([wrongId, wrongData], a.state);
    expect(b.tags).toEqual(['ack-sent', 'ack-sent']);
    expect(b.actions).toEqual([]);
  });

  it('Ack-Rcvd + RCA (crossed): scr with a new Identifier -> Req-Sent', () => {
    const a = walk([ev(hex('01 01 00 08 99 04 0000'))]);
    const b = walk([ackOf(a.state), ackOf(a.state)], a.state);
    expect(b.tags).toEqual(['ack-rcvd', 'req-sent']);
    expect(sends(b.actions)).toEqual([[1, 2, '0304c023050612345678']]);
  });

  it('Opened + RTR: tld, zrc, sta -> Stopping; the restart timer then ends it (tlf -> Stopped)', () => {
    const up = walk([ev(PPPD_CONFREQ_PLAIN)]);
    const opened = walk([ackOf(up.state)], up.state).state;
    const a = walk([ev(packet(5, 9, Buffer.from('bye')))], opened, ctx(100));
    expect(a.state.tag).toBe('stopping');
    expect(sends(a.actions)).toEqual([['down'], [6, 9, '']]);
    expect(a.state.restartAt).toBe(100 + LCP_TIMING.restartMs);
    const b = walk([{ e: 'timeout' }], a.state, ctx(100 + LCP_TIMING.restartMs));
    expect(b.state.tag).toBe('stopped');
    expect(sends(b.actions)).toEqual([['finished']]);
  });

  it('Req-Sent + RTR: sta, stays negotiating', () => {
    const a = walk([ev(hex('01 01 00 08 99 04 0000')), ev(packet(5, 3))]);
    expect(a.tags).toEqual(['req-sent', 'req-sent']);
    expect(sends(a.actions).at(-1)).toEqual([6, 3, '']);
  });

  it('Close in Opened: tld, irc, str -> Closing; Terminate-Request resent max-terminate times, then tlf -> Closed', () => {
    const up = walk([ev(PPPD_CONFREQ_PLAIN)]);
    const opened = walk([ackOf(up.state)], up.state).state;
    let s = walk([{ e: 'close', reason: 'test' }], opened, ctx(0));
    expect(s.state.tag).toBe('closing');
    expect(s.state.closeReason).toBe('test');
    const actions = [...s.actions];
    let now = 0;
    while (s.state.tag === 'closing') {
      now = s.state.restartAt!;
      s = walk([{ e: 'timeout' }], s.state, ctx(now));
      actions.push(...s.actions);
    }
    expect(s.state.tag).toBe('closed');
    expect(sends(actions).filter((a) => a[0] === 5)).toHaveLength(LCP_TIMING.maxTerminate);
    expect(sends(actions).at(-1)).toEqual(['finished']);
    // Closed answers any request with Terminate-Ack.
    expect(sends(walk([ev(PPPD_CONFREQ_PLAIN)], s.state).actions)).toEqual([[6, 1, '']]);
  });

  it('a timeout before the restart timer is due does nothing', () => {
    const a = walk([ev(PPPD_CONFREQ_PLAIN)], initialLcp(1), ctx(0));
    const b = walk([{ e: 'timeout' }], a.state, ctx(LCP_TIMING.restartMs - 1));
    expect(b.actions).toEqual([]);
    expect(b.state).toEqual(a.state);
  });

  it('Code-Reject of a Configure code is RXJ-: the layer finishes', () => {
    const a = walk([ev(hex('01 01 00 08 99 04 0000')), ev(hex('07 05 00 08 01 01 00 04'))]);
    expect(a.state.tag).toBe('stopped');
    expect(a.state.closeReason).toBe('peer rejected an LCP code');
    expect(sends(a.actions).at(-1)).toEqual(['finished']);
  });

  it('a peer ignoring our Naks gets Rejects after max-failure', () => {
    const zeroMagic = (id: number) => ev(packet(1, id, hex('0506 00000000')));
    const a = walk([1, 2, 3, 4, 5, 6, 7].map(zeroMagic));
    const replies = sends(a.actions).filter((x) => x[0] === 3 || x[0] === 4);
    expect(replies.map((r) => r[0])).toEqual([3, 3, 3, 3, 3, 4, 4]);
    expect(replies[0]).toEqual([3, 1, '05060badcafe']);
    expect(replies[5]).toEqual([4, 6, '050600000000']);
  });

  it("judges option lengths and values: MRU below 64 is Nak'ed, a wrong length or malformed list is not taken", () => {
    const a = walk([ev(hex('01 01 00 08 01 04 0020'))]);
    expect(sends(a.actions)[1]).toEqual([3, 1, '010405dc']);
    const b = walk([ev(hex('01 01 00 09 01 05 05dc00'))]);
    expect(sends(b.actions)[1]).toEqual([4, 1, '010505dc00']);
    // Option length 0 and 255: the request is malformed and dropped, the peer will resend.
    for (const bad of ['01 01 00 06 05 00', '01 01 00 08 05 ff 0000']) {
      const c = walk([ev(hex(bad))]);
      expect(c.actions).toEqual([]);
      expect(c.state.tag).toBe('stopped');
    }
  });

  it('option 13 operation 6 is acked only where call-back is allowed; other operations never', () => {
    const cbcp = ev(hex('01 01 00 07 0d 03 06'));
    expect(walk([cbcp]).state.peer.cbcp).toBe(true);
    expect(sends(walk([cbcp], initialLcp(1), ctx(0, false)).actions)[1]).toEqual([4, 1, '0d0306']);
    expect(sends(walk([ev(hex('01 01 00 07 0d 03 00'))]).actions)[1]).toEqual([4, 1, '0d0300']);
  });
});
