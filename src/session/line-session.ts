import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CallbackEntry, Config } from '../config/types.js';
import { errnoCode } from '../errors.js';
import { LineReader } from '../login/index.js';
import type { Modem } from '../modem/index.js';
import { pppdExitLevel, pppdOutcome, pppdTraffic } from '../ppp/index.js';
import type { Transport } from '../serial/transport.js';
import { transition, type MachineContext } from './machine.js';
import type { PppRun } from '../ppp/index.js';
import type { SessionDeps } from './deps.js';
import type { CallInfo, Effect, Input, State } from './types.js';
import { LineKeeper } from './line-keeper.js';
import { CallAccounting } from '../radius/call.js';
import type { AuthResult } from '../radius/auth.js';
import type { TerminateCause, Traffic } from '../call-end.js';

/** Longest PIN or password read at a prompt. */
const SECRET_MAX_LENGTH = 256;

/** Inputs that come from what the caller types. */
const TYPED_INPUTS: ReadonlySet<Input['type']> = new Set([
  'line',
  'cancel',
  'overlong',
  'ppp-frame',
  'noise',
]);

/**
 * How many typed inputs may wait for the machine. A caller who sends faster than the
 * line can answer (64 KiB of CRs is 65 536 empty lines) loses the excess, as a
 * terminal would: each line costs a prompt written back, so an unbounded queue is
 * unbounded work and memory.
 */
const MAX_PENDING_TYPED = 4;
const FLOOD_ECHO = Buffer.from('\r\n');

/**
 * The effect loop of one line: the only place where the session touches I/O.
 * Inputs (modem events, effect results, the state timer) go through one queue, so
 * the machine sees them one at a time. Long effects (answer, dial, verify, pppd)
 * run in the background and come back as inputs stamped with the state generation they
 * were started in; a result from an earlier state is dropped.
 */
export class LineSession {
  private state: State = { tag: 'idle' };
  /** Bumped at every transition; a background result stamped with an older one is stale. */
  private generation = 0;
  private queue: { input: Input; generation?: number }[] = [];
  private draining = false;
  private timer: NodeJS.Timeout | undefined;
  private reader: LineReader | undefined;
  private readerOn = false;
  /**
   * PPP was seen at the prompt of a line with ppp_callback: every byte goes to the
   * machine as it came ('ppp-bytes'), so nothing the caller sends after its first frame is lost.
   */
  private rawPpp = false;
  /**
   * The last bytes the caller sent before the prompt ended mid-line (a command for its own
   * modem, cut by the prompt): the first reader after the settle drops the rest of that
   * line (LineReader's continuesLine), so its tail is never taken for a login name.
   */
  private settleMidLine = false;
  private ppp: PppRun | undefined;
  /** How long this call's last local secret check (the KDF) took, for the ppp-running log. */
  private secretCheckMs: number | undefined;
  private stopping = false;
  /** Typed inputs dropped in this call (logged once per call). */
  private dropped = 0;
  private readonly keeper: LineKeeper;
  private readonly unsubs: (() => void)[] = [];
  private stoppedResolve: (() => void) | undefined;
  readonly stopped: Promise<void>;
  private config: Config;
  /** RADIUS accounting of the call in progress (both legs), when [radius] accounts. */
  private acct: CallAccounting | undefined;

  constructor(private readonly deps: SessionDeps) {
    this.config = deps.config();
    this.keeper = new LineKeeper(
      deps,
      () => this.onLineUp(),
      (e) => this.onLineDown(e),
    );
    this.stopped = new Promise((r) => (this.stoppedResolve = r));
  }

  get busy(): boolean {
    return this.state.tag !== 'idle' && this.state.tag !== 'stopped';
  }

  start(): void {
    this.report();
    this.keeper.start();
  }

  /**
   * Takes over another line's call-back (see machine.ts 'transferring'). Only an idle
   * line with nothing queued accepts, so a RING already on its way cannot race it.
   */
  acceptCallback(req: { call: CallInfo; entry: CallbackEntry; number: string }): boolean {
    if (this.state.tag !== 'idle' || this.stopping || this.queue.length > 0 || !this.keeper.up) return false;
    this.push({ type: 'callback', ...req });
    return true;
  }

  get isStopped(): boolean {
    return this.state.tag === 'stopped';
  }

