import type { CallbackEntry, Config, LineConfig } from '../config/types.js';
import { expandTokens, validLoginName } from '../login/index.js';
import {
  asksSecret,
  identify,
  resolveCallback,
  ringEntryFor,
  screenCallerId,
  secretHashFor,
  type Identity,
} from '../policy/index.js';
import type { DialFailure, Outcome, TerminateCause, Traffic } from '../call-end.js';
import { decide } from '../radius/decide.js';
import type { CallInfo, Claim, Effect, Input, LoginClock, Phase, State, Step, Transition } from './types.js';
import { enterPppCallback, onPppCallback, type MachineParts } from './ppp-callback.js';

/**
 * The call state machine of one line: a pure function from (state, input) to the next
 * state and the effects to perform. No I/O, no clocks: `now` and read-only policy
 * queries arrive in the context. line-session.ts performs the effects and feeds their
 * results back as inputs; a state's single timer comes back as { type: 'timeout' }.
 */
export interface MachineContext {
  config: Config;
  line: LineConfig;
  now: number;
  /** Lockout state, read-only here; failures are reported with the 'failure' effect. */
  isLocked(keys: string[]): boolean;
  /** Toll-fraud limits, read-only here; a dial-back is recorded with 'record-callback'. */
  rateCheck(entry: string, number: string): { ok: true } | { ok: false; reason: string };
  /** The administrator switched answering off for this line (a nologin file). */
  answerDisabled(): boolean;
}

/** A transition to `state` (which may equal the current tag: a new state value). */
const to = (state: State, effects: Effect[] = []): Transition => ({ state, effects });
/** No transition: the state, its timer and its generation stay as they are. */
const none = (effects: Effect[] = []): Step => ({ effects });

export function transition(state: State, input: Input, ctx: MachineContext): Step {
  if (input.type === 'stop') return stop(state);
  switch (state.tag) {
    case 'idle':
      return onIdle(input, ctx);
    case 'answering':
      return onAnswering(state, input, ctx);
    case 'ring-back':
      return onRingBack(state, input, ctx);
    case 'settling':
      if (input.type === 'timeout')
        return promptLogin(state.call, state.phase, 0, ctx, true, freshClock(ctx));
      if (input.type === 'noise') {
        // Quiet again from now, but never past the bound: a talking line gets its prompt.
        const ms = Math.min(ctx.line.timing.settleMs, state.until - ctx.now);
        return ms > 0 ? to({ ...state }, [{ do: 'timer', ms }]) : none();
      }
      return lost(state, input);
    case 'login':
      return onLogin(state, input, ctx);
    case 'verifying':
      return onVerifying(state, input, ctx);
    case 'announcing':
      if (input.type === 'timeout' || input.type === 'carrier-lost') {
        return to({ tag: 'dropping', call: state.call, entry: state.entry, number: state.number }, [
          { do: 'hangup' },
        ]);
      }
      return none();
    case 'dropping':
      if (input.type !== 'hung-up') return none();
      if (dialsElsewhere(state.entry, ctx)) {
        const { call, entry, number } = state;
        return to({ tag: 'transferring', call, entry, number }, [{ do: 'transfer', call, entry, number }]);
      }
      return waitThenDial(state.call, state.entry, state.number, 1, state.entry.delayMs);
    case 'transferring':
      return onTransferring(state, input);
    case 'callback-wait':
      if (input.type !== 'timeout') return none();
      return dial(state.call, state.entry, state.number, state.attempt, ctx);
    case 'dialing':
      return onDialing(state, input, ctx);
    case 'ppp':
      return onPpp(state, input);
    case 'ppp-callback':
      return onPppCallback(state, input, ctx, PARTS);
    case 'teardown':
      if (state.farewell && (input.type === 'timeout' || input.type === 'carrier-lost')) {
        return to({ ...state, farewell: false }, [{ do: 'hangup' }]);
      }
      if (input.type !== 'hung-up') return none();
      return to({ tag: 'idle' }, [
        {
          do: 'finish',
          call: state.call,
          outcome: state.outcome,
          terminateCause: state.terminateCause,
          detail: state.detail,
          pppExitCode: state.pppExitCode,
          traffic: state.traffic,
        },
      ]);
    case 'stopped':
      return none();
  }
}

