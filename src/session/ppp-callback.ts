import type { CallbackEntry, Config, LineConfig } from '../config/types.js';
import type { Outcome, TerminateCause } from '../call-end.js';
import { identify, resolveCallback } from '../policy/index.js';
import { decide as radiusDecide, type Decision } from '../radius/decide.js';
import {
  deframe,
  encodeSends,
  ENGINE_DEFAULTS,
  engineStep,
  initialDeframe,
  initialEngine,
  wakeAt,
  type EngineConfig,
  type EngineContext,
  type EngineEvent,
  type EngineInput,
  type NumberCheck,
  type PapDecision,
} from '../ppp/engine/index.js';
import type { Identity } from '../policy/identify.js';
import type { CallInfo, Claim, Effect, Input, Phase, State, Step, Transition } from './types.js';

/**
 * Call-back inside PPP on the first leg (docs/ppp-callback.md). On a line with
 * `ppp_callback`, PPP frames at the first login go to the PPP engine, whose state is plain
 * data kept in the session state, so this is a pure transition like the rest of the
 * machine. PAP goes through the 'verify' effect (the dummy hash for an unknown name), or
 * with [radius] the 'radius-auth' effect as the text login's secret, then the lockouts and
 * the rate limits; a number the caller gives in CBCP through the entry's number rules. The
 * engine's one final event ends the state: hang-up and today's call-back, the line to
 * pppd (handoff), or the call's record.
 */

type PppState = Extract<State, { tag: 'ppp-callback' }>;

/** What of the machine's context this part reads (machine.ts's MachineContext fits). */
export interface PppCallbackContext {
  config: Config;
  line: LineConfig;
  now: number;
  isLocked(keys: string[]): boolean;
  rateCheck(entry: string, number: string): { ok: true } | { ok: false; reason: string };
}

/** The machine's own steps this part ends in (passed in: machine.ts imports this file). */
export interface MachineParts {
  teardown(call: CallInfo, outcome: Outcome, cause: TerminateCause, detail?: string): Transition;
  startPpp(
    call: CallInfo,
    claim: Extract<Claim, { kind: 'ppp' }> | undefined,
    autoPpp: boolean,
    pppdOptions?: string[],
  ): Transition;
  claimFor(id: Identity, phase: Phase, call: CallInfo, ctx: PppCallbackContext): Claim;
  failureKeys(call: CallInfo, name?: string): string[];
  /** The name as logged and recorded for an identity nobody configured. */
  unknownName: string;
}

const to = (state: State, effects: Effect[] = []): Transition => ({ state, effects });
const none = (effects: Effect[] = []): Step => ({ effects });

/** The engine's timing (docs/ppp-callback.md): the whole first leg is bounded at 2 minutes. */
export const PPP_ENGINE_CONFIG: EngineConfig = { ...ENGINE_DEFAULTS, acceptCallback: true };

export const PPP_CALLBACK_FAILED: Outcome = 'ppp-callback-failed';

/**
 * Magic numbers without a random source in a pure machine: a hash of the call, the time and
 * a counter. They only have to differ from the caller's (LCP's loop-back check).
 */
function magicSource(call: CallInfo, now: number): () => number {
  let n = 0;
  return () => {
    const text = `${call.callId}:${now}:${n++}`;
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
    return h >>> 0;
  };
}

const noEntry = (): NumberCheck => ({ ok: false, reason: 'no call-back entry' });

/**
 * With [radius] the decision may wait for every server and retransmission (the text
 * login's budget, plus a second): the engine's decision deadline is at least that.
 */
function engineConfig(ctx: PppCallbackContext): EngineConfig {
  const r = ctx.config.radius;
  if (!r) return PPP_ENGINE_CONFIG;
  const budget = r.servers.length * (r.retries + 1) * r.timeoutMs + 1_000;
  return { ...PPP_ENGINE_CONFIG, decideMs: Math.max(PPP_ENGINE_CONFIG.decideMs, budget) };
}

function engineCtx(call: CallInfo, ctx: PppCallbackContext, check = noEntry as EngineContext['checkNumber']) {
  return { now: ctx.now, config: engineConfig(ctx), random: magicSource(call, ctx.now), checkNumber: check };
}

