import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { isCallbackFailure, type Outcome, type TerminateCause } from '../call-end.js';
import type { CallRecord } from '../session/deps.js';
import type { Logger } from '../log.js';

/**
 * Terminate causes are RFC 2866's Acct-Terminate-Cause names: admins can feed the file
 * to existing billing and reporting tools without a translation table.
 */
export { TERMINATE_CAUSES, type TerminateCause } from '../call-end.js';

export type CallKind = 'callback' | 'direct-ppp' | 'refused' | 'failed';

/**
 * One line of the accounting file (JSON Lines, one object per call). Schema
 * documented in docs/operations.md. Only names are recorded, never secrets: the
 * call-back number is kept in full because billing needs it and it is not a secret.
 */
export interface AccountingRecord {
  /** Unique per call; the same id appears in the log lines of that call. */
  callId: string;
  /** Line name from the config. */
  line: string;
  /** ISO 8601 timestamps of the first RING and of the end of teardown. */
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** Caller ID as delivered by the exchange, when there was one. */
  callerId?: string;
  /** Login names typed during the call, in order (first and second login). */
  login?: string[];
  kind: CallKind;
  /** Number dialled for the call-back leg. */
  callbackNumber?: string;
  dialAttempts?: number;
  /** PPP user that started pppd. */
  pppUser?: string;
  pppExitCode?: number;
  /** Short machine-readable result, e.g. "ppp-ok", "login-refused", "callback-failed-busy". */
  outcome: Outcome;
  terminateCause: TerminateCause;
  bytesIn?: number;
  bytesOut?: number;
}

/** The record of one call, from the call's typed end. */
export function recordOf(rec: CallRecord): AccountingRecord {
  const call = rec.call;
  const started = call?.startedAt ?? rec.endedAt;
  return {
    callId: call?.callId ?? 'none',
    line: rec.line,
    startedAt: new Date(started).toISOString(),
    endedAt: new Date(rec.endedAt).toISOString(),
    durationMs: Math.max(0, rec.endedAt - started),
    callerId: call?.callerId,
    login: call?.logins.length ? call.logins : undefined,
    kind: kindOf(rec),
    callbackNumber: call?.callback?.number,
    dialAttempts: call?.callback?.attempts,
    pppUser: call?.pppUser,
    pppExitCode: rec.pppExitCode ?? undefined,
    outcome: rec.outcome,
    terminateCause: rec.terminateCause,
    bytesIn: rec.traffic?.bytesIn,
    bytesOut: rec.traffic?.bytesOut,
  };
}

function kindOf(rec: CallRecord): CallKind {
  const call = rec.call;
  const pppRan = rec.pppExitCode !== undefined || rec.outcome === 'ppp-spawn-failed' || call?.pppUser;
  if (pppRan) return call?.callback ? 'callback' : 'direct-ppp';
  if (call?.callback) return isCallbackFailure(rec.outcome) ? 'failed' : 'callback';
  if (rec.outcome === 'login-refused' || rec.outcome === 'rate-limited') return 'refused';
  if (rec.outcome === 'ring-back-refused' || rec.outcome === 'ring-not-listed') return 'refused';
  return 'failed';
}

export interface AccountingOptions {
  /** Records kept for a later retry while the file cannot be written; oldest dropped first. */
  maxPending?: number;
}

const DEFAULT_MAX_PENDING = 1000;

/**
 * Appends accounting records to a JSONL file. Writes are serialised so that lines
 * finishing at the same moment never interleave; each write opens with O_APPEND, so
 * logrotate's copytruncate or move-and-reopen both work without a signal. A failed
 * write never reaches the caller (a full disk must not take a line down): the record
 * stays queued and goes out, in order, with the next successful write.
 */
export class Accounting {
  private readonly pending: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  private dropped = 0;
  private failing = false;
  /** How many records at the head of `pending` the current flush is writing. */
  private inFlight = 0;
  private readonly maxPending: number;

  constructor(
    readonly file: string,
    private readonly log: Logger,
    opts: AccountingOptions = {},
  ) {
    this.maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING;
    if (!Number.isInteger(this.maxPending) || this.maxPending < 1) {
      throw new RangeError(`maxPending must be a whole number >= 1, got ${opts.maxPending}`);
    }
  }

  /** Records waiting for a retry (for status and tests). */
  get pendingCount(): number {
    return this.pending.length;
  }

  write(rec: AccountingRecord): Promise<void> {
    this.enqueue(JSON.stringify(rec) + '\n');
    const next = this.chain.then(() => this.flush());
    this.chain = next;
    return next;
  }

  private enqueue(line: string): void {
    this.pending.push(line);
    if (this.pending.length > this.maxPending) {
      this.pending.shift();
      if (this.inFlight > 0) this.inFlight--;
      this.dropped++;
    }
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending.slice();
    this.inFlight = batch.length;
    try {
      await fsp.mkdir(path.dirname(this.file), { recursive: true, mode: 0o750 });
      const fh = await fsp.open(this.file, 'a', 0o640);
      try {
        await fh.writeFile(batch.join(''));
      } finally {
        await fh.close();
      }
      // Only what was written leaves the queue; records added meanwhile stay.
      this.pending.splice(0, this.inFlight);
      if (this.failing || this.dropped > 0) {
        this.log.info({ file: this.file, dropped: this.dropped }, 'accounting file writable again');
      }
      this.failing = false;
      this.dropped = 0;
    } catch (err) {
      // Logged once per failure streak: a full disk must not also flood the journal.
      if (!this.failing) {
        this.log.error(
          { file: this.file, err: (err as Error).message, pending: this.pending.length },
          'cannot write accounting record; keeping it for the next write',
        );
      }
      this.failing = true;
    } finally {
      this.inFlight = 0;
    }
  }
}