function stop(state: State): Step {
  if (state.tag === 'stopped') return none();
  if (state.tag === 'ppp') return none([{ do: 'stop-ppp' }]);
  if (state.tag === 'idle') return to({ tag: 'stopped' });
  const call = 'call' in state ? state.call : undefined;
  const effects: Effect[] = [];
  if (call) {
    effects.push({ do: 'finish', call, outcome: 'daemon-stopped', terminateCause: 'Admin-Reboot' });
  }
  return to({ tag: 'stopped' }, effects);
}

function teardown(
  call: CallInfo | undefined,
  outcome: Outcome,
  terminateCause: TerminateCause,
  detail?: string,
  ppp?: { exitCode: number | null; traffic?: Traffic },
): Transition {
  const log: Effect = {
    do: 'log',
    level: 'debug', // the call's one info line is call-end, once it is accounted
    event: 'call-ending',
    fields: { outcome, terminateCause, ...(detail ? { detail } : {}) },
  };
  const pppExitCode = ppp?.exitCode;
  const traffic = ppp?.traffic;
  return to({ tag: 'teardown', call, outcome, terminateCause, detail, pppExitCode, traffic }, [
    log,
    { do: 'hangup' },
  ]);
}

/**
 * Ends the call with a last text to the caller. The hang-up waits announceMs, so the
 * words are out of the modem before DTR drops (mgetty pauses the same way).
 */
function farewell(
  call: CallInfo,
  text: string,
  ctx: MachineContext,
  outcome: Outcome,
  terminateCause: TerminateCause,
  detail?: string,
): Transition {
  const end = teardown(call, outcome, terminateCause, detail);
  const log = end.effects.filter((e) => e.do === 'log');
  return to({ ...(end.state as Extract<State, { tag: 'teardown' }>), farewell: true }, [
    ...log,
    { do: 'write', text },
    { do: 'timer', ms: ctx.line.timing.announceMs },
  ]);
}

/** Carrier loss or the modem's own NO CARRIER ends the call in any connected state. */
function lost(state: State, input: Input): Step {
  if (input.type === 'carrier-lost' && 'call' in state) {
    return teardown(state.call, 'carrier-lost', 'Lost-Carrier', `during ${state.tag}`);
  }
  return none();
}

function onIdle(input: Input, ctx: MachineContext): Step {
  if (input.type === 'callback') {
    const { call, entry, number } = input;
    return to({ tag: 'callback-wait', call, entry, number, attempt: 1 }, [
      { do: 'log', level: 'info', event: 'callback-taken-over', fields: { entry: entry.name, number } },
      { do: 'timer', ms: entry.delayMs },
    ]);
  }
  if (input.type === 'ring') {
    const ringBack = startRingBack(input, ctx);
    if (ringBack) return ringBack;
  }
  if (input.type !== 'ring' || !ctx.line.answer) return none();
  if (input.count < ctx.line.rings) return none();
  if (ctx.answerDisabled()) {
    return none([
      {
        do: 'log',
        level: 'info',
        event: 'ring-ignored',
        fields: { reason: 'nologin file', count: input.count },
      },
    ]);
  }
  if (input.callerId && ctx.isLocked([`cid:${input.callerId}`])) {
    return none([
      { do: 'log', level: 'warn', event: 'ring-ignored', fields: { reason: 'caller locked out' } },
    ]);
  }
  const call: CallInfo = {
    callId: input.callId,
    startedAt: input.now,
    callerId: input.callerId,
    logins: [],
  };
  // The answer has its own timeout in the modem; this bound also covers what comes
  // before it (the UUCP lock in a directory anyone can write to), so the state ends.
  const t = ctx.line.timing;
  return to({ tag: 'answering', call }, [
    { do: 'answer' },
    { do: 'timer', ms: t.answerMs + 2 * t.commandMs },
  ]);
}

/** A ring-back state lasts at most this long, however long the rings go on. */
export const RING_BACK_MAX_MS = 5 * 60_000;

/**
 * A RING on an idle line: a listed caller ID starts a ring-back (never answered); on a
 * line that does not answer, any ring is held until the rings stop so that it gets its
 * record. Otherwise undefined: the ring is an ordinary call (or nothing, as before).
 * The administrator's nologin file stops ring-backs too.
 */