  /**
   * The last resort of a stop that is overdue: record the call in progress (once: the
   * machine writes nothing from 'stopped'), kill pppd, close the tty without waiting
   * for the modem, free the lock.
   */
  async abandon(): Promise<void> {
    const s = this.state;
    if (s.tag === 'stopped') return;
    this.generation++; // whatever is still in flight is stale from now on
    this.clearTimer();
    this.state = { tag: 'stopped' };
    const call = 'call' in s ? s.call : undefined;
    if (s.tag === 'teardown') {
      await this.perform({
        do: 'finish',
        call,
        outcome: s.outcome,
        terminateCause: s.terminateCause,
        detail: s.detail,
        pppExitCode: s.pppExitCode,
      });
    } else if (call) {
      await this.perform({
        do: 'finish',
        call,
        outcome: 'daemon-stopped',
        terminateCause: 'Admin-Reboot',
        detail: `stop overdue in ${s.tag}`,
      });
    }
    void this.ppp?.stop(0);
    await this.shutDown(true);
  }

  /** Hang up cleanly (stopping pppd first) and close the line. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.keeper.stopRetrying();
      this.push({ type: 'stop' });
    }
    await this.stopped;
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  private get modem(): Modem | undefined {
    return this.keeper.modem;
  }

  private onLineUp(): void {
    const modem = this.modem!;
    this.unsubs.push(
      modem.onRing((r) =>
        this.push({
          type: 'ring',
          count: r.count,
          callerId: r.callerId,
          now: this.now(),
          callId: randomUUID(),
        }),
      ),
      modem.onData((b) => this.onData(b)),
      modem.onCarrierLost(() => this.push({ type: 'carrier-lost' })),
    );
    this.report();
  }

  private onLineDown(err: Error): void {
    this.dropSubscriptions();
    // The device went away under a call: the call is over. The keeper reopens it.
    if (this.busy && this.state.tag !== 'ppp') this.push({ type: 'carrier-lost' });
    this.report(err.message);
  }

  private dropSubscriptions(): void {
    for (const u of this.unsubs.splice(0)) u();
  }

  private onData(chunk: Buffer): void {
    if (this.rawPpp) {
      this.push({ type: 'ppp-bytes', data: chunk });
      return;
    }
    if (!this.reader || !this.readerOn) {
      if (this.state.tag === 'settling' && chunk.length > 0) {
        this.settleMidLine = !isLineEnd(chunk[chunk.length - 1]!);
        this.push({ type: 'noise' });
      }
      return;
    }
    const { echo, events } = this.reader.feed(chunk);
    // More lines than may wait (a flood of CRs): the lines past the bound are dropped, and
    // so is their echo; one newline goes back while there was room, nothing once full.
    const room = MAX_PENDING_TYPED - this.pendingTyped();
    const out = events.length <= room ? echo : room > 0 ? FLOOD_ECHO : undefined;
    if (out && out.length > 0) void this.keeper.write(out);
    for (const e of events) {
      if (e.kind === 'line') this.push({ type: 'line', text: e.text });
      else if (e.kind === 'ppp') {
        this.push({ type: 'ppp-frame', data: this.reader.takePppBytes() });
        if (this.deps.line.pppCallback) {
          this.readerOn = false;
          this.rawPpp = true;
          this.deps.prepareSecretCheck?.(); // PAP comes once LCP is up
        }
      } else if (e.kind === 'cancel') this.push({ type: 'cancel' });
      else if (e.kind === 'overlong') this.push({ type: 'overlong' });
      else if (e.kind === 'modem-result') this.push({ type: 'carrier-lost' });
    }
  }

  private push(input: Input, generation?: number): void {
    // A stop request jumps the queue: whatever the caller sent is moot once we stop.
    if (input.type === 'stop') this.queue.unshift({ input, generation });
    else if (TYPED_INPUTS.has(input.type) && !this.roomForTyped()) return;
    else this.queue.push({ input, generation });
    if (!this.draining) void this.drain();
  }

  private pendingTyped(): number {
    let pending = 0;
    for (const q of this.queue) if (TYPED_INPUTS.has(q.input.type)) pending++;
    return pending;
  }

  private roomForTyped(): boolean {
    if (this.pendingTyped() < MAX_PENDING_TYPED) return true;
    if (this.dropped++ === 0) {
      this.deps.log.warn({
        event: 'input-dropped',
        callId: this.callId(),
        reason: 'the caller sends lines faster than the line answers them; the excess is dropped',
      });
    }
    return false;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const { input, generation } = this.queue.shift()!;
        if (generation !== undefined && generation !== this.generation) continue;
        try {
          await this.step(input);
        } catch (err) {
          // A bug in one step must not stop the line: log it; the state timer or the
          // next event moves the call on.
          this.deps.log.error({
            event: 'session-error',
            line: this.deps.line.name,
            input: input.type,
            err: String(err),
          });
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private context(): MachineContext {
    const now = this.now();
    const p = this.deps.policy;
    return {
      config: this.config,
      line: this.deps.line,
      now,
      isLocked: (keys) => p.isLocked(keys, now),
      rateCheck: (entry, number) => p.rateCheck(entry, number, now),
      answerDisabled: () =>
        this.deps.disabled?.() === true ||
        existsSync(join(this.config.daemon.nologinDir, `nologin.${this.deps.line.name}`)),
    };
  }

  private async step(input: Input): Promise<void> {
    // A reload applies from the next call on: an idle line picks up the current config.
    if (this.state.tag === 'idle') this.config = this.deps.config();
    const from = this.state;
    const step = transition(from, input, this.context());
    const state = step.state ?? from;
    if (step.state) {
      this.generation++;
      this.clearTimer();
      this.state = state;
      const call = 'call' in state ? state.call : undefined;
      this.deps.log.debug({
        event: 'state',
        from: from.tag,
        to: state.tag,
        cause: input.type, // the input's kind only; "input" is a redacted field name
        callId: call?.callId,
      });
      this.report();
      await this.account(from, state);
    }
    for (const effect of step.effects) await this.perform(effect);
    if (state.tag === 'idle' && from.tag !== 'idle') await this.backToIdle();
    if (state.tag === 'stopped' && from.tag !== 'stopped') await this.shutDown();
  }

  /** NAS-Port: the line's place in the config, from 1. */
  private lineIndex(): number {
    return this.config.lines.findIndex((l) => l.name === this.deps.line.name) + 1;
  }

