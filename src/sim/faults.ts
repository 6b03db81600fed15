/**
 * Faults a test can switch on for one modem, at creation or while it runs.
 */
export type DialFault = 'BUSY' | 'NO ANSWER' | 'NO DIALTONE' | 'NO CARRIER' | 'ERROR';

export interface Faults {
  /** Swallow every command: no echo, no result, no RING (a dead or unpowered modem). */
  silent: boolean;
  /** ERROR for a command line whose text after AT, or one of whose commands, matches. */
  errorOn?: RegExp;
  /** Result of the next dials instead of placing the call. */
  dialResult?: DialFault;
  /** How many dials dialResult applies to; undefined = every dial. */
  dialResultCount?: number;
  /** Delay before each result code or information text. */
  responseDelayMs: number;
  /** Unknown commands answer OK instead of ERROR (like lenient modems). */
  lenient: boolean;
  /** Carrier lost once this many data bytes have passed (both directions) in a call. */
  dropAfterBytes?: number;
  /**
   * As a caller: hang up after the far modem has rung this many times, unanswered (the
   * "ring and hang up" of a ring-back); the caller gets NO CARRIER, the callee stops ringing.
   */
  abandonAfterRings?: number;
}

export const NO_FAULTS: Readonly<Faults> = Object.freeze({
  silent: false,
  responseDelayMs: 0,
  lenient: false,
});

/** Merges a partial update; an explicit `undefined` clears an optional fault. */
export function mergeFaults(base: Faults, update: Partial<Faults>): Faults {
  const out: Faults = { ...base };
  for (const [k, v] of Object.entries(update) as [keyof Faults, unknown][]) {
    if (v === undefined) delete out[k];
    else (out as unknown as Record<string, unknown>)[k] = v;
  }
  if (out.silent === undefined) out.silent = false;
  if (out.lenient === undefined) out.lenient = false;
  if (out.responseDelayMs === undefined) out.responseDelayMs = 0;
  return validateFaults(out);
}

export function validateFaults(f: Faults): Faults {
  const bad = (what: string): never => {
    throw new Error(`sim: invalid fault ${what}`);
  };
  if (!Number.isFinite(f.responseDelayMs) || f.responseDelayMs < 0)
    bad(`responseDelayMs ${f.responseDelayMs}`);
  if (f.dialResultCount !== undefined && (!Number.isInteger(f.dialResultCount) || f.dialResultCount < 0)) {
    bad(`dialResultCount ${f.dialResultCount}`);
  }
  if (f.dropAfterBytes !== undefined && (!Number.isInteger(f.dropAfterBytes) || f.dropAfterBytes < 0)) {
    bad(`dropAfterBytes ${f.dropAfterBytes}`);
  }
  if (
    f.abandonAfterRings !== undefined &&
    (!Number.isInteger(f.abandonAfterRings) || f.abandonAfterRings < 1)
  ) {
    bad(`abandonAfterRings ${f.abandonAfterRings}`);
  }
  if (f.errorOn !== undefined && !(f.errorOn instanceof RegExp)) bad('errorOn (must be a RegExp)');
  return f;
}

/** JSON-friendly form for the event log. */
export function describeFaults(f: Partial<Faults>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...f };
  if (f.errorOn) out.errorOn = String(f.errorOn);
  return out;
}