function startRingBack(input: Extract<Input, { type: 'ring' }>, ctx: MachineContext): Step | undefined {
  const ringEntries = ctx.config.callbacks.some((c) => c.trigger === 'ring');
  if (!ringEntries) return undefined;
  const entry = ringEntryFor(ctx.config.callbacks, input.callerId);
  if (!entry && ctx.line.answer) return undefined;
  if (ctx.answerDisabled()) return undefined;
  const call: CallInfo = { callId: input.callId, startedAt: input.now, callerId: input.callerId, logins: [] };
  const state = {
    tag: 'ring-back' as const,
    call,
    entry,
    lastRing: ctx.now,
    until: ctx.now + RING_BACK_MAX_MS,
  };
  const log: Effect = entry
    ? { do: 'log', level: 'info', event: 'ring-back-waiting', fields: { entry: entry.name } }
    : { do: 'log', level: 'debug', event: 'ring-not-answered', fields: { count: input.count } };
  return to(state, [log, ringGapTimer(state, ctx)]);
}

function ringGapMs(entry: CallbackEntry | undefined, ctx: MachineContext): number {
  return entry?.ringGapMs ?? ctx.line.timing.ringGapMs;
}

/** The ring-gap timer from the last RING, never past the state's bound. */
function ringGapTimer(
  state: { entry?: CallbackEntry; lastRing: number; until: number },
  ctx: MachineContext,
): Effect {
  const end = Math.min(state.lastRing + ringGapMs(state.entry, ctx), state.until);
  return { do: 'timer', ms: Math.max(0, end - ctx.now) };
}

function onRingBack(state: Extract<State, { tag: 'ring-back' }>, input: Input, ctx: MachineContext): Step {
  if (input.type === 'ring') {
    // The caller ID often comes with the second RING: a held ring may turn out listed.
    const callerId = state.call.callerId ?? input.callerId;
    const entry = state.entry ?? ringEntryFor(ctx.config.callbacks, callerId);
    const next = { ...state, call: { ...state.call, callerId }, entry, lastRing: ctx.now };
    const effects: Effect[] = [];
    if (entry && !state.entry) {
      effects.push({ do: 'log', level: 'info', event: 'ring-back-waiting', fields: { entry: entry.name } });
    }
    return to(next, [...effects, ringGapTimer(next, ctx)]);
  }
  if (input.type !== 'timeout') return none();
  const end = (outcome: Outcome, detail: string, level: 'info' | 'notice' | 'warn'): Step =>
    to({ tag: 'idle' }, [
      { do: 'log', level, event: outcome, fields: { entry: state.entry?.name, reason: detail } },
      { do: 'finish', call: state.call, outcome, terminateCause: 'Service-Unavailable', detail },
    ]);
  if (!state.entry) return end('ring-not-listed', 'no ring-back entry lists this caller ID', 'info');
  // The timer was armed for the state's bound, not for the gap: still ringing.
  if (state.lastRing + ringGapMs(state.entry, ctx) > state.until) {
    return end('ring-back-refused', 'the rings did not stop', 'warn');
  }
  const entry = state.entry;
  const keys = [`name:${entry.name}`, ...(state.call.callerId ? [`cid:${state.call.callerId}`] : [])];
  if (ctx.isLocked(keys)) return end('ring-back-refused', 'locked out', 'notice');
  // Only ever the entry's own number: nothing the caller sent reaches the dial.
  const checked = resolveCallback(entry);
  if (!checked.ok) return end('ring-back-refused', `stored number unusable: ${checked.reason}`, 'warn');
  const number = checked.dial;
  const limit = ctx.rateCheck(entry.name, number);
  if (!limit.ok) return end('ring-back-refused', limit.reason, 'notice');
  const call = { ...state.call, callback: { entry: entry.name, number, attempts: 0 } };
  const accepted: Effect[] = [
    { do: 'record-callback', entry: entry.name, number },
    {
      do: 'log',
      level: 'info',
      event: 'callback-accepted',
      fields: { entry: entry.name, number, trigger: 'ring' },
    },
  ];
  if (dialsElsewhere(entry, ctx)) {
    return to({ tag: 'transferring', call, entry, number }, [
      ...accepted,
      { do: 'transfer', call, entry, number },
    ]);
  }
  const wait = waitThenDial(call, entry, number, 1, entry.delayMs);
  return to(wait.state, [...accepted, ...wait.effects]);
}