/** PPP frames at the first login of a line with ppp_callback: the engine takes the line. */
export function enterPppCallback(
  call: CallInfo,
  data: Buffer | undefined,
  ctx: PppCallbackContext,
  parts: MachineParts,
): Transition {
  const engine = initialEngine(engineCtx(call, ctx));
  const state: PppState = { tag: 'ppp-callback', call, engine, deframe: initialDeframe(), bad: 0 };
  const start: Effect = { do: 'log', level: 'info', event: 'ppp-callback-start', fields: {} };
  const next = feed(state, data ?? Buffer.alloc(0), ctx, parts);
  return to(next.state, [start, ...next.effects]);
}

export function onPppCallback(
  state: PppState,
  input: Input,
  ctx: PppCallbackContext,
  parts: MachineParts,
): Step {
  switch (input.type) {
    case 'ppp-bytes':
      return feed(state, input.data, ctx, parts);
    case 'timeout':
      return run(state, [{ type: 'tick' }], ctx, parts);
    case 'pap-verified':
      // Only the answer to the request being decided: not an older one of a link the
      // peer renegotiated since (another name, say), nor one of another call.
      if (input.ref !== state.papRef || state.engine.phase !== 'deciding' || !state.claim) return none();
      return decide({ ...state, papRef: undefined }, input.ok, ctx, parts);
    case 'radius-answer':
      // The same matching: only the answer to the request RADIUS was asked about.
      if (input.ref === undefined || input.ref !== state.papRef) return none();
      if (state.engine.phase !== 'deciding' || !state.claim) return none();
      return onRadius({ ...state, papRef: undefined }, input, ctx, parts);
    case 'carrier-lost':
      // A caller that hangs up instead of ending LCP has asked for the call-back all the same.
      if (state.agreed && state.entry) return dropForCallback(state, state.entry, state.agreed, []);
      return parts.teardown(state.call, 'carrier-lost', 'Lost-Carrier', 'during ppp-callback');
    default:
      return none();
  }
}

function feed(state: PppState, data: Buffer, ctx: PppCallbackContext, parts: MachineParts): Transition {
  const d = deframe(state.deframe, data);
  const inputs: EngineInput[] = d.frames.map((f) => ({ type: 'frame', protocol: f.protocol, info: f.info }));
  const bad = state.bad + d.bad;
  if (d.bad > 0) inputs.push({ type: 'bad-frames', total: bad });
  return run({ ...state, deframe: d.state, bad }, inputs, ctx, parts);
}

/**
 * The check of a number the caller gives in CBCP (type 2): the entry's number rules as
 * at the text prompt, then the rate limits. Refusals are collected for the record.
 */
function numberCheck(
  state: PppState,
  ctx: PppCallbackContext,
  refusals: string[],
): EngineContext['checkNumber'] {
  const entry = state.entry;
  return (typed) => {
    if (!entry) return noEntry();
    const checked = resolveCallback(entry, typed);
    const limit = checked.ok ? ctx.rateCheck(entry.name, checked.dial) : undefined;
    const out: NumberCheck = !checked.ok ? checked : limit && !limit.ok ? limit : checked;
    if (!out.ok) refusals.push(out.reason);
    return out;
  };
}

/** CBCP carries no secret: its packets are logged whole (debug), as pppd's `debug` shows them. */
const PROTO_CBCP = 0xc029;
function cbcpLog(dir: 'sent' | 'rcvd', packet: Buffer): Effect {
  return { do: 'log', level: 'debug', event: 'ppp-cbcp', fields: { dir, packet: packet.toString('hex') } };
}

/** Runs the engine over `inputs`, then acts on what it reported. */
function run(
  state: PppState,
  inputs: EngineInput[],
  ctx: PppCallbackContext,
  parts: MachineParts,
): Transition {
  const refusals: string[] = [];
  const ectx = engineCtx(state.call, ctx, numberCheck(state, ctx, refusals));
  let engine = state.engine;
  const bytes: Buffer[] = [];
  const effects: Effect[] = [];
  const events: EngineEvent[] = [];
  for (const input of inputs) {
    if (input.type === 'frame' && input.protocol === PROTO_CBCP) effects.push(cbcpLog('rcvd', input.info));
    const step = engineStep(engine, input, ectx);
    engine = step.state;
    bytes.push(encodeSends(engine, step.effects));
    for (const e of step.effects) {
      if (e.do === 'send' && e.protocol === PROTO_CBCP) effects.push(cbcpLog('sent', e.data));
      if (e.do === 'event') events.push(e.event);
      else if (e.do === 'log') {
        effects.push({
          do: 'log',
          level: 'debug',
          event: `ppp-${e.event}`,
          ...(e.fields ? { fields: e.fields } : {}),
        });
      }
    }
  }
  const out = Buffer.concat(bytes);
  const written: Effect[] = out.length > 0 ? [{ do: 'write-bytes', data: out }] : [];
  let next: PppState = { ...state, engine };
  if (refusals.length > 0) {
    next = { ...next, refused: `number refused: ${refusals[0]}` };
    effects.push(
      { do: 'failure', keys: parts.failureKeys(state.call, state.entry?.name) },
      { do: 'log', level: 'notice', event: 'ppp-callback-number-refused', fields: { reason: refusals[0] } },
    );
  }
  return settle(next, [...written, ...effects], events, ctx, parts);
}

