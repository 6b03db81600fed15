import { buildOptions, parseOptions, u32, type Option, type Packet } from './packet.js';
import { DEFAULT_ACCM } from './hdlc.js';

/**
 * LCP (RFC 1661) as the answering side of the first leg: the option-negotiation automaton
 * of §4.1 over plain data, with the time of each step passed in. The lower layer is up
 * from the start and the automaton is opened passively, so it begins in Stopped and sends
 * its first Configure-Request when the peer's arrives (bytes written into a tty before the
 * peer opens it are lost).
 */
export type LcpTag =
  'closed' | 'stopped' | 'closing' | 'stopping' | 'req-sent' | 'ack-rcvd' | 'ack-sent' | 'opened';

export const LCP = {
  CONF_REQ: 1,
  CONF_ACK: 2,
  CONF_NAK: 3,
  CONF_REJ: 4,
  TERM_REQ: 5,
  TERM_ACK: 6,
  CODE_REJ: 7,
  PROTO_REJ: 8,
  ECHO_REQ: 9,
  ECHO_REP: 10,
  DISCARD_REQ: 11,
} as const;

export const OPT = { MRU: 1, ACCM: 2, AUTH: 3, QUALITY: 4, MAGIC: 5, PFC: 7, ACFC: 8, CALLBACK: 13 } as const;
/** LCP option 13 operation 6: the peer wants to negotiate CBCP ([MS-CBCP] §2.2.1). */
export const CALLBACK_OP_CBCP = 6;

export interface LcpTiming {
  restartMs: number;
  maxConfigure: number;
  maxTerminate: number;
  maxFailure: number;
}

/** pppd's and RFC 1661's values: restart 3 s, 10 Configure-Requests, 2 Terminate-Requests, 5 Naks. */
export const LCP_TIMING: LcpTiming = { restartMs: 3000, maxConfigure: 10, maxTerminate: 2, maxFailure: 5 };

/** What the peer asked for and we acknowledged. */
export interface PeerOptions {
  mru: number;
  /** The map the peer wants to receive with: what we must escape once LCP is open. */
  accm: number;
  magic?: number;
  pfc: boolean;
  acfc: boolean;
  /** The peer asked for option 13 with operation 6 and we acked it. */
  cbcp: boolean;
}

export interface LcpState {
  tag: LcpTag;
  restartCount: number;
  /** When the restart timer fires; undefined while it is stopped. */
  restartAt?: number;
  /** Identifier of our Configure-Request in flight (and of retransmissions of it). */
  reqId: number;
  /** Next Identifier for a new request of ours. */
  nextId: number;
  /** Our options: we ask the peer to authenticate with PAP, and a magic number. */
  ours: { magic?: number };
  /** Consecutive Naks we sent; at maxFailure Naks become Rejects. */
  failures: number;
  peer: PeerOptions;
  /** Set when this side closed the link, for the final report. */
  closeReason?: string;
}

export type LcpAction =
  | { a: 'send'; code: number; id: number; data: Buffer }
  | { a: 'up' }
  | { a: 'down' }
  | { a: 'finished' }
  | { a: 'protocol-rejected'; protocol: number };

export type LcpEvent =
  | { e: 'packet'; packet: Packet }
  | { e: 'timeout' }
  | { e: 'close'; reason: string }
  /** A frame of a protocol we do not speak arrived (answered with Protocol-Reject when open). */
  | { e: 'unknown-protocol'; protocol: number; info: Buffer };

export interface LcpContext {
  now: number;
  timing: LcpTiming;
  /** Acknowledge the peer's option 13 (CBCP); otherwise it is rejected. */
  acceptCallback: boolean;
  /** A fresh non-zero 32-bit magic number (injected so that the automaton stays pure). */
  random(): number;
}

export interface LcpStep {
  state: LcpState;
  actions: LcpAction[];
}