function onAnswering(state: Extract<State, { tag: 'answering' }>, input: Input, ctx: MachineContext): Step {
  if (input.type === 'timeout')
    return teardown(state.call, 'answer-timeout', 'Lost-Carrier', 'no answer result in time');
  if (input.type !== 'answered') return none();
  const r = input.result;
  // Another program (minicom, cu) has the line: we never picked up, so no call to end.
  if (r.kind === 'lock-held') return to({ tag: 'idle' });
  if (r.kind !== 'connect') {
    return teardown(state.call, `answer-${r.kind}`, 'Lost-Carrier');
  }
  const call = { ...state.call, connect: r.text, speed: r.speed };
  return to(settling(call, 1, ctx), [{ do: 'timer', ms: ctx.line.timing.settleMs }]);
}

/** How much longer than `settle` a caller who keeps sending can hold the prompt back. */
export const SETTLE_BOUND_EXTRA_MS = 2_000;

function settling(call: CallInfo, phase: Phase, ctx: MachineContext): State {
  return { tag: 'settling', call, phase, until: ctx.now + ctx.line.timing.settleMs + SETTLE_BOUND_EXTRA_MS };
}

function tokens(call: CallInfo, ctx: MachineContext, number?: string) {
  return {
    tty: ctx.line.name,
    callerId: call.callerId,
    connect: call.connect,
    speed: call.speed,
    host: ctx.config.daemon.hostname,
    now: new Date(ctx.now),
    number,
  };
}

function acceptsPpp(phase: Phase, ctx: MachineContext): boolean {
  // A line with ppp_callback hands PPP at the first login to the PPP engine (PAP + CBCP).
  if (phase === 1 && ctx.line.pppCallback) return true;
  return phase === 1 ? ctx.config.pppd.autoPppBeforeCallback : ctx.config.pppd.autoPppAfterCallback;
}

/** A leg's login clock, started at its first prompt. */
function freshClock(ctx: MachineContext): LoginClock {
  return { deadline: ctx.now + ctx.line.timing.loginMs, warned: false };
}

/** The state timer for what is left of the leg's login time. */
function clockTimer(clock: LoginClock, ctx: MachineContext): Effect {
  return { do: 'timer', ms: Math.max(0, clock.deadline - ctx.now) };
}

/**
 * Shows the prompt (with the issue text first when `issue`) and arms the login timer
 * for what is left of the leg's login time: a new prompt never gives more time.
 */
function promptLogin(
  call: CallInfo,
  phase: Phase,
  failures: number,
  ctx: MachineContext,
  issue: boolean,
  clock: LoginClock,
): Transition {
  return to({ tag: 'login', call, phase, step: 'name', failures, clock }, [
    { do: 'reader', echo: true, detectPpp: acceptsPpp(phase, ctx) },
    { do: 'write', text: promptText(call, ctx, issue) },
    clockTimer(clock, ctx),
  ]);
}

function promptText(call: CallInfo, ctx: MachineContext, issue: boolean): string {
  const login = ctx.config.login;
  return expandTokens((issue ? login.issue : '') + login.prompt, tokens(call, ctx));
}

/**
 * What a typed name may be logged and recorded as. A name that is not in the config
 * is often a password typed one prompt too early, so it is never written anywhere
 * (login(1) does the same with LOG_UNKFAIL_ENAB=no).
 */
export const UNKNOWN_NAME = 'UNKNOWN';

/** The name as logged and recorded for the login in progress (see UNKNOWN_NAME). */
function lastShown(call: CallInfo): string | undefined {
  return call.logins.at(-1);
}

function failureKeys(call: CallInfo, name?: string): string[] {
  const keys: string[] = [];
  // Only configured names get a lockout of their own; unknown ones share the caller ID's.
  if (name && name !== UNKNOWN_NAME) keys.push(`name:${name}`);
  if (call.callerId) keys.push(`cid:${call.callerId}`);
  return keys;
}

