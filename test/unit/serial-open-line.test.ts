import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallbackdError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { FAST_TIMING } from '../../src/timing.js';
import type { AcquireResult } from '../../src/serial/lock.js';
import { openWithRetry } from '../../src/serial/open-line.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const timing = { reopenMinMs: 100, reopenMaxMs: 500, lockRecheckMs: 250 };
const log = silentLogger();

describe('openWithRetry', () => {
  it('retries a missing device with doubling backoff, capped at reopenMaxMs', async () => {
    const attempts: number[] = [];
    let n = 0;
    const p = openWithRetry({
      line: 'l',
      timing,
      log,
      open: async () => {
        attempts.push(Date.now());
        if (++n < 6) throw new CallbackdError('DEVICE_MISSING', 'no such device');
        return 'up';
      },
    });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await p).toBe('up');
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    expect(gaps).toEqual([100, 200, 400, 500, 500]);
  });

  it('does not open while another program holds the lock; re-checks every lockRecheckMs', async () => {
    let holder: number | undefined = 4242;
    const acquire = vi.fn(async (): Promise<AcquireResult> =>
      holder ? { ok: false, heldBy: holder } : { ok: true },
    );
    const open = vi.fn(async () => 'up');
    const p = openWithRetry({ line: 'l', timing, log, open, lock: { acquire, release: () => undefined } });
    await vi.advanceTimersByTimeAsync(timing.lockRecheckMs * 3);
    expect(open).not.toHaveBeenCalled();
    expect(acquire).toHaveBeenCalledTimes(4);
    holder = undefined;
    await vi.advanceTimersByTimeAsync(timing.lockRecheckMs);
    expect(await p).toBe('up');
    expect(open).toHaveBeenCalledOnce();
  });

  it('releases the lock after a failed attempt and tells onFailure', async () => {
    const release = vi.fn();
    const onFailure = vi.fn();
    let n = 0;
    const p = openWithRetry({
      line: 'l',
      timing,
      log,
      onFailure,
      lock: { acquire: async () => ({ ok: true }), release },
      open: async () => {
        if (n++ === 0) throw new CallbackdError('DEVICE_PERMISSION', 'EACCES');
        return 1;
      },
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await p).toBe(1);
    expect(release).toHaveBeenCalledOnce();
    expect(onFailure).toHaveBeenCalledWith(
      expect.objectContaining({ code: 'DEVICE_PERMISSION' }),
      timing.reopenMinMs,
    );
  });

  it('stops with ABORTED when the signal fires while waiting', async () => {
    const ac = new AbortController();
    const p = openWithRetry({
      line: 'l',
      timing: FAST_TIMING,
      log,
      signal: ac.signal,
      open: async () => {
        throw new CallbackdError('DEVICE_GONE', 'gone');
      },
    }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    ac.abort();
    expect(await p).toMatchObject({ code: 'ABORTED' });
    expect(vi.getTimerCount()).toBe(0);
  });
});
