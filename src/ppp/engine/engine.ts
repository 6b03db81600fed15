import { createHash } from 'node:crypto';
import { cbcpRequestOptions, CBCP, parseCbcpResponse, type CallbackType } from './cbcp.js';
import {
  initialLcp,
  LCP,
  LCP_TIMING,
  lcpStep,
  type LcpAction,
  type LcpEvent,
  type LcpState,
  type LcpTiming,
} from './lcp.js';
import { buildPacket, parsePacket, PROTO_CBCP, PROTO_LCP, PROTO_PAP } from './packet.js';
import { PAP, papReply, parsePapRequest } from './pap.js';

/**
 * The first-leg PPP engine as one pure transition function: LCP, then PAP (the decision is
 * the caller's), then CBCP for users with a call-back, then the end of the link. Frames in,
 * frames and events out; time comes in with every input and every timer is a deadline kept
 * in the state, so the caller needs one timer: wakeAt(state).
 */
export type EnginePhase =
  /** LCP negotiating. */
  | 'establish'
  /** LCP open; waiting for the peer's Authenticate-Request. */
  | 'authenticate'
  /** pap-request reported; waiting for the caller's decision. */
  | 'deciding'
  /** Callback-Request sent; waiting for the Response. */
  | 'callback'
  /** Callback-Ack sent; waiting for the peer's LCP Terminate-Request. */
  | 'agreed'
  /** We sent LCP Terminate-Request; waiting for the Ack or the restart timer. */
  | 'closing'
  /** A final event was reported; the engine takes no more input. */
  | 'done';

export type EngineEvent =
  | { type: 'pap-request'; name: string; secret: string }
  | { type: 'callback-agreed'; kind: 'user' | 'admin'; number: string; delay: number }
  /** The line belongs to pppd from here: a user without call-back, or a caller that declined it. */
  | { type: 'handoff'; user: string; reason: 'no-callback' | 'declined' | 'not-negotiated' }
  /** LCP ended in order after a call-back was agreed: hang up, wait, dial. */
  | { type: 'terminated' }
  | { type: 'failed'; reason: string };

/** The caller's answer to a pap-request. */
export type PapDecision =
  | { ok: false }
  | {
      ok: true;
      /** Absent: the user has no call-back and the line goes to pppd. */
      callback?: {
        /** Types offered in the Callback-Request. */
        types: CallbackType[];
        /** The entry's fixed number (type 3, "administrator-defined"). */
        adminNumber?: string;
        /** A peer that did not ask for option 13 (CBCP): refuse it, or hand the line to pppd. */
        withoutCbcp: 'refuse' | 'pppd';
      };
    };

export interface EngineConfig {
  lcp: LcpTiming;
  /** Ack the peer's LCP option 13 (operation 6). Off: it is rejected and no CBCP runs. */
  acceptCallback: boolean;
  /** Callback-Request retransmission interval and count ([MS-CBCP] §3.2.2: 2 s). */
  cbcpRetryMs: number;
  cbcpTries: number;
  /** How long the peer has for its Authenticate-Request once LCP is open (pppd: 30 s). */
  papWaitMs: number;
  /** How long the caller has to decide on a pap-request. */
  decideMs: number;
  /** After the Callback-Ack: how long the peer has to send its LCP Terminate-Request. */
  agreedWaitMs: number;
  /** The whole first leg, from the first frame to the end. */
  totalMs: number;
  /** Frames accepted over the whole exchange, and bad ones (FCS, malformed), before giving up. */
  maxFrames: number;
  maxBadFrames: number;
}

export const ENGINE_DEFAULTS: EngineConfig = {
  lcp: LCP_TIMING,
  acceptCallback: true,
  cbcpRetryMs: 2000,
  cbcpTries: 10,
  papWaitMs: 30_000,
  decideMs: 15_000,
  agreedWaitMs: 10_000,
  totalMs: 120_000,
  maxFrames: 1000,
  maxBadFrames: 200,
};

export type NumberCheck = { ok: true; dial: string } | { ok: false; reason: string };

export interface EngineContext {
  now: number;
  config: EngineConfig;
  /** A fresh 32-bit random number (magic numbers). */
  random(): number;
  /** The entry's number rules for a number the caller gave (type 2). */
  checkNumber(number: string): NumberCheck;
}

export interface EngineState {
  phase: EnginePhase;
  startedAt: number;
  lcp: LcpState;
  /** Deadline of the current phase. */
  deadline: number;
  frames: number;
  /** Set once PAP succeeded in this LCP session: the only way into 'callback'. */
  authenticated?: { user: string; name: string; digest: string; papId: number };
  /** Identifier of the Authenticate-Request being decided. */
  papId?: number;
  /** The request being decided; the password only as a digest, so no state dump shows it. */
  papRequest?: { name: string; digest: string };
  decision?: Extract<PapDecision, { ok: true }>;
  cbcp?: { id: number; tries: number; nextAt: number; types: CallbackType[] };
  agreed?: { kind: 'user' | 'admin'; number: string; delay: number; ackId: number; ack: Buffer };
}