/** A refused attempt: the same words whatever was wrong, so names cannot be probed. */
function refuse(
  state: { call: CallInfo; phase: Phase; failures: number; clock: LoginClock },
  ctx: MachineContext,
  name: string | undefined,
  why: string,
  message = 'Login incorrect',
  countFailure = true,
): Transition {
  const failures = state.failures + 1;
  const effects: Effect[] = [
    ...(countFailure ? [{ do: 'failure', keys: failureKeys(state.call, name) } as const] : []),
    { do: 'log', level: 'notice', event: 'login-refused', fields: { login: name, reason: why, failures } },
  ];
  if (failures >= ctx.config.login.maxAttempts) {
    const bye = expandTokens(`\r\n${message}\r\n${ctx.config.login.goodbye}`, tokens(state.call, ctx));
    const end = farewell(state.call, bye, ctx, 'login-refused', 'User-Error', why);
    return to(end.state, [...effects, ...end.effects]);
  }
  const next = promptLogin(state.call, state.phase, failures, ctx, false, state.clock);
  return to(next.state, [...effects, { do: 'write', text: `\r\n${message}\r\n` }, ...next.effects]);
}

function onLogin(state: Extract<State, { tag: 'login' }>, input: Input, ctx: MachineContext): Step {
  switch (input.type) {
    case 'timeout':
      if (!state.clock.warned && ctx.line.timing.loginGraceMs > 0) {
        const clock = { deadline: ctx.now + ctx.line.timing.loginGraceMs, warned: true };
        return to({ ...state, clock }, [
          { do: 'write', text: expandTokens(ctx.config.login.timeoutWarning, tokens(state.call, ctx)) },
          clockTimer(clock, ctx),
        ]);
      }
      return teardown(state.call, 'login-timeout', 'Idle-Timeout');
    case 'cancel':
      return promptLogin(state.call, state.phase, state.failures, ctx, false, state.clock);
    case 'overlong':
      return refuse(state, ctx, undefined, 'input too long');
    case 'ppp-frame':
      if (state.step !== 'name' || !acceptsPpp(state.phase, ctx)) return none();
      if (state.phase === 1 && ctx.line.pppCallback)
        return enterPppCallback(state.call, input.data, ctx, PARTS);
      return startPpp(state.call, undefined, true);
    case 'line':
      return onLoginLine(state, input.text, ctx);
    default:
      return lost(state, input);
  }
}

function onLoginLine(state: Extract<State, { tag: 'login' }>, text: string, ctx: MachineContext): Step {
  if (state.step === 'number') {
    const entry = state.claim?.kind === 'callback' ? state.claim.entry : undefined;
    if (!entry) return refuse(state, ctx, undefined, 'no call-back entry');
    const checked = resolveCallback(entry, text);
    if (!checked.ok) {
      return refuse(state, ctx, entry.name, `number refused: ${checked.reason}`, 'Number not allowed');
    }
    return announce(state.call, entry, checked.dial, ctx);
  }
  if (state.step === 'secret') {
    const claim = state.claim ?? { kind: 'unknown', name: '' };
    const { call, phase, failures, clock } = state;
    const radius = ctx.config.radius;
    // A locked-out caller gets the local refusal; RADIUS is not asked on its behalf.
    if (radius && claimName(claim) !== '' && !ctx.isLocked(failureKeys(call, lastShown(call)))) {
      return to({ tag: 'verifying', call, phase, failures, claim, clock }, [
        { do: 'reader', echo: true, detectPpp: false },
        { do: 'radius-auth', name: claimName(claim), secret: text, leg: phase, hash: secretHashFor(claim) },
        // Every server tried with every retransmission, and a second to spare.
        { do: 'timer', ms: radius.servers.length * (radius.retries + 1) * radius.timeoutMs + 1_000 },
      ]);
    }
    return to({ tag: 'verifying', call, phase, failures, claim, clock }, [
      { do: 'reader', echo: true, detectPpp: false },
      { do: 'verify', hash: secretHashFor(claim), secret: text },
    ]);
  }
  const name = text.trim();
  // An empty line (a caller's script sends CR right after CONNECT) only shows the prompt
  // again: same reader, so what was typed after the CR is kept, and the same clock.
  if (name === '') return none([{ do: 'write', text: promptText(state.call, ctx, false) }]);
  // A line no login name can be (a modem command meant for the caller's own modem, line
  // noise) is not an attempt at a name: nothing to count, nothing of what follows dropped.
  if (!validLoginName(name, ctx.config.login.maxLength)) {
    return none([
      { do: 'log', level: 'info', event: 'login-noise', fields: { length: name.length } },
      { do: 'write', text: promptText(state.call, ctx, false) },
    ]);
  }
  // The name is looked up once; everything after works with what it stands for.
  const id = identify(ctx.config, name);
  const shown = id.kind === 'unknown' ? UNKNOWN_NAME : name;
  const call = { ...state.call, logins: [...state.call.logins, shown] };
  const claim = claimFor(id, state.phase, call, ctx);
  if (ctx.isLocked(failureKeys(call, shown))) {
    // Locked out: same dialogue as a wrong secret, so the lockout cannot be probed either.
    return askSecret({ ...state, call }, { kind: 'unknown', name }, ctx);
  }
  // With [radius] every login has a secret: RADIUS decides, a PIN-less local entry included.
  if (claim.kind === 'callback' && !asksSecret(claim) && !ctx.config.radius) {
    return afterSecret({ ...state, call }, claim, ctx);
  }
  return askSecret({ ...state, call }, claim, ctx);
}

