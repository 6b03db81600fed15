import { Writable } from 'node:stream';

export type LogEvent = Record<string, unknown> & { event?: string };

/**
 * A pino destination that keeps the parsed log events and lets a caller wait for one.
 * The demo prints from it and the integration tests wait on it: the daemon's own
 * log is the observable record of what it did.
 */
export class LogTap {
  readonly events: LogEvent[] = [];
  private waiters: { pred: (e: LogEvent) => boolean; resolve: (e: LogEvent) => void }[] = [];
  private listeners: ((e: LogEvent) => void)[] = [];
  private rest = '';
  readonly stream: Writable;

  constructor(copy?: (chunk: Buffer) => void) {
    this.stream = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        copy?.(chunk);
        const lines = (this.rest + chunk.toString()).split('\n');
        this.rest = lines.pop() ?? '';
        for (const l of lines) this.take(l);
        done();
      },
    });
  }

  onEvent(fn: (e: LogEvent) => void): void {
    this.listeners.push(fn);
  }

  /** A JSON line, or a journal-format line (`event [line]: {...}`): its JSON part is read. */
  private take(line: string): void {
    const brace = line.indexOf('{');
    if (brace < 0) return;
    let e: LogEvent;
    try {
      e = JSON.parse(line.slice(brace)) as LogEvent;
    } catch {
      return;
    }
    this.events.push(e);
    for (const fn of this.listeners) fn(e);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(e)) return true;
      w.resolve(e);
      return false;
    });
  }

  /** Resolves with the first event (already seen or future) matching `pred`. */
  waitFor(pred: (e: LogEvent) => boolean, timeoutMs: number, what = 'log event'): Promise<LogEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        pred,
        resolve: (e: LogEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Waits for the n-th (1-based) event matching `pred`. */
  async waitForCount(pred: (e: LogEvent) => boolean, n: number, timeoutMs: number): Promise<LogEvent[]> {
    await this.waitFor(() => this.events.filter(pred).length >= n, timeoutMs, `${n} matching log events`);
    return this.events.filter(pred);
  }
}
