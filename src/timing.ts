/**
 * Every timeout, delay and retry count in callbackd, in one place, with the reason for
 * its default. The config file's [timing] table (and a line's own [lines.timing])
 * overrides any of them; validateTiming() rejects values that would make a line hang
 * or spin. Defaults follow mgetty and the callback program where those are sane.
 */
export interface Timing {
  /** Wait for the final result of an ordinary AT command. */
  commandMs: number;
  /** Pause a `\d` in a chat script stands for (mgetty: 0.5 s). */
  chatPauseMs: number;
  /** DTR held low during a reset or hang-up (mgetty: 0.5 s). */
  dtrLowMs: number;
  /** Guard time either side of the `+++` escape. */
  escapeGuardMs: number;
  /** RINGs further apart than this start a new call (mgetty: 10 s). */
  ringGapMs: number;
  /** Wait for CONNECT after ATA (mgetty: 80 s). */
  answerMs: number;
  /** Quiet after CONNECT before the issue text (mgetty: 0.3 s + 0.5 s). */
  settleMs: number;
  /** Login prompt unanswered this long: warning (mgetty: 240 s). */
  loginMs: number;
  /** After the warning, this long more before goodbye and hang-up (mgetty: 60 s). */
  loginGraceMs: number;
  /** Wait for CONNECT after ATD (the callback program: 180 s a try; 60 s is plenty for V.90). */
  dialMs: number;
  /** Pause between the call-back message and dropping the line, so the text gets out. */
  announceMs: number;
  /** Idle AT health check; 0 disables it (mgetty: 3600 s). */
  healthCheckMs: number;
  /** First wait before reopening a device that failed; doubles up to reopenMaxMs. */
  reopenMinMs: number;
  reopenMaxMs: number;
  /** How often to look again at a UUCP lock held by another program. */
  lockRecheckMs: number;
  /** Time given to pppd to exit after SIGTERM before SIGKILL. */
  pppStopMs: number;
  /**
   * While a call is up on a real serial port, how often DCD is read (TIOCMGET). Only
   * during calls: a line waiting for RING runs no such timer.
   */
  carrierPollMs: number;
}

export const DEFAULT_TIMING: Readonly<Timing> = Object.freeze({
  commandMs: 3_000,
  chatPauseMs: 500,
  dtrLowMs: 500,
  escapeGuardMs: 1_100,
  ringGapMs: 10_000,
  answerMs: 80_000,
  settleMs: 800,
  loginMs: 240_000,
  loginGraceMs: 60_000,
  dialMs: 60_000,
  announceMs: 1_000,
  healthCheckMs: 3_600_000,
  reopenMinMs: 1_000,
  reopenMaxMs: 60_000,
  lockRecheckMs: 5_000,
  pppStopMs: 5_000,
  carrierPollMs: 1_000,
});

/** Bounds checked by validateTiming: [min, max] in ms. 0 allowed only where noted. */
export const TIMING_BOUNDS: Readonly<Record<keyof Timing, readonly [number, number]>> = Object.freeze({
  commandMs: [50, 120_000],
  chatPauseMs: [0, 10_000],
  dtrLowMs: [0, 10_000],
  escapeGuardMs: [0, 10_000],
  ringGapMs: [100, 120_000],
  answerMs: [100, 300_000],
  settleMs: [0, 30_000],
  loginMs: [100, 3_600_000],
  loginGraceMs: [0, 3_600_000],
  dialMs: [100, 600_000],
  announceMs: [0, 60_000],
  healthCheckMs: [0, 86_400_000],
  reopenMinMs: [10, 3_600_000],
  reopenMaxMs: [10, 3_600_000],
  lockRecheckMs: [10, 3_600_000],
  pppStopMs: [10, 120_000],
  carrierPollMs: [50, 60_000],
});

/** Returns problems as `key: reason` strings; empty when the timing is usable. */
export function validateTiming(t: Partial<Timing>): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(t)) {
    const bounds = TIMING_BOUNDS[key as keyof Timing];
    if (!bounds) {
      problems.push(`${key}: unknown timing key`);
      continue;
    }
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      problems.push(`${key}: must be a whole number of milliseconds`);
    } else if (value < bounds[0] || value > bounds[1]) {
      problems.push(`${key}: ${value} is outside ${bounds[0]}..${bounds[1]} ms`);
    }
  }
  if (t.reopenMinMs !== undefined && t.reopenMaxMs !== undefined && t.reopenMinMs > t.reopenMaxMs) {
    problems.push('reopenMinMs: larger than reopenMaxMs');
  }
  return problems;
}

/** Fast timing for tests and the demo: the same sequence of events, in milliseconds. */
export const FAST_TIMING: Readonly<Timing> = Object.freeze({
  ...DEFAULT_TIMING,
  commandMs: 1_000,
  chatPauseMs: 20,
  dtrLowMs: 20,
  escapeGuardMs: 60,
  ringGapMs: 2_000,
  answerMs: 5_000,
  settleMs: 50,
  loginMs: 10_000,
  loginGraceMs: 2_000,
  dialMs: 5_000,
  announceMs: 100,
  healthCheckMs: 0,
  reopenMinMs: 50,
  reopenMaxMs: 500,
  lockRecheckMs: 100,
  pppStopMs: 1_000,
  carrierPollMs: 100,
});
