/**
 * The simulator's own clock and timers, captured when this module loads. A test that
 * fakes timers (vi.useFakeTimers) for its own code must not freeze the virtual
 * modems: they talk to real processes through real pseudo-terminals.
 */
const realSetTimeout = globalThis.setTimeout.bind(globalThis);
const realClearTimeout = globalThis.clearTimeout.bind(globalThis);
const realNow = performance.now.bind(performance);

export type TimerHandle = ReturnType<typeof setTimeout>;

export function now(): number {
  return realNow();
}

/**
 * An unref'd timer by default: the simulator alone never keeps a process alive.
 * `ref` is for a caller that is deliberately waiting (waitFor).
 */
export function after(ms: number, fn: () => void, ref = false): TimerHandle {
  const t = realSetTimeout(fn, Math.max(0, ms));
  if (!ref) t.unref();
  return t;
}

export function cancel(t: TimerHandle | undefined): void {
  if (t !== undefined) realClearTimeout(t);
}

/** Timers owned by one object, so that close() can cancel every one of them. */
export class TimerSet {
  private readonly timers = new Set<TimerHandle>();

  after(ms: number, fn: () => void): TimerHandle {
    const t = after(ms, () => {
      this.timers.delete(t);
      fn();
    });
    this.timers.add(t);
    return t;
  }

  cancel(t: TimerHandle | undefined): void {
    if (t === undefined) return;
    this.timers.delete(t);
    cancel(t);
  }

  clear(): void {
    for (const t of this.timers) cancel(t);
    this.timers.clear();
  }
}