export type EngineInput =
  | { type: 'frame'; protocol: number; info: Buffer }
  | { type: 'bad-frames'; total: number }
  | { type: 'tick' }
  | { type: 'pap-result'; decision: PapDecision }
  | { type: 'close'; reason: string };

export type EngineEffect =
  | { do: 'send'; protocol: number; data: Buffer }
  | { do: 'event'; event: EngineEvent }
  | { do: 'log'; event: string; fields?: Record<string, unknown> };

export interface EngineStep {
  state: EngineState;
  effects: EngineEffect[];
}

export function initialEngine(ctx: EngineContext): EngineState {
  return {
    phase: 'establish',
    startedAt: ctx.now,
    lcp: initialLcp(ctx.random() >>> 0 || 1),
    deadline: ctx.now + ctx.config.totalMs,
    frames: 0,
  };
}

/** The moment the engine gives up whatever happens: the whole leg plus time to close it. */
export function hardStop(s: EngineState, config: EngineConfig): number {
  return s.startedAt + config.totalMs + config.lcp.restartMs * (config.lcp.maxTerminate + 1);
}

/** The earliest moment a 'tick' has something to do; undefined once done. */
export function wakeAt(s: EngineState, config: EngineConfig): number | undefined {
  if (s.phase === 'done') return undefined;
  const times = [s.deadline, hardStop(s, config)];
  if (s.lcp.restartAt !== undefined) times.push(s.lcp.restartAt);
  if (s.phase === 'callback' && s.cbcp) times.push(s.cbcp.nextAt);
  return Math.min(...times);
}

class Out {
  effects: EngineEffect[] = [];
  constructor(public s: EngineState) {}
  send(protocol: number, code: number, id: number, data?: Buffer): void {
    this.effects.push({ do: 'send', protocol, data: buildPacket(code, id, data) });
  }
  event(event: EngineEvent): void {
    this.effects.push({ do: 'event', event });
  }
  log(event: string, fields?: Record<string, unknown>): void {
    this.effects.push({ do: 'log', event, ...(fields ? { fields } : {}) });
  }
  /** The one final event; the engine is done after it. */
  finish(event: EngineEvent): void {
    if (this.s.phase === 'done') return;
    this.s = { ...this.s, phase: 'done' };
    this.event(event);
  }
  result(): EngineStep {
    return { state: this.s, effects: this.effects };
  }
}

export function engineStep(state: EngineState, input: EngineInput, ctx: EngineContext): EngineStep {
  const o = new Out(state);
  if (state.phase === 'done') return o.result();
  switch (input.type) {
    case 'frame':
      o.s = { ...o.s, frames: o.s.frames + 1 };
      if (o.s.frames > ctx.config.maxFrames) {
        o.finish({ type: 'failed', reason: `more than ${ctx.config.maxFrames} frames` });
        break;
      }
      frame(o, input.protocol, input.info, ctx);
      break;
    case 'bad-frames':
      if (input.total > ctx.config.maxBadFrames) {
        o.finish({ type: 'failed', reason: `more than ${ctx.config.maxBadFrames} bad frames` });
      }
      break;
    case 'tick':
      tick(o, ctx);
      break;
    case 'pap-result':
      papResult(o, input.decision, ctx);
      break;
    case 'close':
      closeLink(o, input.reason, ctx);
      break;
  }
  return o.result();
}

function lcpCtx(ctx: EngineContext) {
  return {
    now: ctx.now,
    timing: ctx.config.lcp,
    acceptCallback: ctx.config.acceptCallback,
    random: ctx.random,
  };
}

/** Runs one LCP event and reacts to what the automaton did. */
function runLcp(o: Out, ev: LcpEvent, ctx: EngineContext): void {
  const before = o.s.lcp.tag;
  const step = lcpStep(o.s.lcp, ev, lcpCtx(ctx));
  o.s = { ...o.s, lcp: step.state };
  for (const a of step.actions) lcpAction(o, a, before, ctx);
}

