import { DEFAULT_ACCM, Deframer, encodeFrame, FLAG, type Frame } from './hdlc.js';
import {
  ENGINE_DEFAULTS,
  engineStep,
  initialEngine,
  wakeAt,
  type EngineConfig,
  type EngineContext,
  type EngineEffect,
  type EngineEvent,
  type EngineInput,
  type EngineState,
  type NumberCheck,
  type PapDecision,
} from './engine.js';
import { LCP } from './lcp.js';
import { PROTO_LCP } from './packet.js';

export interface EngineOutput {
  /** Bytes to write to the line, in order (whole frames, already escaped). */
  bytes: Buffer;
  events: EngineEvent[];
  /** What happened, for the log (never a secret). */
  logs: { event: string; fields?: Record<string, unknown> }[];
}

export interface PppEngineOptions {
  config?: Partial<EngineConfig>;
  /** The entry's number rules, applied to a number the caller gave in CBCP. */
  checkNumber(number: string): NumberCheck;
  /** 32-bit random numbers; crypto-grade is not needed (magic numbers). */
  random?: () => number;
}

/**
 * The first-leg PPP engine for one call: feed it the line's bytes and the time, write back
 * what it returns, answer its pap-request with papResult(), call tick() at wakeAt. Every
 * phase has a deadline, so it always ends with one of terminated, handoff or failed.
 */
export class PppEngine {
  private state: EngineState;
  private readonly deframer: Deframer;
  private readonly config: EngineConfig;
  private readonly random: () => number;
  private readonly checkNumber: (n: string) => NumberCheck;
  private badSeen = 0;

  constructor(opts: PppEngineOptions, now: number) {
    this.config = { ...ENGINE_DEFAULTS, ...opts.config };
    this.random = opts.random ?? (() => (Math.random() * 0x1_0000_0000) >>> 0);
    this.checkNumber = opts.checkNumber;
    // An MRU of 1500 plus address, control, protocol, FCS and a little slack.
    this.deframer = new Deframer(1600);
    this.state = initialEngine(this.ctx(now));
  }

  get phase(): EngineState['phase'] {
    return this.state.phase;
  }

  get done(): boolean {
    return this.state.phase === 'done';
  }

  /** When tick() must be called next; undefined once done. */
  get wakeAt(): number | undefined {
    return wakeAt(this.state, this.config);
  }

  /** Bytes held between calls (for the memory bound). */
  get buffered(): number {
    return this.deframer.pending;
  }

  feed(chunk: Uint8Array, now: number): EngineOutput {
    const out = emptyOutput();
    for (const f of this.deframer.push(chunk)) {
      this.apply({ type: 'frame', protocol: f.protocol, info: f.info }, now, out);
    }
    const s = this.deframer.stats;
    const bad = s.badFcs + s.tooLong + s.malformed + s.aborted;
    if (bad !== this.badSeen) {
      this.badSeen = bad;
      this.apply({ type: 'bad-frames', total: bad }, now, out);
    }
    return out;
  }

  tick(now: number): EngineOutput {
    const out = emptyOutput();
    this.apply({ type: 'tick' }, now, out);
    return out;
  }

  papResult(decision: PapDecision, now: number): EngineOutput {
    const out = emptyOutput();
    this.apply({ type: 'pap-result', decision }, now, out);
    return out;
  }

  /** Ends the link from our side (LCP Terminate-Request), e.g. when the daemon stops. */
  close(reason: string, now: number): EngineOutput {
    const out = emptyOutput();
    this.apply({ type: 'close', reason }, now, out);
    return out;
  }

  private ctx(now: number): EngineContext {
    return { now, config: this.config, random: this.random, checkNumber: this.checkNumber };
  }

  private apply(input: EngineInput, now: number, out: EngineOutput): void {
    const step = engineStep(this.state, input, this.ctx(now));
    this.state = step.state;
    for (const e of step.effects) {
      if (e.do === 'event') out.events.push(e.event);
      else if (e.do === 'log')
        out.logs.push(e.fields ? { event: e.event, fields: e.fields } : { event: e.event });
    }
    out.bytes = Buffer.concat([out.bytes, encodeSends(this.state, step.effects)]);
  }
}

/** LCP's codes 1-7 always go out with the default map (RFC 1661 §5); the rest with the peer's. */
function accmFor(state: EngineState, protocol: number, data: Buffer): number {
  const code = data[0] ?? 0;
  if (protocol === PROTO_LCP && code >= LCP.CONF_REQ && code <= LCP.CODE_REJ) return DEFAULT_ACCM;
  return state.lcp.tag === 'opened' ? state.lcp.peer.accm : DEFAULT_ACCM;
}

/** The wire bytes of a step's 'send' effects, framed and escaped for the state after the step. */
export function encodeSends(state: EngineState, effects: readonly EngineEffect[]): Buffer {
  const frames: Buffer[] = [];
  for (const e of effects) {
    if (e.do === 'send') frames.push(encodeFrame(e.protocol, e.data, accmFor(state, e.protocol, e.data)));
  }
  return Buffer.concat(frames);
}

/** A frame's raw bytes between flags, held across chunks: one escaped MRU-sized frame at most. */
const MAX_CARRY = 2 * 1600 + 2;

/** Where a pure caller's deframing stands between chunks (plain data, unlike Deframer). */
export interface DeframeState {
  /** Raw bytes after the last flag. */
  carry: Buffer;
  /** Dropping an overlong frame up to the next flag. */
  skip: boolean;
}

export const initialDeframe = (): DeframeState => ({ carry: Buffer.alloc(0), skip: false });

/**
 * Deframer as a pure function: whole frames out of `chunk`, the rest kept in the
 * returned state; `bad` counts frames dropped in this chunk (FCS, too long, malformed,
 * aborted). Memory stays under MAX_CARRY whatever arrives.
 */
export function deframe(
  s: DeframeState,
  chunk: Uint8Array,
): { state: DeframeState; frames: Frame[]; bad: number } {
  const all = Buffer.concat([s.carry, chunk]);
  const last = all.lastIndexOf(FLAG);
  if (last < 0) {
    if (s.skip) return { state: { carry: Buffer.alloc(0), skip: true }, frames: [], bad: 0 };
    if (all.length > MAX_CARRY) return { state: { carry: Buffer.alloc(0), skip: true }, frames: [], bad: 1 };
    return { state: { carry: Buffer.from(all), skip: false }, frames: [], bad: 0 };
  }
  const start = s.skip ? all.indexOf(FLAG) : 0;
  const d = new Deframer(1600);
  const frames = d.push(all.subarray(start, last + 1));
  const st = d.stats;
  const bad = st.badFcs + st.tooLong + st.malformed + st.aborted;
  return { state: { carry: Buffer.from(all.subarray(last + 1)), skip: false }, frames, bad };
}

const emptyOutput = (): EngineOutput => ({ bytes: Buffer.alloc(0), events: [], logs: [] });
