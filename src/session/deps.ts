import type { CallEnd, Traffic } from '../call-end.js';
import type { CallbackEntry, Config, LineConfig, PppUser } from '../config/types.js';
import type { Logger } from '../log.js';
import type { PppRun } from '../ppp/index.js';
import type { PppdRadiusArgs } from '../ppp/argv.js';
import type { Radius } from '../radius/index.js';
import type { Transport } from '../serial/transport.js';
import type { CallInfo } from './types.js';

/**
 * What a line session needs from the world, injected so the session never reaches
 * for a module-level singleton: tests hand in memory transports and fake policies,
 * the daemon hands in the real ones. Shapes are structural on purpose.
 */

/** The UUCP lock of one device (src/serial/lock.ts implements it). */
export interface LineLock {
  acquire(): Promise<{ ok: true } | { ok: false; heldBy: number }>;
  release(): Promise<unknown> | void;
  handOver(pid: number): Promise<void> | void;
  reclaim(): Promise<unknown> | void;
}

/** Lockouts and rate limits, shared by every line of the daemon. */
export interface PolicyState {
  isLocked(keys: string[], now: number): boolean;
  failure(keys: string[], now: number): void;
  success(keys: string[]): void;
  rateCheck(entry: string, number: string, now: number): { ok: true } | { ok: false; reason: string };
  record(entry: string, number: string, now: number): void;
}

export interface CallRecord extends CallEnd {
  call?: CallInfo;
  line: string;
  endedAt: number;
  /** From pppd's exit report. */
  traffic?: Traffic;
}

export interface PppStarter {
  (o: {
    line: LineConfig;
    config: Config;
    user?: PppUser;
    autoPpp: boolean;
    /** radius.so for PAP on an AutoPPP second leg ([radius] pppd_pap). */
    radius?: PppdRadiusArgs;
    /** Per-call options from an Access-Accept (maxconnect, idle). */
    pppdOptions?: string[];
    /** Closes callbackd's own handle on the tty; called after the child's fd is open. */
    closeLine: () => Promise<void>;
    lock: LineLock;
    log: Logger;
  }): Promise<PppRun>;
}

export interface SessionDeps {
  line: LineConfig;
  /** Read at the start of every call, so a reload applies from the next call on. */
  config: () => Config;
  log: Logger;
  openTransport: (line: LineConfig) => Transport;
  lock: LineLock;
  policy: PolicyState;
  startPpp: PppStarter;
  /** One record per call (accounting). */
  finish: (rec: CallRecord) => void;
  /** Status reporting: the state tag and a few fields. */
  onState?: (s: { state: string; callId?: string; callerId?: string; error?: string }) => void;
  now?: () => number;
  verifySecret: (hash: string | undefined, secret: string) => Promise<boolean>;
  /**
   * A secret check is coming (the caller is at a password prompt, or PPP with PAP has
   * started): whatever the check runs on may get ready now, while the caller types.
   */
  prepareSecretCheck?: () => void;
  /**
   * Carrier changes while callbackd does not hold the tty (pppd has it). Only lines
   * whose DCD comes through a side channel (the simulator) have one; on a real tty the
   * kernel delivers the hang-up to pppd itself.
   */
  watchCarrier?: (line: LineConfig, fn: (on: boolean) => void) => (() => void) | undefined;
  /**
   * Asks one of `entry.dialLines` to dial the call-back; returns the line that took
   * it, or undefined when none is idle.
   */
  transferCallback?: (req: { call: CallInfo; entry: CallbackEntry; number: string }) => string | undefined;
  /** callbackd as a RADIUS NAS: present while the config has [radius] and it opened. */
  radius?: () => Radius | undefined;
  /** The operator disabled the line (`callbackd line disable`): RINGs are not answered. */
  disabled?: () => boolean;
}