/**
 * After the engine ran: a final event leaves the state, a pap-request asks for the
 * secret check, and otherwise the state timer is armed for the engine's next deadline.
 */
function settle(
  state: PppState,
  effects: Effect[],
  events: EngineEvent[],
  ctx: PppCallbackContext,
  parts: MachineParts,
): Transition {
  let s = state;
  let papRequest: Extract<EngineEvent, { type: 'pap-request' }> | undefined;
  for (const ev of events) {
    switch (ev.type) {
      case 'pap-request':
        papRequest = ev;
        break;
      case 'callback-agreed':
        s = agree(s, ev, effects);
        break;
      case 'terminated':
        if (s.agreed && s.entry) {
          // Our Terminate-Ack is on its way: let it out of the modem before DTR drops
          // (pppd exits 14 only when it arrives), as a farewell text is let out.
          const { call, entry } = s;
          const number = s.agreed.number;
          const wait = waitingEntry(entry, s.agreed.delay);
          return to({ tag: 'announcing', call, entry: wait, number }, [
            ...effects,
            { do: 'timer', ms: ctx.line.timing.announceMs },
          ]);
        }
        return end(s, effects, parts, 'terminated without a call-back');
      case 'handoff': {
        const claim = s.claim?.kind === 'ppp' ? s.claim : undefined;
        const log: Effect = {
          do: 'log',
          level: 'info',
          event: 'ppp-callback-handoff',
          fields: { reason: ev.reason },
        };
        return withEffects(parts.startPpp(s.call, claim, true, s.pppdOptions), [...effects, log]);
      }
      case 'failed':
        // Agreed, then the link did not end in order: the caller asked all the same.
        if (s.agreed && s.entry) return dropForCallback(s, s.entry, s.agreed, effects);
        return end(s, effects, parts, ev.reason);
    }
  }
  if (papRequest) return askVerify(s, papRequest.name, papRequest.secret, effects, ctx, parts);
  if (s.engine.phase === 'done') return end(s, effects, parts, 'engine ended without a result');
  return to(s, [...effects, timerFor(s, ctx)]);
}

/** The call's record: User-Error when the caller's credentials or number were refused. */
function end(s: PppState, effects: Effect[], parts: MachineParts, reason: string): Transition {
  const detail = s.refused ?? reason;
  const cause: TerminateCause = s.refused ? 'User-Error' : 'NAS-Request';
  const log: Effect = {
    do: 'log',
    level: 'notice',
    event: 'ppp-callback-failed',
    fields: { reason: detail },
  };
  return withEffects(parts.teardown(s.call, PPP_CALLBACK_FAILED, cause, detail), [...effects, log]);
}

function agree(
  s: PppState,
  ev: Extract<EngineEvent, { type: 'callback-agreed' }>,
  effects: Effect[],
): PppState {
  const entry = s.entry;
  if (!entry) return s; // the engine runs CBCP only for an entry
  const call = { ...s.call, callback: { entry: entry.name, number: ev.number, attempts: 0 } };
  effects.push(
    { do: 'record-callback', entry: entry.name, number: ev.number },
    {
      do: 'log',
      level: 'info',
      event: 'callback-accepted',
      fields: { entry: entry.name, number: ev.number, via: `cbcp-${ev.kind}`, delay: ev.delay },
    },
  );
  return { ...s, call, agreed: { number: ev.number, delay: ev.delay } };
}

/** The entry as the call-back uses it: the wait is max(delay, the caller's capped CBCP delay). */
function waitingEntry(entry: CallbackEntry, cbcpDelay: number): CallbackEntry {
  const asked = Math.min(cbcpDelay * 1000, entry.ppp?.maxDelayMs ?? 0);
  return { ...entry, delayMs: Math.max(entry.delayMs, asked) };
}

