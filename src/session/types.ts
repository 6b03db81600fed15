import type { CallEnd, DialFailure, Outcome, TerminateCause, Traffic } from '../call-end.js';
import type { CallbackEntry, PppUser } from '../config/types.js';
import type { Identity } from '../policy/identify.js';
import type { AnswerOutcome, DialOutcome } from '../modem/types.js';
import type { AuthResult } from '../radius/auth.js';
import type { DeframeState, EngineState } from '../ppp/engine/index.js';

/**
 * The per-line state machine's vocabulary. States, inputs and effects are plain data
 * so that machine.ts can be a pure function and tests can walk it without I/O.
 */

/** What we know about the call in progress; carried through the states of one call. */
export interface CallInfo {
  callId: string;
  startedAt: number;
  callerId?: string;
  /** CONNECT text of the current leg. */
  connect?: string;
  speed?: number;
  /** Names typed at login (never secrets). */
  logins: string[];
  /** Call-back leg, once decided. */
  callback?: { entry: string; number: string; attempts: number; lastOutcome?: DialFailure | 'connect' };
  pppUser?: string;
  /** The first login's name when RADIUS accepted it (accounting's User-Name, Acct-Authentic). */
  radiusUser?: string;
}

export type Phase = 1 | 2;

/**
 * When the login of one leg times out. Set once at the leg's first prompt and carried
 * through every re-prompt, refusal and secret check, so pressing Enter or ^U cannot
 * keep a line held: `deadline` is absolute (the context's clock); `warned` says the
 * one-minute warning has been given and `deadline` is the end of its grace time.
 */
export interface LoginClock {
  deadline: number;
  warned: boolean;
}

/**
 * Who the caller claimed to be, while we check the secret: the policy's Identity of the
 * typed name, with what this leg does not allow (a call-back entry on the second leg,
 * say) already turned into 'unknown'.
 */
export type Claim = Identity;

/**
 * Call-back inside PPP on the first leg (ppp-callback.ts): the PPP engine's state is plain
 * data, so it lives here and the machine stays a pure function.
 */
export interface PppCallbackState {
  engine: EngineState;
  /** The partial frame between the line's chunks. */
  deframe: DeframeState;
  /** Bad frames so far (the engine gives up past its limit). */
  bad: number;
  /** What the PAP name stands for, from the Authenticate-Request on. */
  claim?: Claim;
  /** The secret check in flight: its result counts only for this request ('pap-verified' ref). */
  papRef?: string;
  /** Authenticate-Requests reported so far (a renegotiated link asks again). */
  papCount?: number;
  /** The entry whose call-back is negotiated, once PAP succeeded. */
  entry?: CallbackEntry;
  /** pppd options from an Access-Accept (maxconnect, idle), for a hand-over to pppd. */
  pppdOptions?: string[];
  /** Agreed in CBCP: the number to dial and the caller's delay in seconds. */
  agreed?: { number: string; delay: number };
  /** Why the caller was refused (credentials or number): the record's User-Error. */
  refused?: string;
}

export type State =
  | { tag: 'idle' }
  | { tag: 'answering'; call: CallInfo }
  /**
   * Rings not answered, waiting for them to stop: a ring-back (`entry`: a listed caller
   * ID), or, without `entry`, a ring on a line that does not answer, to be recorded.
   * `lastRing` restarts the ring-gap timer; `until` bounds the whole state.
   */
  | { tag: 'ring-back'; call: CallInfo; entry?: CallbackEntry; lastRing: number; until: number }
  /**
   * After CONNECT, before the prompt: the line must be quiet for `settle`; what the caller
   * sends meanwhile (its script's CR, a modem command it meant for its own modem) is
   * dropped and starts the quiet time again, up to `until`.
   */
  | { tag: 'settling'; call: CallInfo; phase: Phase; until: number }
  | {
      tag: 'login';
      call: CallInfo;
      phase: Phase;
      step: 'name' | 'secret' | 'number';
      failures: number;
      /** The login clock of this leg: set at the first prompt, never restarted. */
      clock: LoginClock;
      claim?: Claim;
    }
  | { tag: 'verifying'; call: CallInfo; phase: Phase; failures: number; claim: Claim; clock: LoginClock }
  | { tag: 'announcing'; call: CallInfo; entry: CallbackEntry; number: string }
  | { tag: 'dropping'; call: CallInfo; entry: CallbackEntry; number: string }
  /** Handing the call-back to another line (the entry's dial_lines). */
  | { tag: 'transferring'; call: CallInfo; entry: CallbackEntry; number: string }
  | { tag: 'callback-wait'; call: CallInfo; entry: CallbackEntry; number: string; attempt: number }
  | { tag: 'dialing'; call: CallInfo; entry: CallbackEntry; number: string; attempt: number }
  | { tag: 'ppp'; call: CallInfo; autoPpp: boolean }
  /** The first leg's PPP engine (LCP, PAP, CBCP) has the line: see ppp-callback.ts. */
  | ({ tag: 'ppp-callback'; call: CallInfo } & PppCallbackState)
  | ({
      tag: 'teardown';
      call?: CallInfo;
      /** pppd's traffic report, when pppd ran. */
      traffic?: Traffic;
      /** A last text is on its way to the caller: hang up when the state timer fires. */
      farewell?: boolean;
    } & CallEnd)
  | { tag: 'stopped' };