function lcpAction(o: Out, a: LcpAction, before: string, ctx: EngineContext): void {
  switch (a.a) {
    case 'send':
      o.send(PROTO_LCP, a.code, a.id, a.data);
      return;
    case 'up':
      o.s = { ...o.s, phase: 'authenticate', deadline: ctx.now + ctx.config.papWaitMs };
      o.log('lcp-up', { peerCallback: o.s.lcp.peer.cbcp });
      return;
    case 'down': {
      // A peer that ends the link after the Callback-Ack is doing what it should.
      if (o.s.phase === 'agreed') {
        o.finish({ type: 'terminated' });
        return;
      }
      if (o.s.phase === 'closing') return;
      if (o.s.lcp.tag === 'stopping') {
        o.finish({ type: 'failed', reason: failReason(o.s, 'peer ended the link') });
        return;
      }
      // The peer renegotiates LCP: everything learnt on the old link is void.
      const { authenticated: _a, papId: _p, papRequest: _r, decision: _d, cbcp: _c, ...rest } = o.s;
      o.s = { ...rest, phase: 'establish', deadline: o.s.startedAt + ctx.config.totalMs };
      o.log('lcp-restarted', { before });
      return;
    }
    case 'finished':
      if (o.s.agreed) o.finish({ type: 'terminated' });
      else o.finish({ type: 'failed', reason: failReason(o.s, 'link ended') });
      return;
    case 'protocol-rejected':
      if (a.protocol === PROTO_CBCP && (o.s.phase === 'callback' || o.s.phase === 'agreed')) {
        closeLink(o, 'peer rejected CBCP', ctx);
      }
      return;
  }
}

function failReason(s: EngineState, fallback: string): string {
  return s.lcp.closeReason ?? fallback;
}

function closeLink(o: Out, reason: string, ctx: EngineContext): void {
  if (o.s.phase === 'closing' || o.s.phase === 'done') return;
  o.log('closing', { reason });
  o.s = {
    ...o.s,
    phase: 'closing',
    deadline: ctx.now + ctx.config.lcp.restartMs * (ctx.config.lcp.maxTerminate + 1),
  };
  runLcp(o, { e: 'close', reason }, ctx);
}

function tick(o: Out, ctx: EngineContext): void {
  const s = o.s;
  if (ctx.now >= hardStop(s, ctx.config)) {
    o.finish({ type: 'failed', reason: failReason(s, 'first leg took too long') });
    return;
  }
  if (s.lcp.restartAt !== undefined && ctx.now >= s.lcp.restartAt) runLcp(o, { e: 'timeout' }, ctx);
  if (o.s.phase === 'callback' && o.s.cbcp && ctx.now >= o.s.cbcp.nextAt) resendCbcpRequest(o, ctx);
  if (o.s.phase !== 'done' && ctx.now >= o.s.deadline) {
    if (o.s.phase === 'closing')
      o.finish(
        o.s.agreed
          ? { type: 'terminated' }
          : { type: 'failed', reason: failReason(o.s, 'closing timed out') },
      );
    else closeLink(o, `${o.s.phase} timed out`, ctx);
  }
}

function frame(o: Out, protocol: number, info: Buffer, ctx: EngineContext): void {
  const opened = o.s.lcp.tag === 'opened';
  if (protocol === PROTO_LCP) {
    const p = parsePacket(info);
    if (p) runLcp(o, { e: 'packet', packet: p }, ctx);
    return;
  }
  // Before LCP is open every other protocol is silently discarded (RFC 1661 §3.4).
  if (!opened) return;
  if (protocol === PROTO_PAP) return pap(o, info, ctx);
  if (protocol === PROTO_CBCP) return cbcp(o, info, ctx);
  // Network control protocols (IPCP, IPV6CP, CCP...) wait for pppd; in the call-back phase
  // they are discarded. Anything else is rejected as RFC 1661 says.
  if (protocol >= 0x8000 && protocol <= 0xbfff) return;
  runLcp(o, { e: 'unknown-protocol', protocol, info }, ctx);
}

function pap(o: Out, info: Buffer, ctx: EngineContext): void {
  const p = parsePacket(info);
  if (!p || p.code !== PAP.REQ) return;
  const req = parsePapRequest(p.data);
  if (!req) return;
  const s = o.s;
  if (s.phase === 'authenticate') {
    const papRequest = { name: req.name, digest: digest(req.secret) };
    o.s = { ...s, phase: 'deciding', papId: p.id, papRequest, deadline: ctx.now + ctx.config.decideMs };
    o.event({ type: 'pap-request', name: req.name, secret: req.secret });
    return;
  }
  if (s.phase === 'deciding') {
    // pppd resends every 3 s while we decide: answer the latest Identifier.
    if (s.papRequest && same(s.papRequest, req)) o.s = { ...s, papId: p.id };
    return;
  }
  // Our Ack got lost and the peer asks again with the same credentials: Ack again.
  if (s.authenticated && same(s.authenticated, req)) o.send(PROTO_PAP, PAP.ACK, p.id, papReply(''));
}

const digest = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');
/** The same name and password as an earlier request (a retransmission). */
const same = (a: { name: string; digest: string }, b: { name: string; secret: string }) =>
  a.name === b.name && a.digest === digest(b.secret);

