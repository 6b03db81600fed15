import { CallbackdError } from './errors.js';

/**
 * The one way callbackd waits for something with a deadline (the pattern of
 * zigbee-herdsman's Waitress and of modem/waiter.ts):
 *
 * 1. the listener is registered first, so an answer that comes within the same tick as
 *    the action that provokes it is never missed;
 * 2. then `act` runs (a write, a signal); its failure fails the wait;
 * 3. then the deadline starts, so a slow write does not eat into it;
 * 4. an AbortSignal ends the wait at once with ABORTED.
 * Whatever settles the wait, the listener's cleanup and the timer are removed exactly once.
 */
export interface WaitOptions<T> {
  /** Deadline after `act` is done; none when absent. */
  timeoutMs?: number;
  /** What the deadline gives: a value to resolve with, or an Error to reject with. */
  onTimeout?: () => T | Error;
  signal?: AbortSignal | undefined;
  /** Runs once the listener is in place. */
  act?: () => unknown;
  /** Names the wait in the default timeout and abort errors. */
  label?: string;
}

/** Called by the listener to settle the wait; returns the cleanup, if any. */
export type Listen<T> = (done: (v: T) => void, fail: (e: Error) => void) => (() => void) | void;

export function waitFor<T>(listen: Listen<T>, o: WaitOptions<T> = {}): Promise<T> {
  const label = o.label ?? 'wait';
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let cleanup: (() => void) | void = undefined;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      try {
        cleanup?.();
      } catch {
        // a cleanup that throws must not leave the wait unsettled
      }
      return true;
    };
    const done = (v: T): void => {
      if (finish()) resolve(v);
    };
    const fail = (e: Error): void => {
      if (finish()) reject(e);
    };
    const onAbort = (): void => fail(new CallbackdError('ABORTED', `${label}: stopped`));
    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      cleanup = listen(done, fail);
    } catch (e) {
      return fail(e instanceof Error ? e : new Error(String(e)));
    }
    if (settled) {
      // settled synchronously inside listen(), before its cleanup was known
      try {
        cleanup?.();
      } catch {
        // as above
      }
      return;
    }
    const arm = (): void => {
      if (settled || o.timeoutMs === undefined) return;
      timer = setTimeout(() => {
        const r = o.onTimeout
          ? o.onTimeout()
          : new CallbackdError('INTERNAL', `${label}: no result within ${o.timeoutMs} ms`);
        if (r instanceof Error) fail(r);
        else done(r);
      }, o.timeoutMs);
    };
    if (!o.act) return arm();
    let acted: unknown;
    try {
      acted = o.act();
    } catch (e) {
      return fail(e instanceof Error ? e : new Error(String(e)));
    }
    if (acted instanceof Promise)
      acted.then(arm, (e: unknown) => fail(e instanceof Error ? e : new Error(String(e))));
    else arm();
  });
}

/** Resolves after ms; rejects with ABORTED as soon as the signal fires. */
export function delay(ms: number, signal?: AbortSignal, label = 'delay'): Promise<void> {
  return waitFor<void>(() => undefined, { timeoutMs: ms, onTimeout: () => undefined, signal, label });
}

/**
 * Waits for `promise` at most ms: its value, or `onTimeout()` when it is late (the
 * promise keeps running). A rejection of the promise rejects the wait.
 */
export function within<T, U>(promise: Promise<T>, ms: number, onTimeout: () => U): Promise<T | U> {
  return waitFor<T | U>(
    (done, fail) => {
      promise.then(done, (e: unknown) => fail(e instanceof Error ? e : new Error(String(e))));
    },
    { timeoutMs: ms, onTimeout },
  );
}