export type StateTag = State['tag'];

/** The modem's answer outcome, or why the line could not even try. */
export type AnswerResult = AnswerOutcome | { kind: 'lock-held' | 'line-down' };
export type DialResult = DialOutcome | { kind: 'lock-held' | 'line-down' };

export type Input =
  | { type: 'ring'; count: number; callerId?: string; now: number; callId: string }
  | { type: 'answered'; result: AnswerResult }
  | { type: 'timeout' }
  | { type: 'line'; text: string }
  /** PPP at the login prompt; `data`: the bytes from the frame's first flag on. */
  | { type: 'ppp-frame'; data?: Buffer }
  /** Raw bytes from the line after PPP was seen at the prompt (lines with ppp_callback). */
  | { type: 'ppp-bytes'; data: Buffer }
  | { type: 'cancel' }
  | { type: 'overlong' }
  /** Bytes from the caller while no prompt is out (they are dropped). */
  | { type: 'noise' }
  | { type: 'carrier-lost' }
  | { type: 'verified'; ok: boolean }
  /** The result of a 'verify' with `ref` (PAP inside PPP): valid whatever the state's generation. */
  | { type: 'pap-verified'; ok: boolean; ref: string }
  /**
   * RADIUS answered the login ('radius-auth'); `localOk` is the local check, made only when
   * no server answered. With `ref` (PAP inside PPP) it is matched by the request, not the
   * state's generation, as 'pap-verified' is.
   */
  | { type: 'radius-answer'; result: AuthResult; localOk?: boolean; ref?: string }
  | { type: 'hung-up' }
  | { type: 'dialed'; result: DialResult }
  | {
      type: 'ppp-exit';
      outcome: Outcome;
      terminateCause: TerminateCause;
      description: string;
      code: number | null;
      traffic?: Traffic;
    }
  | { type: 'ppp-failed'; message: string }
  /** Another line's call asks this idle line to dial the call-back. */
  | { type: 'callback'; call: CallInfo; entry: CallbackEntry; number: string }
  | { type: 'transferred'; ok: boolean; line?: string }
  | { type: 'stop' };

/** Text sent to the caller is data, so it is an effect like any other. */
export type Effect =
  | { do: 'answer' }
  | { do: 'write'; text: string }
  /** The single state timer: replaces any earlier one; a state change without it clears it. */
  | { do: 'timer'; ms: number }
  | { do: 'reader'; echo: boolean; detectPpp: boolean }
  /**
   * Checks a secret against a hash (undefined: the dummy hash). Answered with 'verified',
   * or with `ref` as 'pap-verified', which survives the state changes a PPP peer causes
   * while the check runs (the machine matches `ref`: this call, this Authenticate-Request).
   */
  | { do: 'verify'; hash: string | undefined; secret: string; ref?: string }
  /** Bytes to the line as they are (PPP frames). */
  | { do: 'write-bytes'; data: Buffer }
  /**
   * Asks RADIUS about a login (src/radius authenticate()); the answer comes back as
   * 'radius-answer'. `hash` is the local check, used only when no server answers and
   * [radius] local_fallback allows it. `ref`: PAP inside PPP, answered with that `ref`.
   */
  | { do: 'radius-auth'; name: string; secret: string; leg: Phase; hash: string | undefined; ref?: string }
  | { do: 'hangup' }
  | { do: 'dial'; number: string }
  | { do: 'ppp'; user?: PppUser; autoPpp: boolean; pppdOptions?: string[] }
  | { do: 'transfer'; call: CallInfo; entry: CallbackEntry; number: string }
  | { do: 'stop-ppp' }
  | { do: 'failure'; keys: string[] }
  | { do: 'success'; keys: string[] }
  | { do: 'record-callback'; entry: string; number: string }
  | ({ do: 'finish'; call?: CallInfo; traffic?: Traffic } & CallEnd)
  | {
      do: 'log';
      level: 'debug' | 'info' | 'notice' | 'warn';
      event: string;
      fields?: Record<string, unknown>;
    };

/** A transition to a new state value, with the effects to perform. */
export interface Transition {
  state: State;
  effects: Effect[];
}

/**
 * What the machine answers to an input: a transition, or none (`state` absent): the
 * input was ignored or only produced effects; the state timer keeps running and the
 * state's generation stays, so results in flight remain valid.
 */
export type Step = Transition | { state?: undefined; effects: Effect[] };
