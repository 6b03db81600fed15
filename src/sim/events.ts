import { closeSync, openSync, writeSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { after, cancel, now } from './clock.js';

export type SimEventType =
  | 'command'
  | 'result'
  | 'ring'
  | 'callerid'
  | 'connect'
  | 'hangup'
  | 'data'
  | 'dtr'
  | 'fault'
  | 'open'
  | 'close';

/**
 * One thing a virtual modem did. `modem` is the modem's phone number; `seq` counts
 * from 0 per exchange so a test can ask for events after a mark. Data events carry
 * byte counts, never the bytes (they may be passwords typed at a login prompt).
 */
export interface SimEvent {
  seq: number;
  /** Monotonic milliseconds (performance.now). */
  t: number;
  modem: string;
  type: SimEventType;
  [field: string]: unknown;
}

/**
 * Text to spot in a modem's online data, for measuring from outside (a benchmark
 * timing the login prompt): a data event whose bytes complete `text` gets
 * `watch: label`. Only the label is logged, never the bytes, so a password can be
 * watched for without being written down. `dir` is the data event's: 'in' from the
 * modem's own DTE, 'out' to it.
 */
export interface TextWatch {
  label: string;
  text: string;
  dir: 'in' | 'out';
  /** Only on this modem (its number); default every modem. */
  modem?: string;
}

/** Events kept in memory; a long PPP session would otherwise grow the log without bound. */
export const DEFAULT_MAX_EVENTS = 100_000;

export class EventLog extends EventEmitter {
  events: SimEvent[] = [];
  private fd: number | undefined;
  private nextSeq = 0;
  private closed = false;
  private readonly aborts = new Set<() => void>();

  private readonly tails = new Map<string, string>();

  constructor(
    jsonlPath?: string,
    private readonly maxEvents = DEFAULT_MAX_EVENTS,
    private readonly watches: readonly TextWatch[] = [],
  ) {
    super();
    // Synchronous appends keep the file in event order even if the process is killed.
    if (jsonlPath !== undefined) this.fd = openSync(jsonlPath, 'a');
  }

  emitEvent(modem: string, type: SimEventType, fields: Record<string, unknown> = {}): SimEvent {
    const e: SimEvent = { ...fields, seq: this.nextSeq++, t: now(), modem, type };
    this.events.push(e);
    // Trim in batches so that steady traffic does not copy the array on every event.
    if (this.events.length > this.maxEvents * 1.25) this.events = this.events.slice(-this.maxEvents);
    if (this.fd !== undefined) {
      try {
        writeSync(this.fd, `${JSON.stringify(e)}\n`);
      } catch {
        // A full disk must not stop the exchange; the in-memory log still has it.
      }
    }
    this.emit('event', e);
    return e;
  }

  /**
   * Fields for a data event of `modem` in `dir`: `{ watch: label }` when the chunk
   * completes a watched text (a text split across chunks counts), else none.
   */
  watchFields(modem: string, dir: 'in' | 'out', chunk: Buffer): { watch?: string } {
    if (this.watches.length === 0) return {};
    const key = `${modem}\u0000${dir}`;
    const text = (this.tails.get(key) ?? '') + chunk.toString('latin1');
    let found: string | undefined;
    let longest = 0;
    for (const w of this.watches) {
      if (w.dir !== dir || (w.modem !== undefined && w.modem !== modem)) continue;
      longest = Math.max(longest, w.text.length);
      if (found === undefined && text.includes(w.text)) found = w.label;
    }
    // Keep only what could still begin a watched text; a match is not seen twice.
    this.tails.set(key, found !== undefined ? '' : text.slice(-Math.max(0, longest - 1)));
    return found !== undefined ? { watch: found } : {};
  }

  /** The seq the next event will get. */
  get next(): number {
    return this.nextSeq;
  }

  /**
   * Resolves with the first event (with seq >= from) matching pred. Events logged
   * before the call count too, so a test can never miss one that came early.
   */
  waitFor(pred: (e: SimEvent) => boolean, timeoutMs = 5_000, from = 0): Promise<SimEvent> {
    for (const e of this.events) {
      if (e.seq >= from && pred(e)) return Promise.resolve(e);
    }
    if (this.closed) return Promise.reject(new Error('sim: exchange is closed'));
    return new Promise((resolve, reject) => {
      const finish = (err?: Error, e?: SimEvent): void => {
        cancel(timer);
        this.off('event', onEvent);
        this.aborts.delete(abort);
        if (err) reject(err);
        else resolve(e!);
      };
      const onEvent = (e: SimEvent): void => {
        if (e.seq >= from && pred(e)) finish(undefined, e);
      };
      const abort = (): void => finish(new Error('sim: exchange closed while waiting for an event'));
      // Ref'd: a test awaiting this keeps the process alive until it resolves or times out.
      const timer = after(
        timeoutMs,
        () => {
          const tail = this.events.slice(-8).map((e) => `${e.modem}:${e.type}${describe(e)}`);
          finish(new Error(`sim: no matching event within ${timeoutMs} ms; last events: ${tail.join(', ')}`));
        },
        true,
      );
      this.aborts.add(abort);
      this.on('event', onEvent);
    });
  }

  close(): void {
    this.closed = true;
    for (const abort of [...this.aborts]) abort();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function describe(e: SimEvent): string {
  const v = e.text ?? e.line ?? e.reason ?? e.fault;
  return typeof v === 'string' ? `(${v})` : '';
}