const DEFAULT_PEER: PeerOptions = { mru: 1500, accm: DEFAULT_ACCM, pfc: false, acfc: false, cbcp: false };

export function initialLcp(magic: number): LcpState {
  return {
    tag: 'stopped',
    restartCount: 0,
    reqId: 0,
    nextId: 1,
    ours: { magic },
    failures: 0,
    peer: DEFAULT_PEER,
  };
}

export function ourOptions(s: LcpState): Buffer {
  const opts: Option[] = [{ type: OPT.AUTH, value: Buffer.from([0xc0, 0x23]) }];
  if (s.ours.magic !== undefined) opts.push({ type: OPT.MAGIC, value: u32(s.ours.magic) });
  return buildOptions(opts);
}

/** Builds state and actions step by step; each helper is one action of RFC 1661 §4.4. */
class Step {
  actions: LcpAction[] = [];
  constructor(
    public s: LcpState,
    private readonly ctx: LcpContext,
  ) {}
  to(tag: LcpTag): this {
    this.s = { ...this.s, tag };
    if (
      tag !== 'closing' &&
      tag !== 'stopping' &&
      tag !== 'req-sent' &&
      tag !== 'ack-rcvd' &&
      tag !== 'ack-sent'
    ) {
      this.s = { ...this.s, restartAt: undefined };
    }
    return this;
  }
  irc(terminate = false): this {
    const t = this.ctx.timing;
    this.s = { ...this.s, restartCount: terminate ? t.maxTerminate : t.maxConfigure };
    return this;
  }
  zrc(): this {
    this.s = { ...this.s, restartCount: 0, restartAt: this.ctx.now + this.ctx.timing.restartMs };
    return this;
  }
  private armed(): void {
    this.s = {
      ...this.s,
      restartCount: this.s.restartCount - 1,
      restartAt: this.ctx.now + this.ctx.timing.restartMs,
    };
  }
  /** scr: a retransmission keeps its Identifier; `fresh` takes the next one (fsm.c does the same). */
  scr(fresh: boolean): this {
    let { reqId, nextId } = this.s;
    if (fresh) {
      reqId = nextId;
      nextId = (nextId + 1) & 0xff;
    }
    this.s = { ...this.s, reqId, nextId };
    this.armed();
    this.actions.push({ a: 'send', code: LCP.CONF_REQ, id: reqId, data: ourOptions(this.s) });
    return this;
  }
  str(): this {
    const id = this.s.nextId;
    this.s = { ...this.s, nextId: (id + 1) & 0xff };
    this.armed();
    this.actions.push({ a: 'send', code: LCP.TERM_REQ, id, data: Buffer.from('callbackd closing') });
    return this;
  }
  sta(id: number): this {
    this.actions.push({ a: 'send', code: LCP.TERM_ACK, id, data: Buffer.alloc(0) });
    return this;
  }
  send(code: number, id: number, data: Buffer): this {
    this.actions.push({ a: 'send', code, id, data });
    return this;
  }
  tlu(): this {
    this.actions.push({ a: 'up' });
    return this;
  }
  tld(): this {
    this.actions.push({ a: 'down' });
    return this;
  }
  tlf(): this {
    this.actions.push({ a: 'finished' });
    return this;
  }
  done(): LcpStep {
    return { state: this.s, actions: this.actions };
  }
}

export function lcpStep(state: LcpState, ev: LcpEvent, ctx: LcpContext): LcpStep {
  const st = new Step(state, ctx);
  switch (ev.e) {
    case 'timeout':
      return timeout(st, ctx).done();
    case 'close':
      return close(st, ev.reason).done();
    case 'unknown-protocol':
      // Only an open link rejects protocols; before that they are silently discarded.
      if (state.tag === 'opened') {
        const id = state.nextId;
        st.s = { ...st.s, nextId: (id + 1) & 0xff };
        const room = Math.max(0, state.peer.mru - 6);
        const data = Buffer.concat([
          Buffer.from([ev.protocol >>> 8, ev.protocol & 0xff]),
          ev.info.subarray(0, room),
        ]);
        st.send(LCP.PROTO_REJ, id, data);
      }
      return st.done();
    case 'packet':
      return packet(st, ev.packet, ctx).done();
  }
}

