import { CallbackdError } from '../errors.js';
import type { Logger } from '../log.js';
import { delay } from '../wait.js';
import type { AcquireResult } from './lock.js';

export interface OpenWithRetryOptions<T> {
  line: string;
  /** Backoff for a line that will not open, and the lock re-check interval (ms). */
  timing: { reopenMinMs: number; reopenMaxMs: number; lockRecheckMs: number };
  log: Logger;
  /** Opens the device (and usually inits the modem); throws on failure. */
  open: () => Promise<T>;
  /** UUCP lock taken before each attempt; released again after a failed one. */
  lock?: { acquire(): Promise<AcquireResult>; release(): Promise<unknown> | void };
  /** Stops the waiting; the promise then rejects with ABORTED. */
  signal?: AbortSignal;
  /** Told about each failure (status reporting). */
  onFailure?: (err: Error, retryInMs: number) => void;
  /** Told each time the lock is found held by another program. */
  onLocked?: (heldBy: number) => void;
}

/** Resolves after ms, or rejects with ABORTED as soon as the signal fires. */
export function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, signal, 'waiting for the line');
}

function aborted(): CallbackdError {
  return new CallbackdError('ABORTED', 'stopped while waiting for the line');
}

/**
 * Brings a line up however long it takes: a device that is missing, refuses us or
 * vanishes is retried with backoff (reopenMinMs doubling to reopenMaxMs), and a UUCP
 * lock held by another program is re-checked every lockRecheckMs without opening the
 * device at all (that program owns the modem). Returns with the lock held.
 * Only this line waits; other lines run their own loops.
 */
export async function openWithRetry<T>(o: OpenWithRetryOptions<T>): Promise<T> {
  let backoff = o.timing.reopenMinMs;
  let lastHolder: number | undefined;
  for (;;) {
    if (o.signal?.aborted) throw aborted();
    if (o.lock) {
      let r: AcquireResult;
      try {
        r = await o.lock.acquire();
      } catch (e) {
        // No lock can be taken at all (the lock directory is missing, say): that is
        // this line's failure, retried like a device that will not open.
        const err = e instanceof Error ? e : new Error(String(e));
        o.log.error({ event: 'lock-failed', line: o.line, err: err.message, retryInMs: backoff });
        o.onFailure?.(err, backoff);
        await abortableDelay(backoff, o.signal);
        backoff = Math.min(backoff * 2, o.timing.reopenMaxMs);
        continue;
      }
      if (!r.ok) {
        if (r.heldBy !== lastHolder)
          o.log.info(
            { event: 'line-locked', line: o.line, heldBy: r.heldBy },
            'line in use by another program; waiting',
          );
        lastHolder = r.heldBy;
        o.onLocked?.(r.heldBy);
        await abortableDelay(o.timing.lockRecheckMs, o.signal);
        continue;
      }
      lastHolder = undefined;
    }
    try {
      return await o.open();
    } catch (e) {
      if (o.lock) await o.lock.release();
      const err = e instanceof Error ? e : new Error(String(e));
      const code = (err as { code?: string }).code;
      o.log.error({ event: 'line-open-failed', line: o.line, code, err: err.message, retryInMs: backoff });
      o.onFailure?.(err, backoff);
      await abortableDelay(backoff, o.signal);
      backoff = Math.min(backoff * 2, o.timing.reopenMaxMs);
    }
  }
}
