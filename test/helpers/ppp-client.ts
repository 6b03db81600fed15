import { Deframer, encodeFrame } from '../../src/ppp/engine/index.js';
import type { Terminal } from '../../src/sim/terminal.js';
import { CBCP, hex, LCP, packet, PAP, PPPD_CONFREQ_CALLBACK, PPPD_CONFREQ_PLAIN } from './ppp-peer.js';

/**
 * A caller's PPP client for tests of the whole first leg, shaped after pppd 2.4.9 with
 * `callback`: it sends pppd's first Configure-Request, acks the server's, authenticates
 * with PAP, answers the Callback-Request as pppd does (its own number if type 2 is offered
 * and it has one, else type 3, else type 1), ends LCP after the Callback-Ack, and "exits"
 * like pppd: 14 when its Terminate-Request is acked after the Callback-Ack, 19 when PAP
 * was refused, 16 otherwise. `said` is what it saw and sent, in pppd's words.
 */
export interface PppClientOptions {
  user: string;
  secret: string;
  /** pppd's `callback` argument; undefined: no `callback` (no LCP option 13, no CBCP). */
  callback?: string;
  /** CBCP delay asked for, in seconds (pppd: 5). */
  delay?: number;
  /** After the Callback-Ack, hang up without LCP's Terminate-Request (a caller in a hurry). */
  noTerminate?: boolean;
}

export class PppClient {
  readonly said: string[] = [];
  exitCode: number | undefined;
  private readonly rx = new Deframer(4000, 0);
  private acked = false;
  private ackedUs = false;
  private authSent = false;
  private papFailed = false;
  private cbcpAcked = false;
  private termSent = false;

  constructor(
    readonly opts: PppClientOptions,
    private readonly write: (b: Buffer) => void,
  ) {}

  /** The first Configure-Request: what the server's login prompt sees first. */
  firstFrame(): Buffer {
    const req = this.opts.callback === undefined ? PPPD_CONFREQ_PLAIN : PPPD_CONFREQ_CALLBACK;
    this.said.push('sent [LCP ConfReq id=0x1]');
    return encodeFrame(LCP, req);
  }

  get done(): boolean {
    return this.exitCode !== undefined;
  }

  receive(bytes: Buffer): void {
    for (const f of this.rx.push(bytes)) this.frame(f.protocol, f.info);
  }

  private send(protocol: number, code: number, id: number, data: Buffer = Buffer.alloc(0)): void {
    this.write(encodeFrame(protocol, packet(code, id, data)));
  }

  private frame(protocol: number, info: Buffer): void {
    if (this.done) return;
    const code = info[0] ?? 0;
    const id = info[1] ?? 0;
    const data = info.subarray(4);
    if (protocol === LCP) return this.lcp(code, id, data);
    if (protocol === PAP) {
      if (code === 2) this.said.push('rcvd [PAP AuthAck]');
      if (code === 3) {
        this.papFailed = true;
        this.said.push(`rcvd [PAP AuthNak] "${data.subarray(1, 1 + (data[0] ?? 0)).toString('latin1')}"`);
      }
      return;
    }
    if (protocol === CBCP) return this.cbcp(code, id, data);
  }

  private lcp(code: number, id: number, data: Buffer): void {
    switch (code) {
      case 1: // the server's Configure-Request: ack it as it is
        this.said.push(`rcvd [LCP ConfReq id=0x${id.toString(16)}] ${data.toString('hex')}`);
        this.send(LCP, 2, id, data);
        this.acked = true;
        break;
      case 2:
        this.ackedUs = true;
        break;
      case 5: // Terminate-Request
        this.said.push(`rcvd [LCP TermReq] "${data.toString('latin1')}"`);
        this.send(LCP, 6, id);
        this.exitCode = this.papFailed ? 19 : 16;
        return;
      case 6: // Terminate-Ack
        this.said.push('rcvd [LCP TermAck]');
        this.exitCode = this.termSent && this.cbcpAcked ? 14 : 16;
        return;
      case 9: // Echo-Request
        this.send(LCP, 10, id, hex('0a0b0c0d'));
        return;
    }
    if (this.acked && this.ackedUs && !this.authSent) {
      this.authSent = true;
      const n = Buffer.from(this.opts.user);
      const s = Buffer.from(this.opts.secret);
      this.said.push(`sent [PAP AuthReq user="${this.opts.user}" password=<hidden>]`);
      this.send(PAP, 1, 1, Buffer.concat([Buffer.from([n.length]), n, Buffer.from([s.length]), s]));
    }
  }

  private cbcp(code: number, id: number, data: Buffer): void {
    if (code === 1) {
      const offered = new Set<number>();
      for (let i = 0; i + 1 < data.length; i += Math.max(2, data[i + 1] ?? 2)) offered.add(data[i] ?? 0);
      this.said.push(`rcvd [CBCP Request id=0x${id.toString(16)}] types ${[...offered].join(',')}`);
      const delay = this.opts.delay ?? 5;
      const number = this.opts.callback ?? '';
      let option: Buffer;
      if (offered.has(2) && (number !== '' || !offered.has(3))) {
        const addr = Buffer.concat([Buffer.from(number, 'latin1'), Buffer.from([0])]);
        option = Buffer.concat([Buffer.from([2, 4 + addr.length, delay, 1]), addr]);
      } else if (offered.has(3)) option = Buffer.from([3, 3, delay]);
      else option = Buffer.from([1, 2]);
      this.said.push(`sent [CBCP Response id=0x${id.toString(16)}] ${option.toString('hex')}`);
      this.send(CBCP, 2, id, option);
    } else if (code === 3) {
      this.said.push(`rcvd [CBCP Ack id=0x${id.toString(16)}] ${data.toString('hex')}`);
      this.cbcpAcked = true;
      if (this.opts.noTerminate) return;
      this.termSent = true;
      this.said.push('sent [LCP TermReq] "Call me back, please"');
      this.send(LCP, 5, 2, Buffer.from('Call me back, please'));
    }
  }
}

/**
 * The caller's client talks PPP over the first leg (a simulator port after CONNECT) until
 * it "exits" (or `until` holds). Every wait is on a frame.
 */
export async function firstLeg(
  port: Terminal,
  opts: PppClientOptions,
  until: (c: PppClient) => boolean = (c) => c.done,
): Promise<PppClient> {
  const client = new PppClient(opts, (b) => void port.write(b));
  await port.write(client.firstFrame());
  while (!until(client)) {
    // One frame at a time, flags included; text before it (the prompt) goes to the deframer as noise.
    const got = await port.expect(/\x7e[^\x7e]+\x7e/, 20_000);
    client.receive(Buffer.from(got, 'latin1'));
  }
  return client;
}