/** What an identity stands for in this phase; anything not allowed here is 'unknown'. */
function claimFor(id: Identity, phase: Phase, call: CallInfo, ctx: MachineContext): Claim {
  const name = id.kind === 'callback' ? id.entry.name : id.kind === 'ppp' ? id.user.name : id.name;
  if (id.kind === 'callback') {
    // A ring-back entry is triggered by a ring only; its name is no login.
    if (id.entry.trigger === 'ring') return { kind: 'unknown', name };
    if (phase !== 1 || !screenCallerId(id.entry.callerId, call.callerId)) return { kind: 'unknown', name };
    return { kind: 'callback', entry: id.entry };
  }
  if (id.kind === 'ppp') {
    if (phase === 1 && !ctx.config.pppd.autoPppBeforeCallback) return { kind: 'unknown', name };
    return { kind: 'ppp', user: id.user };
  }
  return { kind: 'unknown', name };
}

function askSecret(state: Extract<State, { tag: 'login' }>, claim: Claim, ctx: MachineContext): Transition {
  const prompt = expandTokens(ctx.config.login.passwordPrompt, tokens(state.call, ctx));
  return to({ ...state, step: 'secret', claim }, [
    { do: 'reader', echo: false, detectPpp: false },
    { do: 'write', text: prompt },
    clockTimer(state.clock, ctx),
  ]);
}

/** The name a claim stands for (what RADIUS is asked about). */
function claimName(claim: Claim): string {
  return claim.kind === 'callback' ? claim.entry.name : claim.kind === 'ppp' ? claim.user.name : claim.name;
}

/** What the caller reads when no RADIUS server answered (nothing about the name or secret). */
export const RADIUS_UNAVAILABLE = 'Login service unavailable, try again later';

/**
 * RADIUS answered (or did not): decide() says what the answer means. An Access-Reject is
 * a wrong secret like any other (same text, counted); no answer refuses without counting
 * (the caller did nothing wrong), unless local_fallback lets the local check decide.
 */
function onRadiusAnswer(
  state: Extract<State, { tag: 'verifying' }>,
  input: Extract<Input, { type: 'radius-answer' }>,
  ctx: MachineContext,
): Step {
  const name = claimName(state.claim);
  const shown = lastShown(state.call);
  const d = decide(input.result, {
    leg: state.phase,
    name,
    callbacks: ctx.config.callbacks,
    localFallback: ctx.config.radius?.localFallback ?? 'never',
    pppOnFirstLeg: ctx.config.pppd.autoPppBeforeCallback,
  });
  if (d.kind === 'local') return onVerifying(state, { type: 'verified', ok: input.localOk === true }, ctx);
  const said = d.replyMessage === undefined ? [] : [{ do: 'write', text: `\r\n${d.replyMessage}` } as const];
  if (d.kind === 'refuse') {
    const why = `radius: ${d.reason}`;
    let end: Transition;
    if (d.countFailure) end = refuse(state, ctx, shown, why);
    else if (input.result.kind === 'unavailable')
      end = refuse(state, ctx, shown, why, RADIUS_UNAVAILABLE, false);
    else end = refuse(state, ctx, shown, why, 'Login incorrect', false);
    return to(end.state, [...said, ...end.effects]);
  }
  // Accepted: the typed name is a real one now, so it may be recorded.
  const call = { ...state.call, radiusUser: name, logins: [...state.call.logins.slice(0, -1), name] };
  const success: Effect = { do: 'success', keys: failureKeys(call, name) };
  const base = { ...state, call, tag: 'login' as const, step: 'name' as const };
  const next =
    d.kind === 'ppp'
      ? startPpp(call, { kind: 'ppp', user: d.user }, false, d.pppdOptions)
      : afterSecret(base, { kind: 'callback', entry: d.entry }, ctx);
  return to(next.state, [success, ...said, ...next.effects]);
}