function timeout(st: Step, ctx: LcpContext): Step {
  const s = st.s;
  if (s.restartAt === undefined || ctx.now < s.restartAt) return st;
  if (s.restartCount > 0) {
    // TO+
    switch (s.tag) {
      case 'closing':
      case 'stopping':
        return st.str();
      case 'req-sent':
      case 'ack-rcvd':
        return st.scr(false).to('req-sent');
      case 'ack-sent':
        return st.scr(false);
      default:
        return st.to(s.tag);
    }
  }
  // TO-
  if (s.tag === 'req-sent' || s.tag === 'ack-rcvd' || s.tag === 'ack-sent') {
    st.s = { ...st.s, closeReason: st.s.closeReason ?? 'LCP negotiation timed out' };
  }
  return finished(st);
}

/** tlf and the resting state of TO- and RXJ-: Closed after our own close, else Stopped. */
function finished(st: Step): Step {
  switch (st.s.tag) {
    case 'closing':
      return st.tlf().to('closed');
    case 'stopping':
    case 'req-sent':
    case 'ack-rcvd':
    case 'ack-sent':
      return st.tlf().to('stopped');
    default:
      // No timer belongs to the other states: never leave a stale one behind.
      return st.to(st.s.tag);
  }
}

function close(st: Step, reason: string): Step {
  const s = st.s;
  const withReason = () => (st.s = { ...st.s, closeReason: st.s.closeReason ?? reason });
  switch (s.tag) {
    case 'stopped':
      withReason();
      return st.tlf().to('closed');
    case 'stopping':
      withReason();
      return st.to('closing');
    case 'req-sent':
    case 'ack-rcvd':
    case 'ack-sent':
      withReason();
      return st.irc(true).str().to('closing');
    case 'opened':
      withReason();
      return st.tld().irc(true).str().to('closing');
    default:
      return st;
  }
}

function packet(st: Step, p: Packet, ctx: LcpContext): Step {
  const s = st.s;
  switch (p.code) {
    case LCP.CONF_REQ:
      return confReq(st, p, ctx);
    case LCP.CONF_ACK:
      if (p.id !== s.reqId || !p.data.equals(ourOptions(s))) return st; // not ours: discard
      switch (s.tag) {
        case 'closed':
        case 'stopped':
          return st.sta(p.id);
        case 'req-sent':
          return st.irc().to('ack-rcvd');
        case 'ack-rcvd':
          return st.scr(true).to('req-sent');
        case 'ack-sent':
          return st.irc().tlu().to('opened');
        case 'opened':
          return st.tld().scr(true).to('req-sent');
        default:
          return st;
      }
    case LCP.CONF_NAK:
    case LCP.CONF_REJ:
      return nakOrReject(st, p, ctx);
    case LCP.TERM_REQ:
      switch (s.tag) {
        case 'req-sent':
        case 'ack-rcvd':
        case 'ack-sent':
          return st.sta(p.id).to('req-sent');
        case 'opened':
          return st.tld().zrc().sta(p.id).to('stopping');
        default:
          return st.sta(p.id);
      }
    case LCP.TERM_ACK:
      switch (s.tag) {
        case 'closing':
          return st.tlf().to('closed');
        case 'stopping':
          return st.tlf().to('stopped');
        case 'ack-rcvd':
          return st.to('req-sent');
        case 'opened':
          return st.tld().scr(true).to('req-sent');
        default:
          return st;
      }
    case LCP.CODE_REJ: {
      const rejected = p.data[0];
      // A peer that cannot do Configure or Terminate cannot do LCP at all (RXJ-).
      if (rejected !== undefined && rejected >= 1 && rejected <= 7)
        return rxjMinus(st, 'peer rejected an LCP code');
      return s.tag === 'ack-rcvd' ? st.to('req-sent') : st;
    }
    case LCP.PROTO_REJ: {
      if (p.data.length < 2) return st;
      const protocol = p.data.readUInt16BE(0);
      if (protocol === 0xc021) return rxjMinus(st, 'peer rejected LCP');
      st.actions.push({ a: 'protocol-rejected', protocol });
      return s.tag === 'ack-rcvd' ? st.to('req-sent') : st;
    }
    case LCP.ECHO_REQ:
      if (s.tag !== 'opened') return st;
      return st.send(LCP.ECHO_REP, p.id, Buffer.concat([u32(s.ours.magic ?? 0), p.data.subarray(4)]));
    case LCP.ECHO_REP:
    case LCP.DISCARD_REQ:
      return st;
    default: {
      // RUC: send Code-Reject with the packet, cut to what the peer can receive.
      const id = s.nextId;
      st.s = { ...st.s, nextId: (id + 1) & 0xff };
      const whole = Buffer.concat([Buffer.from([p.code, p.id, 0, 0]), p.data]);
      whole.writeUInt16BE(4 + p.data.length, 2);
      return st.send(LCP.CODE_REJ, id, whole.subarray(0, Math.max(0, s.peer.mru - 4)));
    }
  }
}

