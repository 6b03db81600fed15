import { realpathSync } from 'node:fs';
import { now, TimerSet, type TimerHandle } from './clock.js';
import { DEFAULT_MAX_EVENTS, EventLog, type SimEvent, type TextWatch } from './events.js';
import type { Faults } from './faults.js';
import { SimModemImpl, type Switchboard } from './modem.js';
import { makeLink, removeLink } from './links.js';
import { DEFAULT_PTY_OPTIONS, type PtyOptions } from './pty.js';
import type { ResultName } from './settings.js';

export interface ExchangeOptions {
  /** Time between RINGs (default 6000, a real cadence; tests use tens of ms). */
  ringIntervalMs?: number;
  /** Speed in CONNECT results (default 33600). */
  connectSpeed?: number;
  /** Append every event as a JSON line to this file. */
  eventLog?: string;
  /** The caller gets NO ANSWER after this many unanswered RINGs (default 10). */
  noAnswerAfterRings?: number;
  /** Result of dialling a number no modem has (default NO ANSWER). */
  unknownNumberResult?: 'NO ANSWER' | 'NO CARRIER' | 'BUSY';
  /** Default escape guard time, i.e. S12 after a reset (default 1000). */
  escapeGuardMs?: number;
  /** Network delay between ATD and the first RING / BUSY (default 100). */
  dialDelayMs?: number;
  /** Delay before an unknown number's result (default 2 ring intervals). */
  unknownNumberDelayMs?: number;
  /** Events kept in memory (oldest dropped first; the JSONL file keeps all). */
  maxEvents?: number;
  /** Texts to mark in data events (see TextWatch in events.ts). */
  watch?: TextWatch[];
  /** How often the pty masters are read; see pty.ts. */
  pty?: Partial<PtyOptions>;
}

export interface AddModemOptions {
  number: string;
  name?: string;
  faults?: Partial<Faults>;
  /** Caller-ID delivery enabled after reset (as if +VCID=1 were stored). */
  callerId?: boolean;
  /** Symlink to the slave path, made now and removed on close (like socat's link=). */
  link?: string;
}

export interface SimModem {
  readonly number: string;
  readonly name: string;
  readonly ttyPath: string;
  readonly link?: string | undefined;
  readonly signals: SimModemImpl['signals'];
  readonly state: SimModemImpl['state'];
  readonly faults: Readonly<Faults>;
  setFaults(f: Partial<Faults>): void;
  injectGarbage(bytes: Buffer): void;
  dropCarrier(): void;
}

export interface Exchange {
  addModem(opts: AddModemOptions): Promise<SimModem>;
  modem(number: string): SimModem | undefined;
  /** The modem whose slave path (or link) this is. */
  modemByTty(path: string): SimModem | undefined;
  readonly modems: readonly SimModem[];
  readonly events: readonly SimEvent[];
  on(event: 'event', fn: (e: SimEvent) => void): this;
  off(event: 'event', fn: (e: SimEvent) => void): this;
  /** Seq of the next event; pass it as `from` to ignore what happened before. */
  mark(): number;
  waitFor(pred: (e: SimEvent) => boolean, timeoutMs?: number, from?: number): Promise<SimEvent>;
  /**
   * Pulls a modem out, as an unplugged USB modem goes: its call ends (the far side
   * gets NO CARRIER), its pty and link disappear, and its number is free for addModem.
   */
  unplug(number: string): Promise<void>;
  close(): Promise<void>;
}

interface Call {
  caller: SimModemImpl;
  callee?: SimModemImpl;
  state: 'setup' | 'ringing' | 'connected';
  rings: number;
  startedAt: number;
  timer?: TimerHandle;
}

type Resolved = Required<Omit<ExchangeOptions, 'eventLog' | 'pty' | 'maxEvents' | 'watch'>> & {
  pty: PtyOptions;
};

