/**
 * Turns the caller's raw bytes into lines, the way mgetty's logname.c does, and
 * spots a PPP client that starts talking at the prompt (AutoPPP). Pure: no timers,
 * no I/O; the session feeds it what the tty delivered and writes back `echo`.
 * Memory is bounded by maxLength whatever arrives, so hours of line noise cost
 * nothing.
 */
export type ReaderEvent =
  | { kind: 'line'; text: string }
  | { kind: 'ppp' }
  | { kind: 'modem-result'; text: string }
  | { kind: 'cancel' }
  | { kind: 'overlong' };

export interface LineReaderOptions {
  maxLength: number;
  echo: boolean;
  detectPpp: boolean;
  /**
   * The first bytes finish a line begun before this reader (before its prompt): they are
   * dropped, without echo, up to that line's CR or LF; a PPP flag also ends it and is
   * read as usual, so AutoPPP still sees the next frame.
   */
  continuesLine?: boolean;
}

const ETX = 0x03; // ^C
const BS = 0x08;
const LF = 0x0a;
const CR = 0x0d;
const NAK = 0x15; // ^U
const DEL = 0x7f;
const FLAG = 0x7e; // HDLC flag: a PPP frame starts here
const ESC = 0x7d; // HDLC escape: the next byte is XOR 0x20

/** Flag, address, control, LCP protocol: how every PPP client's first frame begins. */
const LCP_START = [FLAG, 0xff, 0x03, 0xc0, 0x21] as const;

/** A "line" that is really the modem telling us the call is over. */
export const MODEM_RESULTS: ReadonlySet<string> = new Set([
  'NO CARRIER',
  'ERROR',
  'BUSY',
  'NO DIALTONE',
  'NO DIAL TONE',
  'NO ANSWER',
]);

const NEWLINE = [CR, LF];
const ERASE = [BS, 0x20, BS];

/**
 * Modes: `text` collects a line; `binary` follows a 0x7E that may start a PPP
 * frame: nothing is echoed or kept (frame bytes are binary, and a client that sees
 * its own frames looped back thinks the link is looped), until the frame turns out
 * to be LCP (event `ppp`) or a CR, LF, ^C or ^U ends the junk. With PPP's default
 * escaping those control bytes never appear raw inside a frame, so a real frame
 * cannot end binary mode early. `ppp` swallows everything until reset(): from then
 * on the line belongs to pppd.
 */
type Mode = 'text' | 'binary' | 'ppp';

export class LineReader {
  private readonly maxLength: number;
  private echoOn: boolean;
  private detectPpp: boolean;
  private line = '';
  private overlong = false;
  private mode: Mode = 'text';
  /** How many bytes of LCP_START have matched; 0 while waiting for the next flag. */
  private matched = 0;
  private escaped = false;
  /** The raw bytes of the possible frame since its flag (a few: LCP_START, escaped). */
  private head: number[] = [];
  /** From the detected frame's flag to the end of its chunk, until taken. */
  private pppStart: Buffer | undefined;
  /** The CR or LF that just ended a line, so the other half of a CRLF/LFCR pair is skipped. */
  private lastEnd: number | undefined;
  /** Still dropping the rest of a line begun before this reader (continuesLine). */
  private skipping: boolean;

  constructor(opts: LineReaderOptions) {
    if (!Number.isInteger(opts.maxLength) || opts.maxLength < 1) {
      throw new RangeError(`maxLength must be a positive whole number, got ${opts.maxLength}`);
    }
    this.maxLength = opts.maxLength;
    this.echoOn = opts.echo;
    this.detectPpp = opts.detectPpp;
    this.skipping = opts.continuesLine === true;
  }

  /** Off at a password prompt: typed characters and erasures are not sent back. */
  setEcho(on: boolean): void {
    this.echoOn = on;
  }

  /** AutoPPP is wanted at some prompts only (config: before and/or after the call-back). */
  setDetectPpp(on: boolean): void {
    this.detectPpp = on;
    if (!on && this.mode === 'binary') this.mode = 'text';
  }

  /** Forget the line in progress and any partial frame (a new prompt starts). */
  reset(): void {
    this.line = '';
    this.overlong = false;
    this.mode = 'text';
    this.matched = 0;
    this.escaped = false;
    this.lastEnd = undefined;
  }

