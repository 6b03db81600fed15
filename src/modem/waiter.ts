import { CallbackdError } from '../errors.js';
import { waitFor, within } from '../wait.js';

/** Added to a command's timeout for its write (chat `\d` pauses included). */
const WRITE_GRACE_MS = 10_000;

export type LineHandler<T> = (line: string, done: (v: T) => void, fail: (e: Error) => void) => void;

/**
 * The one listener for modem lines that a command (or chat step) in flight has, on
 * the shared waiter (src/wait.ts). It is registered before anything is written, so a reply that comes back within
 * the same tick as the write is never missed; the timeout starts once the write
 * is done, so a slow write or a `\d` pause does not eat into it.
 */
export class LineWaiter {
  private handler: ((line: string) => void) | undefined;
  private failer: ((e: Error) => void) | undefined;

  constructor(private readonly label: string) {}

  get busy(): boolean {
    return this.handler !== undefined;
  }

  /** Offers a line to the waiting command; false when nothing is waiting. */
  offer(line: string): boolean {
    if (!this.handler) return false;
    this.handler(line);
    return true;
  }

  /** Ends the waiting command with an error (line gone, modem disposed). */
  fail(e: Error): void {
    this.failer?.(e);
  }

  private async bounded(send: () => Promise<void>, timeoutMs: number): Promise<void> {
    const ms = timeoutMs + WRITE_GRACE_MS;
    const r = await within(send(), ms, () => 'stuck' as const);
    if (r === 'stuck')
      throw new CallbackdError('MODEM_TIMEOUT', `${this.label}: the line took no bytes within ${ms} ms`);
  }

  wait<T>(send: (() => Promise<void>) | undefined, handle: LineHandler<T>, timeoutMs: number): Promise<T> {
    return waitFor<T>(
      (done, fail) => {
        this.handler = (line) => handle(line, done, fail);
        this.failer = fail;
        return () => {
          this.handler = undefined;
          this.failer = undefined;
        };
      },
      {
        // The write has its own deadline: a tty that never takes the bytes (stuck in
        // flow control, or left in PPP's line discipline by a killed pppd) must not
        // hold the line for ever.
        act: send && (() => this.bounded(send, timeoutMs)),
        timeoutMs,
        onTimeout: () => new CallbackdError('MODEM_TIMEOUT', `${this.label}: timeout`),
      },
    );
  }
}
