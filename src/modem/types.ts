import type { Logger } from '../log.js';
import type { Timing } from '../timing.js';
import type { FinalResult } from './results.js';

export type { FinalResult };

export interface CommandResult {
  result: FinalResult;
  /** Information lines before the result (ATI output and the like); echo excluded. */
  lines: string[];
  /** The result line as sent by the modem, e.g. `CONNECT 33600/ARQ`. */
  text: string;
}

export interface RingEvent {
  /** RINGs of this call so far (RINGs more than ringGapMs apart start a new call). */
  count: number;
  callerId?: string;
  callerName?: string;
  /** Set when the exchange said the number is private or unavailable. */
  callerIdWithheld?: 'private' | 'unavailable';
}

export type AnswerOutcome =
  { kind: 'connect'; speed?: number; text: string } | { kind: 'no-carrier' | 'error' | 'timeout' };
export type DialOutcome =
  | { kind: 'connect'; speed?: number; text: string }
  | { kind: 'busy' | 'no-answer' | 'no-dialtone' | 'no-carrier' | 'error' | 'timeout' };

export interface ModemOptions {
  timing: Timing;
  log: Logger;
  line: string;
  /** Prepended to the number by dial(); default ATD. */
  dialPrefix?: string;
}
