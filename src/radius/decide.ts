import { DEFAULTS } from '../config/defaults.js';
import type { RadiusLocalFallback } from '../config/radius.js';
import type { CallbackEntry, PppUser } from '../config/types.js';
import { isDialable } from '../policy/numbers.js';
import type { AuthResult } from './auth.js';

/**
 * What a login means once RADIUS has answered: pure, no I/O, so the session machine can
 * apply it like a local verification. Leg 1 is the first login (a call-back request), leg 2
 * the login after the call-back.
 */
export type Decision =
  /** Call back: `number` undefined means the caller types it, checked against entry.rules. */
  | { kind: 'callback'; entry: CallbackEntry; number?: string; replyMessage?: string }
  /** Start pppd for this user with these extra options (maxconnect, idle). */
  | { kind: 'ppp'; user: PppUser; pppdOptions: string[]; replyMessage?: string }
  /** Refuse with the usual "Login incorrect"; countFailure says whether lockouts count it. */
  | { kind: 'refuse'; countFailure: boolean; reason: string; replyMessage?: string }
  /** No server answered and local entries are the fallback: verify locally as without RADIUS. */
  | { kind: 'local' };

export interface DecideContext {
  leg: 1 | 2;
  name: string;
  /** The local [[callbacks]] entries (for Callback-Id). */
  callbacks: readonly CallbackEntry[];
  localFallback: RadiusLocalFallback;
  /** Whether PPP may start at the first login (pppd.autoppp_before_callback). */
  pppOnFirstLeg: boolean;
}

/** Reply-Message goes out on the modem line: printable text and line breaks only, bounded. */
export function cleanReplyMessage(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const clean = text
    .replace(/\r\n?/g, '\n')
    .replace(/[^\n\x20-\x7e\u00a0-\uffff]/g, '')
    .slice(0, 500);
  return clean === '' ? undefined : clean;
}

function withMessage<T extends object>(d: T, message: string | undefined): T & { replyMessage?: string } {
  const m = cleanReplyMessage(message);
  return m === undefined ? d : { ...d, replyMessage: m };
}

/** A call-back entry for a number that came from RADIUS, with the default delays. */
export function radiusEntry(name: string, number: string): CallbackEntry {
  return {
    name,
    number,
    callerSupplies: false,
    rules: { ...DEFAULTS.rules },
    callerId: [],
    delayMs: DEFAULTS.callback.delayMs,
    attempts: DEFAULTS.callback.attempts,
    retryDelayMs: DEFAULTS.callback.retryDelayMs,
    dialLines: [],
  };
}

export function decide(result: AuthResult, ctx: DecideContext): Decision {
  if (result.kind === 'unavailable') {
    return ctx.localFallback === 'unavailable'
      ? { kind: 'local' }
      : { kind: 'refuse', countFailure: false, reason: 'no RADIUS server answered' };
  }
  if (result.kind === 'reject') {
    return withMessage(
      { kind: 'refuse', countFailure: true, reason: 'Access-Reject' } as const,
      result.replyMessage,
    );
  }
  const message = result.replyMessage;
  const isCallback = result.serviceType === 'callback-framed' || result.serviceType === 'callback-login';

  if (
    ctx.leg === 1 &&
    (isCallback || result.callbackNumber !== undefined || result.callbackId !== undefined)
  ) {
    let entry: CallbackEntry | undefined;
    if (result.callbackId !== undefined) {
      entry = ctx.callbacks.find((c) => c.name === result.callbackId);
      if (!entry) {
        return {
          kind: 'refuse',
          countFailure: false,
          reason: `Callback-Id "${result.callbackId}" names no [[callbacks]] entry`,
        };
      }
    }
    const number = result.callbackNumber;
    if (number !== undefined && number !== '') {
      if (!isDialable(number))
        return { kind: 'refuse', countFailure: false, reason: 'Callback-Number is not dialable' };
      // A number from RADIUS with a Callback-Id: the entry gives delays, lines and retries.
      return withMessage(
        {
          kind: 'callback',
          entry: entry ? { ...entry, number, callerSupplies: false } : radiusEntry(ctx.name, number),
          number,
        } as const,
        message,
      );
    }
    if (entry) {
      return withMessage(
        entry.callerSupplies
          ? ({ kind: 'callback', entry } as const)
          : ({ kind: 'callback', entry, number: entry.number as string } as const),
        message,
      );
    }
    // An empty Callback-Number (Cisco's "caller supplies") needs rules; only an entry has them.
    return {
      kind: 'refuse',
      countFailure: false,
      reason: 'call-back accepted but no Callback-Number or Callback-Id',
    };
  }

  if (ctx.leg === 1 && !ctx.pppOnFirstLeg) {
    return {
      kind: 'refuse',
      countFailure: false,
      reason: 'PPP without call-back is not allowed at the first login',
    };
  }
  if (result.serviceType !== 'framed' && result.serviceType !== 'callback-framed') {
    return { kind: 'refuse', countFailure: false, reason: `Service-Type ${result.serviceType} is not PPP` };
  }
  const user: PppUser = { name: ctx.name, passwordHash: '' };
  if (result.framedIp !== undefined) user.remoteAddress = result.framedIp;
  const pppdOptions: string[] = [];
  if (result.sessionTimeout !== undefined && result.sessionTimeout > 0) {
    pppdOptions.push('maxconnect', String(result.sessionTimeout));
  }
  if (result.idleTimeout !== undefined && result.idleTimeout > 0)
    pppdOptions.push('idle', String(result.idleTimeout));
  return withMessage({ kind: 'ppp', user, pppdOptions } as const, message);
}