  /**
   * RADIUS accounting follows the call's legs: Start of leg 1 at the first CONNECT, its
   * Stop (Callback) at the hang-up for the call-back, Start of leg 2 at the call-back's
   * CONNECT (also on a line that took the call-back over); the Stop of what is still open
   * comes with the call's record ('finish'). The local record stays the ground truth.
   */
  private async account(from: State, to: State): Promise<void> {
    if (to.tag === 'settling' && to.phase === 1 && from.tag === 'answering') {
      this.acct = this.callAccounting(to.call);
      await this.acct?.start(1, { authentic: 'radius' });
    } else if (to.tag === 'dropping' && (from.tag === 'announcing' || from.tag === 'ppp-callback')) {
      await this.acct?.stop(1, 'Callback');
    } else if (to.tag === 'settling' && to.phase === 2 && from.tag !== 'settling') {
      this.acct ??= this.callAccounting(to.call);
      await this.acct?.start(2, {
        userName: to.call.radiusUser,
        calledId: to.call.callback?.number,
        authentic: to.call.radiusUser ? 'radius' : 'local',
      });
    }
  }

  private callAccounting(call: CallInfo): CallAccounting | undefined {
    const radius = this.deps.radius?.();
    if (!radius?.accounting) return undefined;
    return new CallAccounting(
      radius.accounting,
      {
        callId: call.callId,
        line: this.deps.line.name,
        lineIndex: this.lineIndex(),
        callerId: call.callerId,
      },
      { log: this.deps.log, now: this.deps.now, interimMs: radius.config.interimIntervalMs },
    );
  }

  private async accountEnd(cause: TerminateCause, traffic?: Traffic): Promise<void> {
    const acct = this.acct;
    this.acct = undefined;
    await acct?.end(cause, traffic);
  }

  /** Asks RADIUS about a login; no server (or no [radius] open) is `unavailable`, logged. */
  private async radiusAuth(
    e: Extract<Effect, { do: 'radius-auth' }>,
  ): Promise<Extract<Input, { type: 'radius-answer' }>> {
    const radius = this.deps.radius?.();
    const s = this.state;
    const call = 'call' in s ? s.call : undefined;
    const result: AuthResult = radius
      ? await radius.authenticate({
          name: e.name,
          secret: e.secret,
          line: this.deps.line.name,
          lineIndex: this.lineIndex(),
          callerId: e.leg === 1 ? call?.callerId : undefined,
          calledId: e.leg === 2 ? call?.callback?.number : undefined,
          leg: e.leg,
        })
      : { kind: 'unavailable' };
    if (result.kind !== 'unavailable') return { type: 'radius-answer', result };
    const fallback = this.config.radius?.localFallback === 'unavailable';
    this.deps.log.warn({
      event: 'radius-unavailable',
      line: this.deps.line.name,
      callId: call?.callId,
      reason: radius ? 'no RADIUS server answered' : 'RADIUS is not open',
      fallback: fallback ? 'local' : 'none',
    });
    const localOk = fallback ? await this.deps.verifySecret(e.hash, e.secret) : undefined;
    return { type: 'radius-answer', result, localOk };
  }