function onVerifying(state: Extract<State, { tag: 'verifying' }>, input: Input, ctx: MachineContext): Step {
  if (input.type === 'carrier-lost') return lost(state, input);
  // An answer with `ref` belongs to PAP inside PPP (ppp-callback.ts), never to this login.
  if (input.type === 'radius-answer')
    return input.ref === undefined ? onRadiusAnswer(state, input, ctx) : none();
  // Only a RADIUS question arms this state's timer: its answer is overdue.
  if (input.type === 'timeout') {
    return refuse(state, ctx, lastShown(state.call), 'radius: no answer in time', RADIUS_UNAVAILABLE, false);
  }
  if (input.type !== 'verified') return none();
  const name = lastShown(state.call);
  if (!input.ok || state.claim.kind === 'unknown') return refuse(state, ctx, name, 'wrong name or secret');
  const base = { ...state, tag: 'login' as const, step: 'name' as const };
  const next = afterSecret(base, state.claim, ctx);
  return to(next.state, [{ do: 'success', keys: failureKeys(state.call, name) }, ...next.effects]);
}

function afterSecret(state: Extract<State, { tag: 'login' }>, claim: Claim, ctx: MachineContext): Transition {
  if (claim.kind === 'ppp') return startPpp(state.call, claim, false);
  if (claim.kind !== 'callback') return refuse(state, ctx, lastShown(state.call), 'unknown name');
  const entry = claim.entry;
  if (entry.callerSupplies) {
    return to({ ...state, step: 'number', claim }, [
      { do: 'reader', echo: true, detectPpp: false },
      { do: 'write', text: '\r\nCall-back number: ' },
      clockTimer(state.clock, ctx),
    ]);
  }
  const checked = resolveCallback(entry);
  if (!checked.ok) return refuse(state, ctx, entry.name, `stored number unusable: ${checked.reason}`);
  return announce(state.call, entry, checked.dial, ctx);
}

function announce(call: CallInfo, entry: CallbackEntry, number: string, ctx: MachineContext): Transition {
  const limit = ctx.rateCheck(entry.name, number);
  if (!limit.ok) {
    const text = expandTokens(
      `\r\nCall-back not available now.\r\n${ctx.config.login.goodbye}`,
      tokens(call, ctx),
    );
    return farewell(call, text, ctx, 'rate-limited', 'Service-Unavailable', limit.reason);
  }
  const withCb = { ...call, callback: { entry: entry.name, number, attempts: 0 } };
  const text = expandTokens(ctx.config.login.callbackMessage, tokens(call, ctx, number));
  return to({ tag: 'announcing', call: withCb, entry, number }, [
    { do: 'record-callback', entry: entry.name, number },
    { do: 'log', level: 'info', event: 'callback-accepted', fields: { entry: entry.name, number } },
    { do: 'reader', echo: false, detectPpp: false },
    { do: 'write', text },
    { do: 'timer', ms: ctx.line.timing.announceMs },
  ]);
}

/** The entry names dial-out lines and this line is not one of them. */
function dialsElsewhere(entry: CallbackEntry, ctx: MachineContext): boolean {
  return entry.dialLines.length > 0 && !entry.dialLines.includes(ctx.line.name);
}

/**
 * The call-back goes out on another line: that line's session now owns the call and
 * writes its record; this one is free again. No line free: the call-back fails.
 */
function onTransferring(state: Extract<State, { tag: 'transferring' }>, input: Input): Step {
  if (input.type !== 'transferred') return none();
  if (input.ok) {
    return to({ tag: 'idle' }, [
      { do: 'log', level: 'info', event: 'callback-transferred', fields: { to: input.line } },
    ]);
  }
  return teardown(state.call, 'callback-failed-no-line', 'Callback', 'every dial-out line is busy or down');
}