function papResult(o: Out, d: PapDecision, ctx: EngineContext): void {
  const s = o.s;
  if (s.phase !== 'deciding' || s.papId === undefined || !s.papRequest) return;
  if (!d.ok) {
    o.send(PROTO_PAP, PAP.NAK, s.papId, papReply('Authentication failed'));
    closeLink(o, 'PAP authentication failed', ctx);
    return;
  }
  const name = s.papRequest.name;
  o.send(PROTO_PAP, PAP.ACK, s.papId, papReply(''));
  o.s = { ...o.s, authenticated: { user: name, ...s.papRequest, papId: s.papId }, decision: d };
  const cb = d.callback;
  if (!cb) return handoff(o, name, 'no-callback');
  if (!o.s.lcp.peer.cbcp) {
    if (cb.withoutCbcp === 'pppd') return handoff(o, name, 'not-negotiated');
    closeLink(o, 'peer did not negotiate call-back (LCP option 13)', ctx);
    return;
  }
  // Offer only what can be served: a type 3 needs the entry's number.
  const types = cb.types.filter((t) => t !== 'admin' || cb.adminNumber !== undefined);
  if (types.length === 0) {
    closeLink(o, 'the entry allows no call-back type', ctx);
    return;
  }
  sendCbcpRequest(o, types, 1, 1, ctx);
}

function handoff(o: Out, user: string, reason: 'no-callback' | 'declined' | 'not-negotiated'): void {
  o.finish({ type: 'handoff', user, reason });
}

/** The Request again with a new Identifier, or the end once the tries are used up. */
function resendCbcpRequest(o: Out, ctx: EngineContext): void {
  const c = o.s.cbcp;
  if (!c) return;
  if (c.tries >= ctx.config.cbcpTries) {
    closeLink(o, `no acceptable Callback-Response after ${c.tries} requests`, ctx);
    return;
  }
  sendCbcpRequest(o, c.types, (c.id + 1) & 0xff, c.tries + 1, ctx);
}

function sendCbcpRequest(o: Out, types: CallbackType[], id: number, tries: number, ctx: EngineContext): void {
  o.send(PROTO_CBCP, CBCP.REQ, id, cbcpRequestOptions(types));
  o.s = {
    ...o.s,
    phase: 'callback',
    cbcp: { id, tries, nextAt: ctx.now + ctx.config.cbcpRetryMs, types },
    deadline: ctx.now + ctx.config.cbcpRetryMs * (ctx.config.cbcpTries + 1),
  };
}

function cbcp(o: Out, info: Buffer, ctx: EngineContext): void {
  const p = parsePacket(info);
  const s = o.s;
  if (!p || p.code !== CBCP.RESP) return;
  // The Ack got lost and a caller that retransmits asks again: Ack again.
  if (s.phase === 'agreed' && s.agreed) {
    if (p.id === s.agreed.ackId) o.send(PROTO_CBCP, CBCP.ACK, p.id, s.agreed.ack);
    return;
  }
  if (s.phase !== 'callback' || !s.cbcp || !s.authenticated || !s.decision?.callback) return;
  if (p.id !== s.cbcp.id) return; // a Response to an older Request: dropped ([MS-CBCP] §3.2.5.2)
  const choice = parseCbcpResponse(p.data);
  if (!choice || !s.cbcp.types.includes(choice.type)) {
    // Malformed, or not what we offered: ask again at once ([MS-CBCP] §3.2.5.3).
    o.log('cbcp-response-refused', { type: choice?.type ?? 'malformed' });
    resendCbcpRequest(o, ctx);
    return;
  }
  const cb = s.decision.callback;
  if (choice.type === 'none') {
    o.send(PROTO_CBCP, CBCP.ACK, p.id, choice.raw);
    return handoff(o, s.authenticated.user, 'declined');
  }
  let kind: 'user' | 'admin' = choice.type;
  let number: string | undefined;
  if (choice.type === 'user' && choice.number === '' && cb.types.includes('admin') && cb.adminNumber) {
    // pppd's `callback ""` answers an offer of type 2 with an empty number: it means "you
    // know my number", which is the entry's own.
    kind = 'admin';
  }
  if (kind === 'admin') number = cb.adminNumber;
  else {
    const checked = ctx.checkNumber(choice.number ?? '');
    if (!checked.ok) {
      closeLink(o, `call-back number refused: ${checked.reason}`, ctx);
      return;
    }
    number = checked.dial;
  }
  if (number === undefined) {
    closeLink(o, 'no call-back number', ctx);
    return;
  }
  o.send(PROTO_CBCP, CBCP.ACK, p.id, choice.raw);
  o.s = {
    ...o.s,
    phase: 'agreed',
    agreed: { kind, number, delay: choice.delay, ackId: p.id, ack: choice.raw },
    deadline: ctx.now + ctx.config.agreedWaitMs,
  };
  o.event({ type: 'callback-agreed', kind, number, delay: choice.delay });
}

export { LCP };