function rxjMinus(st: Step, reason: string): Step {
  st.s = { ...st.s, closeReason: st.s.closeReason ?? reason };
  if (st.s.tag === 'opened') return st.tld().irc(true).str().to('stopping');
  return finished(st);
}

interface Verdict {
  ack: Option[];
  nak: Option[];
  rej: Option[];
  peer: PeerOptions;
}

/** Judges the peer's Configure-Request option by option (RFC 1661 §6, RFC 1570 §2.3). */
function judge(options: Option[], s: LcpState, ctx: LcpContext): Verdict {
  const v: Verdict = { ack: [], nak: [], rej: [], peer: { ...DEFAULT_PEER } };
  for (const o of options) {
    const len = o.value.length;
    switch (o.type) {
      case OPT.MRU: {
        if (len !== 2) v.rej.push(o);
        else if (o.value.readUInt16BE(0) < 64)
          v.nak.push({ type: OPT.MRU, value: Buffer.from([0x05, 0xdc]) });
        else v.peer.mru = o.value.readUInt16BE(0);
        break;
      }
      case OPT.ACCM:
        if (len !== 4) v.rej.push(o);
        else v.peer.accm = o.value.readUInt32BE(0);
        break;
      case OPT.MAGIC: {
        if (len !== 4) {
          v.rej.push(o);
          break;
        }
        const m = o.value.readUInt32BE(0);
        // Zero is not allowed; our own number back means a looped-back line (RFC 1661 §6.4).
        if (m === 0 || m === s.ours.magic) v.nak.push({ type: OPT.MAGIC, value: u32(ctx.random()) });
        else v.peer.magic = m;
        break;
      }
      case OPT.PFC:
      case OPT.ACFC:
        if (len !== 0) v.rej.push(o);
        else if (o.type === OPT.PFC) v.peer.pfc = true;
        else v.peer.acfc = true;
        break;
      case OPT.CALLBACK:
        // Only operation 6 (CBCP) is served, and only where the config allows call-back.
        if (len >= 1 && o.value[0] === CALLBACK_OP_CBCP && ctx.acceptCallback) v.peer.cbcp = true;
        else v.rej.push(o);
        break;
      default:
        // Authentication towards the peer, quality protocols, compression, anything else.
        v.rej.push(o);
    }
    if (!v.rej.includes(o) && !v.nak.some((n) => n.type === o.type)) v.ack.push(o);
  }
  return v;
}

