import { fcs16, fcsTrailer, GOOD_FCS } from './fcs.js';

/**
 * Async HDLC-like framing of RFC 1662: flag 0x7E, address 0xFF, control 0x03, the
 * protocol field, the information field and FCS-16; 0x7D escapes (byte XOR 0x20) the flag,
 * itself and every control byte in the peer's async control character map (ACCM).
 */
export const FLAG = 0x7e;
export const ESCAPE = 0x7d;
/** Until LCP has agreed on something else, every byte 0x00-0x1F is escaped (RFC 1662 §7.1). */
export const DEFAULT_ACCM = 0xffffffff;

export interface Frame {
  protocol: number;
  info: Buffer;
}

/**
 * One frame on the wire, flags included. Address and control are always sent and the
 * protocol always takes two bytes: a peer that agreed to ACFC/PFC must still accept that.
 */
export function encodeFrame(protocol: number, info: Uint8Array, accm = DEFAULT_ACCM): Buffer {
  const body = Buffer.concat([Buffer.from([0xff, 0x03, (protocol >>> 8) & 0xff, protocol & 0xff]), info]);
  const whole = Buffer.concat([body, fcsTrailer(body)]);
  const out: number[] = [FLAG];
  for (const b of whole) {
    if (b === FLAG || b === ESCAPE || (b < 0x20 && (accm >>> b) & 1)) out.push(ESCAPE, b ^ 0x20);
    else out.push(b);
  }
  out.push(FLAG);
  return Buffer.from(out);
}

/** Splits an unescaped frame body (FCS already checked and removed) into protocol and info. */
export function parseFrameBody(body: Uint8Array): Frame | undefined {
  let i = 0;
  // Address and control may be left out once ACFC is agreed; accept both forms.
  if (body[0] === 0xff && body[1] === 0x03) i = 2;
  const first = body[i];
  if (first === undefined) return undefined;
  // A protocol field ends with an odd byte: one byte when PFC compressed it, else two.
  if (first & 1) return { protocol: first, info: Buffer.from(body.subarray(i + 1)) };
  const second = body[i + 1];
  if (second === undefined || !(second & 1)) return undefined;
  return { protocol: (first << 8) | second, info: Buffer.from(body.subarray(i + 2)) };
}

export interface DeframerStats {
  frames: number;
  badFcs: number;
  tooLong: number;
  malformed: number;
  aborted: number;
}

/**
 * Streaming deframer: feed any chunks, get whole frames back. It holds at most `maxFrame`
 * bytes of one frame; a longer one is dropped up to its next flag, so no input can make it
 * grow. Text between frames (a login prompt, line noise) ends as a bad frame and is dropped.
 */
export class Deframer {
  private buf: Buffer;
  private len = 0;
  private escaped = false;
  private overflow = false;
  readonly stats: DeframerStats = { frames: 0, badFcs: 0, tooLong: 0, malformed: 0, aborted: 0 };

  /** `accm`: our receive map; we never ask the peer for less than all control bytes. */
  constructor(
    readonly maxFrame = 1600,
    readonly accm = DEFAULT_ACCM,
  ) {
    this.buf = Buffer.alloc(maxFrame);
  }

  push(chunk: Uint8Array): Frame[] {
    const out: Frame[] = [];
    for (const b of chunk) {
      if (b === FLAG) {
        const frame = this.endFrame();
        if (frame) out.push(frame);
        continue;
      }
      if (this.overflow) continue;
      if (b === ESCAPE) {
        this.escaped = true;
        continue;
      }
      // Unescaped control bytes in our receive map were added on the way (flow control,
      // noise): RFC 1662 §7.1 drops them.
      if (b < 0x20 && (this.accm >>> b) & 1) continue;
      const v = this.escaped ? b ^ 0x20 : b;
      this.escaped = false;
      if (this.len >= this.maxFrame) {
        this.overflow = true;
        continue;
      }
      this.buf[this.len++] = v;
    }
    return out;
  }

  /** Bytes held for the frame in progress (for the memory bound). */
  get pending(): number {
    return this.len;
  }

  private endFrame(): Frame | undefined {
    const { len, overflow, escaped } = this;
    this.len = 0;
    this.overflow = false;
    this.escaped = false;
    if (overflow) {
      this.stats.tooLong++;
      return undefined;
    }
    if (escaped) {
      // 0x7D 0x7E aborts a frame (RFC 1662 §4.4).
      this.stats.aborted++;
      return undefined;
    }
    if (len === 0) return undefined; // back-to-back flags
    const body = this.buf.subarray(0, len);
    if (len < 4 || fcs16(body) !== GOOD_FCS) {
      this.stats.badFcs++;
      return undefined;
    }
    const frame = parseFrameBody(body.subarray(0, len - 2));
    if (!frame) {
      this.stats.malformed++;
      return undefined;
    }
    this.stats.frames++;
    return frame;
  }
}
