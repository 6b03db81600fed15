/**
 * How a call ends: the one vocabulary shared by pppd's exit codes, the call machine,
 * the accounting record and the log. Outcomes and RFC 2866 terminate causes are
 * closed unions, and every place that ends a call names both, so an outcome without a
 * cause, or a word nobody defined, does not compile.
 */

/** RFC 2866 §5.10 Acct-Terminate-Cause, in the RFC's order (value = index + 1). */
export const TERMINATE_CAUSES = [
  'User-Request',
  'Lost-Carrier',
  'Lost-Service',
  'Idle-Timeout',
  'Session-Timeout',
  'Admin-Reset',
  'Admin-Reboot',
  'Port-Error',
  'NAS-Error',
  'NAS-Request',
  'NAS-Reboot',
  'Port-Unneeded',
  'Port-Preempted',
  'Port-Suspended',
  'Service-Unavailable',
  'Callback',
  'User-Error',
  'Host-Request',
] as const;

export type TerminateCause = (typeof TERMINATE_CAUSES)[number];

/** What pppd's exit tells (src/ppp/exit-codes.ts maps each code to one of these). */
export type PppOutcome =
  | 'ok'
  | 'fatal-error'
  | 'option-error'
  | 'not-root'
  | 'no-kernel-ppp'
  | 'stopped'
  | 'lock-failed'
  | 'open-failed'
  | 'connect-failed'
  | 'pty-command-failed'
  | 'negotiation-failed'
  | 'peer-auth-failed'
  | 'idle-timeout'
  | 'connect-time-limit'
  | 'callback'
  | 'peer-dead'
  | 'hangup'
  | 'loopback'
  | 'init-failed'
  | 'auth-to-peer-failed'
  | 'traffic-limit'
  | 'cnid-auth-failed'
  | 'killed'
  | 'crashed'
  | 'unknown-exit';

/** Why ATA did not give a call (the modem's answer outcomes, and the line's own). */
export type AnswerFailure = 'no-carrier' | 'error' | 'timeout' | 'line-down';

/** Why a call-back dial did not connect ('no-line': every dial-out line was busy). */
export const DIAL_FAILURES = [
  'busy',
  'no-answer',
  'no-dialtone',
  'no-carrier',
  'error',
  'timeout',
  'lock-held',
  'line-down',
  'no-line',
] as const;
export type DialFailure = (typeof DIAL_FAILURES)[number];

/** The call-back could not be made: every attempt failed, or no line could dial. */
export function isCallbackFailure(outcome: Outcome): boolean {
  return DIAL_FAILURES.some((f) => outcome === `callback-failed-${f}`);
}

/** Every way a call can end. */
export type Outcome =
  | 'carrier-lost'
  | 'login-timeout'
  | 'login-refused'
  | 'rate-limited'
  | 'answer-timeout'
  | 'daemon-stopped'
  | 'ppp-spawn-failed'
  /** A listed caller ID rang, but the ring-back was refused (lockout, rate limit, rings that never stopped). */
  | 'ring-back-refused'
  /** A line that does not answer rang from a caller ID no ring-back entry lists. */
  | 'ring-not-listed'
  /**
   * Call-back inside PPP ended without a call-back or pppd (PAP or the number refused, a
   * caller without CBCP, a deadline): User-Error when the caller was refused, else NAS-Request.
   */
  | 'ppp-callback-failed'
  | `answer-${AnswerFailure}`
  | `callback-failed-${DialFailure}`
  | `ppp-${PppOutcome}`;

/** The end of a call as the machine decides it and the record keeps it. */
export interface CallEnd {
  outcome: Outcome;
  terminateCause: TerminateCause;
  /** Free text for people: why, in a few words. */
  detail?: string;
  /** pppd's exit code when pppd ran and exited (null: killed by a signal). */
  pppExitCode?: number | null;
}

/** pppd's report of the link's traffic, from its exit message. */
export interface Traffic {
  bytesIn: number;
  bytesOut: number;
}
