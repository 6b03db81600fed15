import type { PppOutcome, TerminateCause } from '../call-end.js';
/**
 * What pppd's exit status means for a call. Codes are pppd's own (pppd.h EXIT_*, 0..21);
 * the terminate causes are RFC 2866 Acct-Terminate-Cause words, mapped the way pppd's
 * RADIUS plugin does (radius.c), so accounting records read like a NAS's. Admin-Reset is
 * ours: pppd killed by a signal it could not handle (SIGKILL after the grace time).
 */
export type { TerminateCause };

export interface PppdOutcome {
  outcome: PppOutcome;
  terminateCause: TerminateCause;
  description: string;
}

const CODES: Readonly<Record<number, PppdOutcome & { outcome: PppOutcome }>> = Object.freeze({
  0: {
    outcome: 'ok',
    terminateCause: 'User-Request',
    description: 'pppd ended normally (the link was closed)',
  },
  1: { outcome: 'fatal-error', terminateCause: 'NAS-Error', description: 'pppd hit a fatal error' },
  2: { outcome: 'option-error', terminateCause: 'NAS-Error', description: 'pppd rejected its options' },
  3: {
    outcome: 'not-root',
    terminateCause: 'NAS-Error',
    description: 'pppd is not setuid-root and the caller is not root',
  },
  4: {
    outcome: 'no-kernel-ppp',
    terminateCause: 'NAS-Error',
    description: 'the kernel does not support PPP',
  },
  5: {
    outcome: 'stopped',
    terminateCause: 'User-Request',
    description: 'pppd was stopped by SIGINT, SIGTERM or SIGHUP',
  },
  6: {
    outcome: 'lock-failed',
    terminateCause: 'Port-Error',
    description: 'pppd could not lock the serial port',
  },
  7: {
    outcome: 'open-failed',
    terminateCause: 'Port-Error',
    description: 'pppd could not open the serial port',
  },
  8: { outcome: 'connect-failed', terminateCause: 'Lost-Carrier', description: 'the connect script failed' },
  9: {
    outcome: 'pty-command-failed',
    terminateCause: 'Port-Error',
    description: 'the pty command could not be run',
  },
  10: {
    outcome: 'negotiation-failed',
    terminateCause: 'Service-Unavailable',
    description: 'PPP negotiation failed',
  },
  11: {
    outcome: 'peer-auth-failed',
    terminateCause: 'Service-Unavailable',
    description: 'the peer failed to authenticate',
  },
  12: { outcome: 'idle-timeout', terminateCause: 'Idle-Timeout', description: 'the link was idle too long' },
  13: {
    outcome: 'connect-time-limit',
    terminateCause: 'Session-Timeout',
    description: 'the connect-time limit was reached',
  },
  14: {
    outcome: 'callback',
    terminateCause: 'Callback',
    description: 'callback was negotiated; the peer will be called back',
  },
  15: {
    outcome: 'peer-dead',
    terminateCause: 'Lost-Carrier',
    description: 'the peer stopped answering LCP echo requests',
  },
  16: { outcome: 'hangup', terminateCause: 'Lost-Carrier', description: 'the modem hung up' },
  17: { outcome: 'loopback', terminateCause: 'Port-Error', description: 'the line is looped back' },
  18: { outcome: 'init-failed', terminateCause: 'Port-Error', description: 'the init script failed' },
  19: {
    outcome: 'auth-to-peer-failed',
    terminateCause: 'Service-Unavailable',
    description: 'we failed to authenticate to the peer',
  },
  20: {
    outcome: 'traffic-limit',
    terminateCause: 'NAS-Request',
    description: 'the traffic limit was reached',
  },
  21: {
    outcome: 'cnid-auth-failed',
    terminateCause: 'Service-Unavailable',
    description: 'the caller number was refused',
  },
});

/** pppd's own words when the peer fails to authenticate (upap.c, chap-new.c, eap.c). */
const PEER_AUTH_FAILED =
  /PAP peer authentication failed|failed CHAP authentication|EAP peer authentication failed/;

/**
 * Maps how pppd ended (child 'exit' event values) to an outcome for logs and accounting.
 * `log` is pppd's stderr (we run it with `logfd 2`). pppd overwrites its status when the
 * line hangs up or it gets SIGHUP while still closing, so a peer that fails PAP and hangs
 * up at once shows as 16 or 5; its log still says what happened, and the outcome follows it.
 */
export function pppdOutcome(code: number | null, signal: string | null, log?: string): PppdOutcome {
  if ((code === 5 || code === 16) && log !== undefined && PEER_AUTH_FAILED.test(log)) {
    return {
      ...(CODES[11] as PppdOutcome),
      description: `${(CODES[11] as PppdOutcome).description} (pppd exited ${code})`,
    };
  }
  if (code === null) {
    // Killed by a signal: pppd handles TERM/INT/HUP itself and exits 5, so a signal here
    // means it did not get the chance (SIGKILL after the grace time) or crashed.
    const killed = signal === 'SIGKILL' || signal === 'SIGTERM';
    return {
      outcome: killed ? 'killed' : 'crashed',
      terminateCause: killed ? 'Admin-Reset' : 'NAS-Error',
      description: `pppd ended by signal ${signal ?? 'unknown'}`,
    };
  }
  const known = CODES[code];
  if (known) return { ...known };
  return {
    outcome: 'unknown-exit',
    terminateCause: 'NAS-Error',
    description: `pppd exited with unknown code ${code}`,
  };
}

/** Every exit code pppd defines, for tests and documentation. */
export const PPPD_EXIT_CODES: readonly number[] = Object.freeze(Object.keys(CODES).map(Number));

/** pppd could not run at all: the operator must act (kernel, options, permissions, tty). */
const PPPD_BROKEN = new Set([
  'fatal-error',
  'option-error',
  'not-root',
  'no-kernel-ppp',
  'lock-failed',
  'open-failed',
  'pty-command-failed',
  'init-failed',
  'crashed',
  'unknown-exit',
]);
/** The link failed for a reason on the peer's side or the line's. */
const PPPD_FAILED = new Set([
  'negotiation-failed',
  'peer-auth-failed',
  'auth-to-peer-failed',
  'cnid-auth-failed',
  'loopback',
  'connect-failed',
  'killed',
]);

/** The log level of pppd's exit: an error when pppd cannot work, a warning when the link failed. */
export function pppdExitLevel(outcome: string): 'error' | 'warn' | 'info' {
  const o = outcome.replace(/^ppp-/, '');
  if (PPPD_BROKEN.has(o)) return 'error';
  if (PPPD_FAILED.has(o)) return 'warn';
  return 'info';
}