export function digitsOf(number: string): string {
  return number.replace(/[^0-9*#]/g, '');
}

export async function createExchange(opts: ExchangeOptions = {}): Promise<Exchange> {
  const ring = opts.ringIntervalMs ?? 6_000;
  const resolved: Resolved = {
    ringIntervalMs: ring,
    connectSpeed: opts.connectSpeed ?? 33_600,
    noAnswerAfterRings: opts.noAnswerAfterRings ?? 10,
    unknownNumberResult: opts.unknownNumberResult ?? 'NO ANSWER',
    escapeGuardMs: opts.escapeGuardMs ?? 1_000,
    dialDelayMs: opts.dialDelayMs ?? 100,
    unknownNumberDelayMs: opts.unknownNumberDelayMs ?? 2 * ring,
    pty: { ...DEFAULT_PTY_OPTIONS, ...opts.pty },
  };
  for (const [k, v] of Object.entries(resolved)) {
    if (typeof v === 'number' && (!Number.isFinite(v) || v < 0))
      throw new Error(`sim: ${k} must be >= 0, got ${v}`);
  }
  if (resolved.noAnswerAfterRings < 1) throw new Error('sim: noAnswerAfterRings must be at least 1');
  const maxEvents = opts.maxEvents ?? DEFAULT_MAX_EVENTS;
  if (!Number.isInteger(maxEvents) || maxEvents < 1)
    throw new Error(`sim: maxEvents must be a positive integer`);
  return new ExchangeImpl(resolved, new EventLog(opts.eventLog, maxEvents, opts.watch ?? []));
}

class ExchangeImpl implements Exchange, Switchboard {
  private readonly list: SimModemImpl[] = [];
  private readonly calls = new Map<SimModemImpl, Call>();
  private readonly timers = new TimerSet();
  private closed = false;

  constructor(
    private readonly opts: Resolved,
    readonly log: EventLog,
  ) {}

  get modems(): readonly SimModem[] {
    return this.list;
  }

  get events(): readonly SimEvent[] {
    return this.log.events;
  }

  on(event: 'event', fn: (e: SimEvent) => void): this {
    this.log.on(event, fn);
    return this;
  }

  off(event: 'event', fn: (e: SimEvent) => void): this {
    this.log.off(event, fn);
    return this;
  }

  mark(): number {
    return this.log.next;
  }

  waitFor(pred: (e: SimEvent) => boolean, timeoutMs?: number, from?: number): Promise<SimEvent> {
    return this.log.waitFor(pred, timeoutMs, from);
  }

  async addModem(o: AddModemOptions): Promise<SimModem> {
    if (this.closed) throw new Error('sim: exchange is closed');
    const digits = digitsOf(o.number);
    if (digits === '') throw new Error(`sim: modem number ${JSON.stringify(o.number)} has no digits`);
    if (this.list.some((m) => digitsOf(m.number) === digits))
      throw new Error(`sim: number ${o.number} is taken`);
    const m = new SimModemImpl(
      o.number,
      o.name ?? `modem${o.number}`,
      { callerId: o.callerId ?? false, escapeGuardMs: this.opts.escapeGuardMs },
      o.faults ?? {},
      this,
      o.link,
    );
    m.connectSpeed = this.opts.connectSpeed;
    await m.start(this.opts.pty);
    if (o.link !== undefined) {
      try {
        await makeLink(o.link, m.ttyPath);
      } catch (err) {
        m.close();
        throw err;
      }
    }
    this.list.push(m);
    return m;
  }

  modem(number: string): SimModem | undefined {
    const d = digitsOf(number);
    return this.list.find((m) => digitsOf(m.number) === d);
  }

  modemByTty(path: string): SimModem | undefined {
    const direct = this.list.find((m) => m.ttyPath === path || m.link === path);
    if (direct) return direct;
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      return undefined;
    }
    return this.list.find((m) => m.ttyPath === real);
  }

  // --- Switchboard ---------------------------------------------------------------

  dial(a: SimModemImpl, digits: string): void {
    a.setState('dialing');
    const call: Call = { caller: a, state: 'setup', rings: 0, startedAt: now() };
    this.calls.set(a, call);
    const f = a.faults;
    if (f.dialResult !== undefined && (f.dialResultCount === undefined || f.dialResultCount > 0)) {
      const result = f.dialResult;
      if (f.dialResultCount !== undefined) a.setFaults({ dialResultCount: f.dialResultCount - 1 });
      a.event('fault', { fault: 'dial-result', result });
      call.timer = this.timers.after(this.opts.dialDelayMs, () => this.fail(call, result));
      return;
    }
    const b = digits === '' ? undefined : this.list.find((m) => digitsOf(m.number) === digits);
    if (!b) {
      const delay = digits === '' ? this.opts.dialDelayMs : this.opts.unknownNumberDelayMs;
      const result = digits === '' ? 'NO CARRIER' : this.opts.unknownNumberResult;
      call.timer = this.timers.after(delay, () => this.fail(call, result));
      return;
    }
    call.timer = this.timers.after(this.opts.dialDelayMs, () => {
      if (b === a || b.state !== 'idle' || b.offHook) return this.fail(call, 'BUSY');
      call.callee = b;
      call.state = 'ringing';
      this.calls.set(b, call);
      b.setState('ringing');
      this.ring(call);
    });
  }

  private ring(call: Call): void {
    const b = call.callee!;
    const abandon = call.caller.faults.abandonAfterRings;
    if (abandon !== undefined && call.rings >= abandon) {
      call.caller.event('fault', { fault: 'abandon', rings: call.rings });
      return this.hangup(call.caller, 'abandoned', 'NO CARRIER');
    }
    if (
      call.rings >= this.opts.noAnswerAfterRings ||
      now() - call.startedAt >= (call.caller.settings.s[7] ?? 50) * 1000
    ) {
      return this.fail(call, 'NO ANSWER');
    }
    call.rings++;
    call.timer = this.timers.after(this.opts.ringIntervalMs, () => this.ring(call));
    if (call.rings === 1) {
      // Caller ID goes between the first and the second RING, as the exchange sends it.
      this.timers.after(this.opts.ringIntervalMs / 2, () => {
        if (this.calls.get(b) === call && call.state === 'ringing') b.deliverCallerId(call.caller.number);
      });
    }
    b.ring(call.rings); // may answer at once (S0), which cancels the next ring
  }

  private fail(call: Call, result: ResultName): void {
    this.endCall(call);
    call.caller.ended('dial-failed', result);
    if (call.callee && call.state === 'ringing') call.callee.ended('caller-gone');
  }

  private endCall(call: Call): void {
    this.timers.cancel(call.timer);
    if (this.calls.get(call.caller) === call) this.calls.delete(call.caller);
    if (call.callee && this.calls.get(call.callee) === call) this.calls.delete(call.callee);
  }

  answer(b: SimModemImpl): boolean {
    const call = this.calls.get(b);
    if (!call || call.callee !== b || call.state !== 'ringing') return false;
    this.timers.cancel(call.timer);
    call.state = 'connected';
    b.connected(this.opts.connectSpeed, call.caller.number, 'callee');
    call.caller.connected(this.opts.connectSpeed, b.number, 'caller');
    return true;
  }

  hangup(m: SimModemImpl, reason: string, ownResult?: ResultName): void {
    const call = this.calls.get(m);
    if (!call) {
      m.ended(reason, ownResult);
      return;
    }
    const wasRinging = call.state !== 'connected';
    this.endCall(call);
    const other = call.caller === m ? call.callee : call.caller;
    m.ended(reason, ownResult);
    if (!other) return;
    // A call that never connected: the callee just stops ringing; a caller still
    // waiting for CONNECT learns that the line went.
    if (!wasRinging) other.ended('remote-hangup', 'NO CARRIER');
    else if (other === call.caller) other.ended('callee-gone', 'NO CARRIER');
    else other.ended('caller-gone');
  }

  forward(from: SimModemImpl, chunk: Buffer): void {
    const call = this.calls.get(from);
    if (!call || call.state !== 'connected') return;
    const to = call.caller === from ? call.callee : call.caller;
    to?.deliver(chunk);
  }

  async unplug(number: string): Promise<void> {
    const d = digitsOf(number);
    const m = this.list.find((x) => digitsOf(x.number) === d);
    if (!m) return;
    if (this.calls.has(m)) this.hangup(m, 'unplugged');
    this.list.splice(this.list.indexOf(m), 1);
    m.close();
    if (m.link !== undefined) await removeLink(m.link, m.ttyPath);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timers.clear();
    this.calls.clear();
    for (const m of this.list) {
      m.close();
      if (m.link !== undefined) await removeLink(m.link, m.ttyPath);
    }
    this.log.close();
  }
}