function confReq(st: Step, p: Packet, ctx: LcpContext): Step {
  const s = st.s;
  if (s.tag === 'closing' || s.tag === 'stopping') return st;
  if (s.tag === 'closed') return st.sta(p.id);
  const options = parseOptions(p.data);
  if (!options) return st; // a malformed request is discarded; the peer will resend
  const v = judge(options, s, ctx);
  let reply: { code: number; data: Buffer };
  let good = false;
  if (v.rej.length > 0) reply = { code: LCP.CONF_REJ, data: buildOptions(v.rej) };
  else if (v.nak.length > 0 && s.failures >= ctx.timing.maxFailure) {
    // Naks that the peer keeps ignoring turn into Rejects (RFC 1661 §4.6 Max-Failure).
    reply = {
      code: LCP.CONF_REJ,
      data: buildOptions(options.filter((o) => v.nak.some((n) => n.type === o.type))),
    };
  } else if (v.nak.length > 0) reply = { code: LCP.CONF_NAK, data: buildOptions(v.nak) };
  else {
    reply = { code: LCP.CONF_ACK, data: p.data };
    good = true;
  }
  st.s = { ...st.s, failures: good ? 0 : reply.code === LCP.CONF_NAK ? s.failures + 1 : s.failures };
  if (good) st.s = { ...st.s, peer: v.peer };
  const answer = () => st.send(reply.code, p.id, reply.data);
  switch (s.tag) {
    case 'stopped':
      st.irc().scr(true);
      answer();
      return st.to(good ? 'ack-sent' : 'req-sent');
    case 'req-sent':
      answer();
      return st.to(good ? 'ack-sent' : 'req-sent');
    case 'ack-rcvd':
      answer();
      return good ? st.tlu().to('opened') : st;
    case 'ack-sent':
      answer();
      return st.to(good ? 'ack-sent' : 'req-sent');
    case 'opened':
      st.tld().scr(true);
      answer();
      return st.to(good ? 'ack-sent' : 'req-sent');
    default:
      return st;
  }
}

function nakOrReject(st: Step, p: Packet, ctx: LcpContext): Step {
  const s = st.s;
  if (p.id !== s.reqId) return st;
  const options = parseOptions(p.data);
  if (!options) return st;
  let ours = { ...s.ours };
  for (const o of options) {
    if (o.type === OPT.AUTH) {
      // We authenticate with PAP or not at all.
      return close(
        st,
        p.code === LCP.CONF_NAK
          ? 'peer wants another authentication protocol'
          : 'peer refuses to authenticate',
      );
    }
    if (o.type === OPT.MAGIC) {
      if (p.code === LCP.CONF_REJ) {
        const { magic: _dropped, ...rest } = ours;
        ours = rest;
      } else ours = { ...ours, magic: freshMagic(o, ctx) };
    }
    // A Reject must list only options we sent; anything else in a Nak is a hint we ignore.
    else if (p.code === LCP.CONF_REJ) return st;
  }
  st.s = { ...st.s, ours };
  switch (s.tag) {
    case 'closed':
    case 'stopped':
      return st.sta(p.id);
    case 'req-sent':
      return st.irc().scr(true).to('req-sent');
    case 'ack-rcvd':
      return st.scr(true).to('req-sent');
    case 'ack-sent':
      return st.irc().scr(true).to('ack-sent');
    case 'opened':
      return st.tld().scr(true).to('req-sent');
    default:
      return st;
  }
}

/** A Nak of our magic number: take a new random one, never zero nor the one suggested. */
function freshMagic(o: Option, ctx: LcpContext): number {
  const suggested = o.value.length === 4 ? o.value.readUInt32BE(0) : 0;
  for (let i = 0; i < 4; i++) {
    const m = ctx.random() >>> 0;
    if (m !== 0 && m !== suggested) return m;
  }
  return (suggested ^ 0x5a5a5a5a) >>> 0 || 1;
}