function waitThenDial(
  call: CallInfo,
  entry: CallbackEntry,
  number: string,
  attempt: number,
  ms: number,
): Transition {
  return to({ tag: 'callback-wait', call, entry, number, attempt }, [{ do: 'timer', ms }]);
}

function dial(
  call: CallInfo,
  entry: CallbackEntry,
  number: string,
  attempt: number,
  ctx: MachineContext,
): Transition {
  const cb = { entry: entry.name, number, attempts: attempt, lastOutcome: call.callback?.lastOutcome };
  return to({ tag: 'dialing', call: { ...call, callback: cb }, entry, number, attempt }, [
    { do: 'log', level: 'info', event: 'dialing', fields: { number, attempt, of: entry.attempts } },
    { do: 'dial', number },
    { do: 'timer', ms: ctx.line.timing.dialMs + ctx.line.timing.commandMs },
  ]);
}

/** Outcomes after which another attempt cannot help: the modem refuses the command. */
const FINAL_DIAL_OUTCOMES: ReadonlySet<DialFailure> = new Set(['error']);

function onDialing(state: Extract<State, { tag: 'dialing' }>, input: Input, ctx: MachineContext): Step {
  if (input.type !== 'dialed' && input.type !== 'timeout') return none();
  const r = input.type === 'dialed' ? input.result : ({ kind: 'timeout' } as const);
  if (r.kind === 'connect') {
    const cb = { ...state.call.callback!, lastOutcome: r.kind };
    const leg = { ...state.call, callback: cb, connect: r.text, speed: r.speed };
    return to(settling(leg, 2, ctx), [
      { do: 'log', level: 'info', event: 'callback-connected', fields: { attempt: state.attempt } },
      { do: 'timer', ms: ctx.line.timing.settleMs },
    ]);
  }
  const kind: DialFailure = r.kind;
  const call = { ...state.call, callback: { ...state.call.callback!, lastOutcome: kind } };
  const log: Effect = {
    do: 'log',
    level: 'warn',
    event: 'dial-failed',
    fields: { number: state.number, attempt: state.attempt, outcome: kind },
  };
  if (state.attempt >= state.entry.attempts || FINAL_DIAL_OUTCOMES.has(kind)) {
    const end = teardown(call, `callback-failed-${kind}`, 'Callback', `${state.attempt} attempt(s)`);
    return to(end.state, [log, ...end.effects]);
  }
  // Back on hook (and the modem re-initialised) before the next try; the runner
  // finishes the hang-up before it arms the retry timer.
  return to(
    { tag: 'callback-wait', call, entry: state.entry, number: state.number, attempt: state.attempt + 1 },
    [log, { do: 'hangup' }, { do: 'timer', ms: state.entry.retryDelayMs }],
  );
}

function startPpp(
  call: CallInfo,
  claim: Extract<Claim, { kind: 'ppp' }> | undefined,
  autoPpp: boolean,
  pppdOptions?: string[],
): Transition {
  const next = { ...call, pppUser: claim?.user.name };
  return to({ tag: 'ppp', call: next, autoPpp }, [
    { do: 'log', level: 'info', event: 'ppp-start', fields: { user: claim?.user.name, autoPpp } },
    { do: 'ppp', user: claim?.user, autoPpp, ...(pppdOptions?.length ? { pppdOptions } : {}) },
  ]);
}

function onPpp(state: Extract<State, { tag: 'ppp' }>, input: Input): Step {
  if (input.type === 'ppp-exit') {
    return teardown(state.call, input.outcome, input.terminateCause, input.description, {
      exitCode: input.code,
      traffic: input.traffic,
    });
  }
  if (input.type === 'ppp-failed')
    return teardown(state.call, 'ppp-spawn-failed', 'NAS-Error', input.message);
  return none();
}

/** The steps call-back inside PPP (ppp-callback.ts) ends in. */
const PARTS: MachineParts = {
  teardown: (call, outcome, cause, detail) => teardown(call, outcome, cause, detail),
  startPpp: (call, claim, autoPpp, pppdOptions) => startPpp(call, claim, autoPpp, pppdOptions),
  claimFor: (id, phase, call, ctx) => claimFor(id, phase, call, ctx as MachineContext),
  failureKeys,
  unknownName: UNKNOWN_NAME,
};