  private async backToIdle(): Promise<void> {
    this.acct = undefined;
    this.secretCheckMs = undefined;
    this.readerOn = false;
    this.rawPpp = false;
    this.settleMidLine = false;
    this.reader = undefined;
    this.dropped = 0;
    await this.keeper.idle();
    if (this.stopping) this.push({ type: 'stop' });
  }

  private async shutDown(abandon = false): Promise<void> {
    this.clearTimer();
    this.dropSubscriptions();
    await (abandon ? this.keeper.abandon() : this.keeper.close());
    this.report();
    this.stoppedResolve?.();
  }

  private report(error?: string): void {
    const s = this.state;
    const call = 'call' in s ? s.call : undefined;
    const state = s.tag === 'idle' && !this.keeper.up ? 'line-down' : s.tag;
    this.deps.onState?.({ state, callId: call?.callId, callerId: call?.callerId, error });
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async perform(e: Effect): Promise<void> {
    const generation = this.generation;
    const log = this.deps.log;
    switch (e.do) {
      case 'log':
        log[e.level]({ event: e.event, line: this.deps.line.name, callId: this.callId(), ...e.fields });
        return;
      case 'timer':
        this.clearTimer();
        this.timer = setTimeout(() => this.push({ type: 'timeout' }, generation), e.ms);
        return;
      case 'write':
        await this.keeper.write(e.text.replace(/\r?\n/g, '\r\n'));
        return;
      case 'write-bytes':
        await this.keeper.write(e.data);
        return;
      case 'reader':
        this.rawPpp = false;
        // A fresh reader at every prompt. Names are capped at login.max_length; a
        // secret (read without echo) may be longer than any login name.
        this.reader = new LineReader({
          maxLength: e.echo ? this.config.login.maxLength : SECRET_MAX_LENGTH,
          echo: e.echo,
          detectPpp: e.detectPpp,
          continuesLine: this.settleMidLine,
        });
        this.readerOn = true;
        this.settleMidLine = false;
        // No echo: a password prompt, so a secret check follows.
        if (!e.echo) this.deps.prepareSecretCheck?.();
        return;
      case 'answer':
        void this.background(generation, async () => ({
          type: 'answered',
          result: await this.keeper.answer(),
        }));
        return;
      case 'dial':
        void this.background(generation, async () => ({
          type: 'dialed',
          result: await this.keeper.dial(e.number),
        }));
        return;
      case 'verify': {
        const ref = e.ref;
        if (ref !== undefined) {
          // PAP inside PPP: the peer moves the state on while the secret is checked, so
          // the result carries its request instead of the state's generation.
          void this.background(undefined, async () => ({
            type: 'pap-verified',
            // A check that throws is a refusal: no stray input may reach a later call.
            ok: await this.deps.verifySecret(e.hash, e.secret).catch(() => false),
            ref,
          }));
          return;
        }
        void this.background(generation, async () => {
          const t = performance.now();
          const ok = await this.deps.verifySecret(e.hash, e.secret);
          this.secretCheckMs = Math.round((performance.now() - t) * 10) / 10;
          return { type: 'verified', ok };
        });
        return;
      }
      case 'hangup':
        this.readerOn = false;
        this.rawPpp = false;
        await this.keeper.hangup();
        this.push({ type: 'hung-up' }, this.generation);
        return;
      case 'radius-auth':
        // PAP inside PPP (`ref`): the answer carries its request, as a 'verify' with `ref` does.
        if (e.ref !== undefined) {
          const ref = e.ref;
          // A question that throws is "no answer": no stray input may reach a later call.
          const unavailable = { type: 'radius-answer', result: { kind: 'unavailable' } } as const;
          void this.background(undefined, async () => ({
            ...(await this.radiusAuth(e).catch(() => unavailable)),
            ref,
          }));
        } else void this.background(generation, () => this.radiusAuth(e));
        return;
      case 'ppp':
        this.readerOn = false;
        this.rawPpp = false;
        await this.startPpp(e.user, e.autoPpp, generation, e.pppdOptions);
        return;
      case 'transfer': {
        const line = this.deps.transferCallback?.({ call: e.call, entry: e.entry, number: e.number });
        this.push({ type: 'transferred', ok: line !== undefined, line }, this.generation);
        return;
      }
      case 'stop-ppp':
        await this.ppp?.stop(this.deps.line.timing.pppStopMs);
        return;
      case 'failure':
        this.deps.policy.failure(e.keys, this.now());
        return;
      case 'success':
        this.deps.policy.success(e.keys);
        return;
      case 'record-callback':
        this.deps.policy.record(e.entry, e.number, this.now());
        return;
      case 'finish': {
        const { do: _, ...end } = e;
        this.deps.finish({ ...end, line: this.deps.line.name, endedAt: this.now() });
        await this.accountEnd(e.terminateCause, e.traffic);
        return;
      }
    }
  }

  private callId(): string | undefined {
    return 'call' in this.state ? this.state.call?.callId : undefined;
  }

  private async background(generation: number | undefined, work: () => Promise<Input>): Promise<void> {
    try {
      this.push(await work(), generation);
    } catch (err) {
      this.deps.log.warn({ event: 'effect-failed', line: this.deps.line.name, err: String(err) });
      this.push({ type: 'carrier-lost' }, generation);
    }
  }

  private async startPpp(
    user: Parameters<SessionDeps['startPpp']>[0]['user'],
    autoPpp: boolean,
    generation: number,
    pppdOptions?: string[],
  ) {
    this.dropSubscriptions();
    const radius = this.pppdRadius(autoPpp);
    try {
      const run = await this.keeper.handOver((closeLine) =>
        this.deps.startPpp({
          line: this.deps.line,
          config: this.config,
          user,
          autoPpp,
          radius,
          pppdOptions,
          closeLine,
          lock: this.deps.lock,
          log: this.deps.log,
        }),
      );
      this.ppp = run;
      const unwatch = this.deps.watchCarrier?.(this.deps.line, (on) => {
        if (on) return;
        this.deps.log.info({ event: 'carrier-lost', line: this.deps.line.name, during: 'ppp', pid: run.pid });
        run.hangup();
      });
      this.deps.log.info({
        event: 'ppp-running',
        line: this.deps.line.name,
        pid: run.pid,
        callId: this.callId(),
        ...(this.secretCheckMs === undefined ? {} : { secretCheckMs: this.secretCheckMs }),
      });
      this.secretCheckMs = undefined;
      void run.exited
        .then(async ({ code, signal }) => {
          unwatch?.();
          this.ppp = undefined;
          const o = pppdOutcome(code, signal, run.stderrTail());
          this.deps.log[pppdExitLevel(o.outcome)]({
            event: 'ppp-exit',
            line: this.deps.line.name,
            callId: this.callId(),
            code,
            signal,
            outcome: `ppp-${o.outcome}`,
            description: o.description,
            stderr: run.stderrTail().slice(-500),
          });
          await this.reclaimLock();
          this.push(
            {
              type: 'ppp-exit',
              code,
              outcome: `ppp-${o.outcome}`,
              terminateCause: o.terminateCause,
              description: o.description,
              traffic: pppdTraffic(run.stderrTail()),
            },
            generation,
          );
        })
        .catch((err: unknown) => {
          // Whatever failed above, the call must end and be recorded.
          this.deps.log.error({ event: 'session-error', line: this.deps.line.name, err: String(err) });
          this.push({ type: 'ppp-failed', message: String(err) }, generation);
        });
    } catch (err) {
      this.deps.log.error({
        event: 'ppp-spawn-failed',
        line: this.deps.line.name,
        err: String(err),
        code: errnoCode(err),
      });
      await this.reclaimLock();
      this.push({ type: 'ppp-failed', message: String(err) }, generation);
    }
  }

  /** radius.so for an AutoPPP second leg, so pppd's PAP asks the same RADIUS servers. */
  private pppdRadius(autoPpp: boolean): Parameters<SessionDeps['startPpp']>[0]['radius'] {
    const s = this.state;
    const call = 'call' in s ? s.call : undefined;
    const r = this.deps.radius?.();
    // The second leg, or a PPP user RADIUS accepted inside PPP on the first leg.
    if (!autoPpp || !(call?.callback || call?.radiusUser) || !r?.pppd) return undefined;
    return { plugin: r.config.pppdPlugin, configFile: r.pppd.configFile, multiSessionId: call.callId };
  }

  /**
   * Takes the UUCP lock back from pppd. A lock directory that is full or gone (it is a
   * world-writable tmpfs) must not stop the call from ending: the line is hung up and
   * recorded all the same, and the next call takes the lock afresh or reports why not.
   */
  private async reclaimLock(): Promise<void> {
    try {
      await this.keeper.reclaim();
    } catch (err) {
      this.deps.log.error({
        event: 'lock-reclaim-failed',
        line: this.deps.line.name,
        err: String(err),
        code: errnoCode(err),
      });
    }
  }
}

export type { Transport };

/** CR or LF, 7-bit as the line reader takes them. */
function isLineEnd(b: number): boolean {
  const c = b & 0x7f;
  return c === 0x0d || c === 0x0a;
}