/** Straight to the hang-up (the caller is gone or the link is broken) and today's call-back. */
function dropForCallback(
  s: PppState,
  entry: CallbackEntry,
  agreed: { number: string; delay: number },
  effects: Effect[],
): Transition {
  const wait = waitingEntry(entry, agreed.delay);
  return to({ tag: 'dropping', call: s.call, entry: wait, number: agreed.number }, [
    ...effects,
    { do: 'log', level: 'info', event: 'ppp-callback-link-lost', fields: { after: 'callback-agreed' } },
    { do: 'hangup' },
  ]);
}

function withEffects(t: Transition, before: Effect[]): Transition {
  return to(t.state, [...before, ...t.effects]);
}

function timerFor(s: PppState, ctx: PppCallbackContext): Effect {
  const at = wakeAt(s.engine, engineConfig(ctx)) ?? ctx.now;
  return { do: 'timer', ms: Math.max(0, at - ctx.now) };
}

function askVerify(
  s: PppState,
  name: string,
  secret: string,
  effects: Effect[],
  ctx: PppCallbackContext,
  parts: MachineParts,
): Transition {
  const id = identify(ctx.config, name);
  let claim = parts.claimFor(id, 1, s.call, ctx);
  // Only an entry with [callbacks.ppp] may authenticate inside PPP.
  if (claim.kind === 'callback' && !claim.entry.ppp) claim = { kind: 'unknown', name };
  const hash =
    claim.kind === 'callback'
      ? claim.entry.pinHash
      : claim.kind === 'ppp'
        ? claim.user.passwordHash
        : undefined;
  // A name nobody configured is often a password in the wrong field: never logged.
  const shown = id.kind === 'unknown' ? parts.unknownName : name;
  const call = { ...s.call, logins: [...s.call.logins, shown] };
  const papCount = (s.papCount ?? 0) + 1;
  const papRef = `${call.callId}:pap${papCount}`;
  const next: PppState = { ...s, call, claim, papCount, papRef };
  const request: Effect = { do: 'log', level: 'info', event: 'ppp-pap-request', fields: { login: shown } };
  // With [radius], RADIUS decides as for the text login's secret; a locked-out name or
  // caller ID is not asked about (the local check below refuses it).
  if (ctx.config.radius && name !== '' && !ctx.isLocked(parts.failureKeys(call, shown))) {
    return to(next, [
      ...effects,
      request,
      { do: 'radius-auth', name, secret, leg: 1, hash, ref: papRef },
      timerFor(next, ctx),
    ]);
  }
  // An unknown name is checked against the dummy hash (hash undefined), as at the text login.
  return to(next, [
    ...effects,
    { do: 'log', level: 'info', event: 'ppp-pap-request', fields: { login: shown } },
    { do: 'verify', hash, secret, ref: papRef },
    timerFor(next, ctx),
  ]);
}

/** What PAP may offer an entry: its CBCP types and number, or why it may not. */
type Offer = { ok: true; decision: PapDecision; entry?: CallbackEntry } | { ok: false; why: string };

/**
 * The call-back an entry may negotiate: its [callbacks.ppp] types, the admin type only
 * when its stored number resolves, and the rate limits for that number. `ppp` overrides the
 * entry's table (a number from RADIUS is offered as the administrator-defined type).
 */
function offerFor(e: CallbackEntry, ppp: NonNullable<CallbackEntry['ppp']>, ctx: PppCallbackContext): Offer {
  const admin = e.callerSupplies ? undefined : resolveCallback(e);
  const limit = admin?.ok ? ctx.rateCheck(e.name, admin.dial) : { ok: true as const };
  if (admin && !admin.ok) return { ok: false, why: `stored number unusable: ${admin.reason}` };
  if (!limit.ok) return { ok: false, why: `rate limited: ${limit.reason}` };
  const types = ppp.types.filter((t) => t !== 'admin' || admin?.ok);
  return {
    ok: true,
    entry: e,
    decision: {
      ok: true,
      callback: {
        types,
        ...(admin?.ok && types.includes('admin') ? { adminNumber: admin.dial } : {}),
        withoutCbcp: ppp.withoutCbcp,
      },
    },
  };
}

function decide(s: PppState, ok: boolean, ctx: PppCallbackContext, parts: MachineParts): Step {
  const claim = s.claim!;
  const shown = s.call.logins.at(-1);
  const keys = parts.failureKeys(s.call, shown);
  let offer: Offer = { ok: false, why: 'wrong name or secret' };
  if (ok && claim.kind !== 'unknown' && ctx.isLocked(keys)) offer = { ok: false, why: 'locked out' };
  else if (ok && claim.kind === 'ppp') offer = { ok: true, decision: { ok: true } };
  else if (ok && claim.kind === 'callback' && claim.entry.ppp)
    offer = offerFor(claim.entry, claim.entry.ppp, ctx);
  // A rate limit refuses the call-back, not the credentials: no lockout count for it.
  const counted = offer.ok || !offer.why.startsWith('rate limited');
  return conclude(s, offer, counted, keys, ctx, parts);
}

