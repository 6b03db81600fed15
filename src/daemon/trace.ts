import { appendFileSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Transport } from '../serial/transport.js';

/**
 * The per-call trace (mgetty's `-x 4`, and more): every byte to and from the modem with a
 * timestamp, so AT commands and results, RINGs, the dialogue and CONNECT can be read
 * back; state changes with the input that caused them. What the caller types after the
 * password prompt is replaced by its length. One file per call, `<trace_dir>/<call id>.trace`,
 * the newest `keep` kept; `callbackd trace LINE` follows a line live over the control socket.
 */
export class LineTracer {
  private callId?: string;
  /** Lines written before the call got its id (the RINGs, ATA): they open its file. */
  private pending: string[] = [];
  private secret = false;
  private readonly listeners = new Set<(line: string) => void>();

  constructor(
    readonly line: string,
    private readonly o: { dir?: string; keep: number; passwordPrompt: () => string; now?: () => Date },
  ) {}

  follow(fn: (line: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private get quiet(): boolean {
    return !this.o.dir && this.listeners.size === 0;
  }

  /** Bytes the daemon sent to the modem. */
  sent(chunk: Buffer | string): void {
    if (this.quiet) return;
    const text = Buffer.isBuffer(chunk) ? chunk.toString('latin1') : chunk;
    const prompt = this.o.passwordPrompt();
    if (prompt && text.endsWith(prompt)) this.secret = true;
    this.emit(`> ${JSON.stringify(text)}`);
  }

  /** Bytes that came from the modem. A secret's bytes are counted, never shown. */
  received(chunk: Buffer): void {
    if (this.quiet) return;
    if (!this.secret) {
      this.emit(`< ${JSON.stringify(chunk.toString('latin1'))}`);
      return;
    }
    const text = chunk.toString('latin1');
    const end = text.search(/[\r\n]/);
    if (end < 0) {
      this.emit(`< [secret: ${text.length} byte(s)]`);
      return;
    }
    this.secret = false;
    this.emit(`< [secret: ${end} byte(s)]${JSON.stringify(text.slice(end))}`);
  }

  note(text: string): void {
    if (this.quiet) return;
    this.emit(`* ${text}`);
  }

  /** The line's call id from the supervisor's status: a new id opens a file, none closes it. */
  call(callId: string | undefined): void {
    if (callId === this.callId) return;
    if (this.callId && !callId) {
      this.callId = undefined;
      this.pending = [];
      this.rotate();
      return;
    }
    this.callId = callId;
    if (callId && this.o.dir) {
      const backlog = this.pending.splice(0);
      this.write([`* call ${callId} on ${this.line}`, ...backlog]);
    }
  }

  private emit(body: string): void {
    const line = `${(this.o.now?.() ?? new Date()).toISOString()} ${this.line} ${body}`;
    for (const fn of this.listeners) fn(line);
    if (!this.o.dir) return;
    if (this.callId) this.write([line]);
    else {
      this.pending.push(line);
      if (this.pending.length > 200) this.pending.shift();
    }
  }

  private write(lines: string[]): void {
    try {
      mkdirSync(this.o.dir!, { recursive: true, mode: 0o750 });
      appendFileSync(join(this.o.dir!, `${this.callId}.trace`), lines.join('\n') + '\n', { mode: 0o640 });
    } catch {
      /* a full disk must not stop a call; the log says the rest */
    }
  }

  /** Keeps the newest `keep` trace files. */
  private rotate(): void {
    const dir = this.o.dir;
    if (!dir) return;
    try {
      const files = readdirSync(dir)
        .filter((f) => f.endsWith('.trace'))
        .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
        .sort((a, b) => b.t - a.t);
      for (const { f } of files.slice(this.o.keep)) unlinkSync(join(dir, f));
    } catch {
      /* as above */
    }
  }
}

/** A Transport that shows every byte to a LineTracer, then does what the real one does. */
export function tracedTransport(inner: Transport, tracer: LineTracer): Transport {
  inner.onData((chunk) => tracer.received(chunk)); // once, however many readers follow
  return {
    get path() {
      return inner.path;
    },
    get isOpen() {
      return inner.isOpen;
    },
    get carrierEvents() {
      return inner.carrierEvents;
    },
    get dtrControl() {
      return inner.dtrControl;
    },
    open: () => inner.open().then(() => tracer.note(`open ${inner.path}`)),
    close: () => {
      tracer.note(`close ${inner.path}`);
      return inner.close();
    },
    write: (data) => {
      tracer.sent(data);
      return inner.write(data);
    },
    onData: (listener) => inner.onData(listener),
    onUnexpectedClose: (listener) =>
      inner.onUnexpectedClose((err) => {
        tracer.note(`device closed: ${err.message}`);
        listener(err);
      }),
    setDtr: (on) => {
      tracer.note(`DTR ${on ? 'on' : 'off'}`);
      return inner.setDtr(on);
    },
    getCarrier: () => inner.getCarrier(),
    onCarrierChange: inner.onCarrierChange
      ? (listener) =>
          inner.onCarrierChange!((on) => {
            tracer.note(`DCD ${on ? 'on' : 'off'}`);
            listener(on);
          })
      : undefined,
  };
}
