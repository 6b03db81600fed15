import {
  Deframer,
  encodeFrame,
  PppEngine,
  type EngineEvent,
  type NumberCheck,
  type PapDecision,
  type PppEngineOptions,
} from '../../src/ppp/engine/index.js';

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
export const LCP = 0xc021;
export const PAP = 0xc023;
export const CBCP = 0xc029;

/** pppd 2.4.9's first Configure-Request with `callback X` (ACCM 0, CBCP, magic, PFC, ACFC). */
export const PPPD_CONFREQ_CALLBACK = hex('01 01 00 17 02 06 00000000 0d 03 06 05 06 0a0b0c0d 07 02 08 02');
/** The same without `callback`. */
export const PPPD_CONFREQ_PLAIN = hex('01 01 00 14 02 06 00000000 05 06 0a0b0c0d 07 02 08 02');

export interface Sent {
  protocol: number;
  code: number;
  id: number;
  data: Buffer;
}

/** Rules for tests: numbers of 6 to 10 digits not starting with 0900. */
export function testRules(n: string): NumberCheck {
  if (!/^[0-9]{6,10}$/.test(n)) return { ok: false, reason: 'digits only, 6 to 10 of them' };
  if (n.startsWith('0900')) return { ok: false, reason: 'premium numbers are refused' };
  return { ok: true, dial: n };
}

export const CALLBACK_ALL: PapDecision = {
  ok: true,
  callback: { types: ['none', 'user', 'admin'], adminNumber: '123456', withoutCbcp: 'refuse' },
};

/**
 * The far end of the engine in unit tests: writes frames as a peer would, decodes what the
 * engine sends, keeps the events, and moves a fake clock.
 */
export class TestPeer {
  now = 1_000;
  readonly engine: PppEngine;
  readonly sent: Sent[] = [];
  readonly events: EngineEvent[] = [];
  readonly logs: string[] = [];
  private readonly rx = new Deframer(4000, 0);

  constructor(opts: Partial<PppEngineOptions> = {}) {
    let seed = 0x12345678;
    this.engine = new PppEngine(
      {
        checkNumber: testRules,
        // A fixed sequence: the first magic number is 0x12345678, as in the reference capture.
        random: () => {
          const v = seed;
          seed = (seed * 1103515245 + 12345) >>> 0;
          return v;
        },
        ...opts,
      },
      this.now,
    );
  }

  private take(o: { bytes: Buffer; events: EngineEvent[]; logs: { event: string }[] }): Sent[] {
    const got = this.rx.push(o.bytes).map((f) => ({
      protocol: f.protocol,
      code: f.info[0] as number,
      id: f.info[1] as number,
      data: f.info.subarray(4),
    }));
    this.sent.push(...got);
    this.events.push(...o.events);
    this.logs.push(...o.logs.map((l) => l.event));
    return got;
  }

  send(protocol: number, info: Buffer): Sent[] {
    return this.take(this.engine.feed(encodeFrame(protocol, info), this.now));
  }

  raw(bytes: Buffer): Sent[] {
    return this.take(this.engine.feed(bytes, this.now));
  }

  pap(decision: PapDecision): Sent[] {
    return this.take(this.engine.papResult(decision, this.now));
  }

  /** Moves the clock to the engine's next deadline (or by `ms`) and ticks. */
  advance(ms?: number): Sent[] {
    const at = ms === undefined ? this.engine.wakeAt : this.now + ms;
    if (at === undefined) return [];
    this.now = Math.max(this.now, at);
    return this.take(this.engine.tick(this.now));
  }

  /** LCP up the way pppd does it: its request, then its Ack of ours. */
  openLcp(confReq = PPPD_CONFREQ_CALLBACK): void {
    const replies = this.send(LCP, confReq);
    const ours = replies.find((s) => s.protocol === LCP && s.code === 1);
    if (!ours) throw new Error('engine sent no Configure-Request');
    const ack = Buffer.concat([hex('02'), Buffer.from([ours.id]), hex('0000'), ours.data]);
    ack.writeUInt16BE(4 + ours.data.length, 2);
    this.send(LCP, ack);
  }

  /** LCP up, cbuser's right secret, and `decision` on it: the engine is in CBCP now. */
  toCbcp(decision: PapDecision = CALLBACK_ALL, confReq = PPPD_CONFREQ_CALLBACK): Sent[] {
    this.openLcp(confReq);
    this.authRequest('cbuser', 'secret1');
    return this.pap(decision);
  }

  /** pppd's Authenticate-Request for name/secret with Identifier id. */
  authRequest(name: string, secret: string, id = 1): Sent[] {
    const n = Buffer.from(name);
    const s = Buffer.from(secret);
    const data = Buffer.concat([Buffer.from([n.length]), n, Buffer.from([s.length]), s]);
    return this.send(PAP, packet(1, id, data));
  }
}

export function packet(code: number, id: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.concat([Buffer.from([code, id, 0, 0]), data]);
  b.writeUInt16BE(b.length, 2);
  return b;
}