/**
 * PAP decided: the lockout count (`counted` for a refusal), the log line and the engine's
 * pap-result (Authenticate-Ack and CBCP, or Nak and LCP Terminate).
 */
function conclude(
  s: PppState,
  offer: Offer,
  counted: boolean,
  keys: string[],
  ctx: PppCallbackContext,
  parts: MachineParts,
): Transition {
  const shown = s.call.logins.at(-1);
  const effects: Effect[] = offer.ok
    ? [
        { do: 'success', keys },
        { do: 'log', level: 'info', event: 'ppp-pap-accepted', fields: { login: shown } },
      ]
    : [
        ...(counted ? [{ do: 'failure', keys } as const] : []),
        {
          do: 'log',
          level: 'notice',
          event: 'login-refused',
          fields: { login: shown, reason: offer.why, via: 'pap' },
        },
      ];
  const next: PppState = offer.ok
    ? { ...s, entry: offer.entry }
    : { ...s, entry: undefined, refused: `PAP refused: ${offer.why}` };
  const decision: PapDecision = offer.ok ? offer.decision : { ok: false };
  const step = run(next, [{ type: 'pap-result', decision }], ctx, parts);
  return to(step.state, [...effects, ...step.effects]);
}

/**
 * RADIUS answered the PAP request: decide() says what the answer means, exactly as for the
 * text login's secret. An Access-Reject counts towards the lockouts; no answer refuses
 * without counting (unless local_fallback lets the local check decide); an Accept with
 * Callback-Number or Callback-Id gets CBCP with that entry, one without is a PPP user.
 */
function onRadius(
  s: PppState,
  input: Extract<Input, { type: 'radius-answer' }>,
  ctx: PppCallbackContext,
  parts: MachineParts,
): Step {
  const name = radiusName(s);
  const d: Decision = radiusDecide(input.result, {
    leg: 1,
    name,
    callbacks: ctx.config.callbacks,
    localFallback: ctx.config.radius?.localFallback ?? 'never',
    pppOnFirstLeg: ctx.config.pppd.autoPppBeforeCallback,
  });
  if (d.kind === 'local') return decide(s, input.localOk === true, ctx, parts);
  const shown = s.call.logins.at(-1);
  if (d.kind === 'refuse') {
    const offer: Offer = { ok: false, why: `radius: ${d.reason}` };
    return conclude(s, offer, d.countFailure, parts.failureKeys(s.call, shown), ctx, parts);
  }
  // Accepted: the name is a real one now, so it may be logged and recorded.
  const call = { ...s.call, radiusUser: name, logins: [...s.call.logins.slice(0, -1), name] };
  const keys = parts.failureKeys(call, name);
  const accepted: PppState = { ...s, call };
  if (d.kind === 'ppp') {
    const claim: Claim = { kind: 'ppp', user: d.user };
    const offer: Offer = { ok: true, decision: { ok: true } };
    return conclude({ ...accepted, claim, pppdOptions: d.pppdOptions }, offer, true, keys, ctx, parts);
  }
  const fromRadius = input.result.kind === 'accept' && !!input.result.callbackNumber;
  const e = d.entry;
  let offer: Offer;
  if (fromRadius) {
    // RADIUS's number (normalised and checked as a stored one) is the administrator-defined type.
    const ppp = {
      types: ['admin' as const],
      withoutCbcp: e.ppp?.withoutCbcp ?? 'refuse',
      maxDelayMs: e.ppp?.maxDelayMs ?? 0,
    };
    offer = offerFor({ ...e, ppp }, ppp, ctx);
  } else if (e.ppp) offer = offerFor(e, e.ppp, ctx);
  else offer = { ok: false, why: `radius: Callback-Id entry "${e.name}" has no [callbacks.ppp]` };
  const counted = false; // RADIUS accepted the secret: a refusal here is the configuration's
  return conclude({ ...accepted, claim: { kind: 'callback', entry: e } }, offer, counted, keys, ctx, parts);
}

/** The name RADIUS is asked about: the PAP name as the claim holds it. */
function radiusName(s: PppState): string {
  const c = s.claim!;
  return c.kind === 'callback' ? c.entry.name : c.kind === 'ppp' ? c.user.name : c.name;
}
