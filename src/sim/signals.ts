import type { ModemSignals } from '../serial/transport.js';

/**
 * The carrier side of a modem's ModemSignals: remembers the last value and tells
 * listeners about changes only. A listener that throws does not stop the modem.
 */
export class CarrierSignal {
  private last: boolean;
  private readonly listeners = new Set<(on: boolean) => void>();

  constructor(private readonly read: () => boolean) {
    this.last = read();
  }

  /** Call after anything that may change the carrier (state, &C). */
  update(): void {
    const c = this.read();
    if (c === this.last) return;
    this.last = c;
    for (const fn of [...this.listeners]) {
      try {
        fn(c);
      } catch {
        // the listener's problem, not the line's
      }
    }
  }

  signals(setDtr: (on: boolean) => Promise<void>): ModemSignals {
    return {
      setDtr,
      getCarrier: async () => this.read(),
      onCarrier: (fn) => {
        this.listeners.add(fn);
        return () => this.listeners.delete(fn);
      },
    };
  }

  clear(): void {
    this.listeners.clear();
  }
}
