import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { delay, waitFor, within } from '../../src/wait.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('waitFor', () => {
  it('has the listener in place before the action, so an answer in the same tick is seen', async () => {
    let deliver: ((v: string) => void) | undefined;
    const p = waitFor<string>(
      (done) => {
        deliver = done;
      },
      { act: () => deliver?.('same tick'), timeoutMs: 10 },
    );
    expect(await p).toBe('same tick');
  });

  it('starts the deadline once the action is done, and cleans up exactly once', async () => {
    const cleanup = vi.fn();
    let finishAct: (() => void) | undefined;
    let result: unknown;
    const p = waitFor<string>(() => cleanup, {
      act: () => new Promise<void>((r) => (finishAct = r)),
      timeoutMs: 100,
      onTimeout: () => 'late',
    }).then((v) => (result = v));
    await vi.advanceTimersByTimeAsync(1_000); // the action is still running: no deadline yet
    expect(result).toBeUndefined();
    finishAct!();
    await vi.advanceTimersByTimeAsync(99);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(result).toBe('late');
    expect(cleanup).toHaveBeenCalledTimes(1);
  });

  it('rejects with an Error from onTimeout, and when the action fails', async () => {
    const t = waitFor(() => undefined, { timeoutMs: 5, onTimeout: () => new Error('too slow') });
    const a = waitFor(() => undefined, { act: () => Promise.reject(new Error('write failed')) });
    const both = Promise.allSettled([t, a]);
    await vi.advanceTimersByTimeAsync(5);
    const [rt, ra] = await both;
    expect(rt).toMatchObject({ status: 'rejected', reason: { message: 'too slow' } });
    expect(ra).toMatchObject({ status: 'rejected', reason: { message: 'write failed' } });
  });

  it('ends with ABORTED when the signal fires, before or during the wait', async () => {
    const ac = new AbortController();
    const cleanup = vi.fn();
    const p = waitFor(() => cleanup, { signal: ac.signal, timeoutMs: 1_000 });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    expect(cleanup).toHaveBeenCalledTimes(1);
    await expect(delay(10, ac.signal)).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('within', () => {
  it('gives the value in time, or the fallback when late', async () => {
    expect(await within(Promise.resolve(1), 10, () => 'late')).toBe(1);
    const p = within(new Promise(() => undefined), 10, () => 'late');
    await vi.advanceTimersByTimeAsync(10);
    expect(await p).toBe('late');
  });
});