  feed(chunk: Buffer): { echo: Buffer; events: ReaderEvent[] } {
    const echo: number[] = [];
    const events: ReaderEvent[] = [];
    for (let i = 0; i < chunk.length; i++) {
      if (this.mode === 'ppp') break;
      const raw = chunk[i] as number;
      if (this.skipping) {
        const c = raw & 0x7f;
        if (c === CR || c === LF) {
          this.skipping = false;
          this.lastEnd = c; // the other half of a CRLF is skipped too
          continue;
        }
        if (raw !== FLAG) continue;
        this.skipping = false;
      }
      if (this.detectPpp && this.framing(raw, events)) {
        if (events.at(-1)?.kind === 'ppp')
          this.pppStart = Buffer.concat([Buffer.from(this.head), chunk.subarray(i + 1)]);
        continue;
      }
      this.text(raw & 0x7f, echo, events);
    }
    return { echo: Buffer.from(echo), events };
  }

  /**
   * The bytes of the PPP client's first frame from its flag to the end of the chunk that
   * completed the detection (once; empty afterwards): whoever speaks PPP next loses nothing.
   */
  takePppBytes(): Buffer {
    const b = this.pppStart ?? Buffer.alloc(0);
    this.pppStart = undefined;
    return b;
  }

  /** The AutoPPP matcher; true when it consumed the byte. Works on raw 8-bit bytes. */
  private framing(raw: number, events: ReaderEvent[]): boolean {
    if (raw === FLAG) {
      // A flag starts (or restarts) a possible frame, also in the middle of one.
      this.mode = 'binary';
      this.matched = 1;
      this.head = [raw];
      this.escaped = false;
      this.lastEnd = undefined;
      return true;
    }
    if (this.mode !== 'binary') return false;
    if (this.matched > 0) {
      if (this.head.length < 16) this.head.push(raw);
      if (!this.escaped && raw === ESC) {
        this.escaped = true;
        return true;
      }
      const value = this.escaped ? raw ^ 0x20 : raw;
      this.escaped = false;
      if (value === LCP_START[this.matched]) {
        this.matched++;
        if (this.matched === LCP_START.length) {
          this.mode = 'ppp';
          events.push({ kind: 'ppp' });
        }
        return true;
      }
      this.matched = 0;
    }
    // Not LCP after all: junk until a byte that a frame cannot contain raw.
    return !(raw === CR || raw === LF || raw === ETX || raw === NAK);
  }

  private text(c: number, echo: number[], events: ReaderEvent[]): void {
    if (c === CR || c === LF) {
      if (this.lastEnd !== undefined && this.lastEnd !== c) {
        this.lastEnd = undefined; // second half of CRLF or LFCR
        return;
      }
      this.lastEnd = c;
      this.endLine(echo, events);
      return;
    }
    // NUL, ^A, XON (0x11), XOFF (0x13) and other control bytes are dropped unseen; they do not
    // break a CRLF pair either, since they carry nothing.
    if (c < 0x20 && c !== ETX && c !== NAK && c !== BS) return;
    this.lastEnd = undefined;
    if (c === ETX) {
      this.clear();
      echo.push(...NEWLINE);
      events.push({ kind: 'cancel' });
    } else if (c === NAK) {
      // ^U: rub out what the caller sees, then start the line again.
      if (this.echoOn && !this.overlong) for (let i = 0; i < this.line.length; i++) echo.push(...ERASE);
      this.clear();
    } else if (c === BS || c === DEL) {
      // An overlong line is refused whatever is erased, so erasing stops mattering.
      if (this.overlong || this.line.length === 0) return;
      this.line = this.line.slice(0, -1);
      if (this.echoOn) echo.push(...ERASE);
    } else if (!this.overlong) {
      if (this.line.length >= this.maxLength) {
        this.overlong = true;
        return;
      }
      this.line += String.fromCharCode(c);
      if (this.echoOn) echo.push(c);
    }
  }

  private endLine(echo: number[], events: ReaderEvent[]): void {
    echo.push(...NEWLINE);
    const junk = this.mode === 'binary';
    const overlong = this.overlong;
    const text = this.line;
    this.clear();
    if (junk) {
      // Half a frame or a stray '~': nothing usable was typed; prompt again.
      events.push({ kind: 'cancel' });
    } else if (overlong) {
      events.push({ kind: 'overlong' });
    } else if (MODEM_RESULTS.has(text.trim())) {
      events.push({ kind: 'modem-result', text: text.trim() });
    } else {
      events.push({ kind: 'line', text });
    }
  }

  private clear(): void {
    this.line = '';
    this.overlong = false;
    this.mode = 'text';
    this.matched = 0;
    this.escaped = false;
  }
}
