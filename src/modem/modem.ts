import { CallbackdError, isCallbackdError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Timing } from '../options.js';
import type { Transport } from '../serial/transport.js';
import { parseChat, type SendPart } from './chat.js';
import { LineAssembler } from './lines.js';
import { parseCallerIdLine, parseResult, type FinalResult } from './results.js';

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

/** Dial strings may hold digits and these modifiers only: nothing that ends the command. */
const DIAL_STRING = /^[0-9,W*#+PT]+$/i;
/** Online bytes kept for a data listener that subscribes just after CONNECT. */
const MAX_PENDING_ONLINE = 4096;
const NO_CARRIER_ONLINE = /[\r\n]NO CARRIER\r/;

type LineWaiter = (line: string) => void;

/**
 * The Hayes command engine for one modem. Command mode: lines are split, echo and
 * information text are collected, final results end the command in flight, and RING,
 * caller ID and junk on an idle line become events. After CONNECT the modem is online:
 * raw bytes go to onData listeners until NO CARRIER or a DCD drop.
 */
export class Modem {
  private readonly timing: Timing;
  private readonly log: Logger;
  private readonly line: string;
  private readonly dialPrefix: string;
  private readonly assembler = new LineAssembler(
    (l) => this.commandLine(l),
    (l) => this.junk(l, 'overlong line'),
  );
  private readonly unsubs: (() => void)[] = [];
  private waiter: LineWaiter | undefined;
  private failWaiter: ((e: Error) => void) | undefined;
  private mutex: Promise<unknown> = Promise.resolve();
  private isOnline = false;
  private onlineTail = '';
  private pendingOnline: Buffer[] = [];
  private pendingBytes = 0;
  private disposed = false;
  private ring = {
    count: 0,
    lastAt: -Infinity,
    cid: undefined as Omit<RingEvent, 'count'> | undefined,
    cidAt: -Infinity,
  };
  private healthTimer: NodeJS.Timeout | undefined;
  private readonly ringListeners = new Set<(r: RingEvent) => void>();
  private readonly junkListeners = new Set<(l: string) => void>();
  private readonly dataListeners = new Set<(b: Buffer) => void>();
  private readonly carrierListeners = new Set<() => void>();

  constructor(
    private readonly transport: Transport,
    opts: ModemOptions,
  ) {
    this.timing = opts.timing;
    this.log = opts.log;
    this.line = opts.line;
    this.dialPrefix = opts.dialPrefix ?? 'ATD';
    this.unsubs.push(transport.onData((b) => this.received(b)));
    this.unsubs.push(
      transport.onUnexpectedClose((err) => {
        this.failWaiter?.(
          new CallbackdError(
            'DEVICE_GONE',
            `${this.line}: line closed during a modem command`,
            undefined,
            err,
          ),
        );
      }),
    );
    const carrier = transport.onCarrierChange?.((on) => {
      if (!on) this.carrierLost('DCD dropped');
    });
    if (carrier) this.unsubs.push(carrier);
  }

  get online(): boolean {
    return this.isOnline;
  }

  // ---- events -------------------------------------------------------------------

  onRing(fn: (r: RingEvent) => void): () => void {
    this.ringListeners.add(fn);
    return () => this.ringListeners.delete(fn);
  }

  onJunk(fn: (line: string) => void): () => void {
    this.junkListeners.add(fn);
    return () => this.junkListeners.delete(fn);
  }

  /** Raw bytes while online. Bytes that arrived right after CONNECT are delivered too. */
  onData(fn: (b: Buffer) => void): () => void {
    this.dataListeners.add(fn);
    if (this.pendingOnline.length > 0) {
      const pending = Buffer.concat(this.pendingOnline);
      this.pendingOnline = [];
      this.pendingBytes = 0;
      queueMicrotask(() => fn(pending));
    }
    return () => this.dataListeners.delete(fn);
  }

  onCarrierLost(fn: () => void): () => void {
    this.carrierListeners.add(fn);
    return () => this.carrierListeners.delete(fn);
  }

  // ---- commands -----------------------------------------------------------------

  /** Sends one AT command and waits for its final result; MODEM_TIMEOUT if none comes. */
  command(cmd: string, opts: { timeoutMs?: number } = {}): Promise<CommandResult> {
    return this.exclusive(() => this.doCommand(cmd, opts.timeoutMs ?? this.timing.commandMs));
  }

  /** Runs an mgetty-syntax chat script; MODEM_ERROR / MODEM_TIMEOUT name the failing step. */
  runChat(script: string): Promise<void> {
    return this.exclusive(() => this.doChat(script));
  }

  /** The init chat, with mgetty's recovery for a modem left in data mode or quiet mode. */
  init(script: string): Promise<void> {
    return this.exclusive(() => this.doInit(script));
  }

  /** DTR low for dtrLowMs (the modem resets with &D3, hangs up with &D2), then init. */
  reset(script: string): Promise<void> {
    return this.exclusive(async () => {
      this.goOffline();
      await this.pulseDtr();
      await this.doInit(script);
    });
  }

  answer(): Promise<AnswerOutcome> {
    return this.exclusive(async () => {
      const r = await this.resultOrTimeout('ATA', this.timing.answerMs, true);
      if (r === 'timeout') return { kind: 'timeout' };
      if (r.result === 'CONNECT') return this.connected(r.text);
      return { kind: r.result === 'NO CARRIER' ? 'no-carrier' : 'error' };
    });
  }

  dial(dialString: string): Promise<DialOutcome> {
    if (!DIAL_STRING.test(dialString)) {
      return Promise.reject(
        new CallbackdError('NUMBER_REJECTED', 'dial string may contain only digits and , W * # + P T', {
          length: dialString.length,
        }),
      );
    }
    return this.exclusive(async () => {
      this.log.info({ event: 'dial', line: this.line, number: dialString });
      const r = await this.resultOrTimeout(this.dialPrefix + dialString, this.timing.dialMs, true);
      if (r === 'timeout') return { kind: 'timeout' };
      switch (r.result) {
        case 'CONNECT':
          return this.connected(r.text);
        case 'BUSY':
          return { kind: 'busy' };
        case 'NO ANSWER':
          return { kind: 'no-answer' };
        case 'NO DIALTONE':
          return { kind: 'no-dialtone' };
        case 'NO CARRIER':
          return { kind: 'no-carrier' };
        default:
          return { kind: 'error' };
      }
    });
  }

  /**
   * On hook. DTR drop first (the modem is set up for &D2/&D3, and it works even when the
   * modem ignores +++); verified with AT -> OK; if the modem does not answer, the escape
   * with guard times and ATH0. MODEM_NO_RESPONSE when neither works.
   */
  hangup(): Promise<void> {
    return this.exclusive(async () => {
      this.goOffline();
      await this.pulseDtr();
      if (await this.answersAt()) return;
      this.log.warn(
        { event: 'hangup-escape', line: this.line },
        'modem did not answer after DTR drop; trying +++',
      );
      await this.escape();
      const r = await this.resultOrTimeout('ATH0', this.timing.commandMs);
      if (r !== 'timeout' && r.result === 'OK') return;
      throw new CallbackdError(
        'MODEM_NO_RESPONSE',
        `${this.line}: modem does not hang up (no OK after DTR drop, +++ and ATH0)`,
      );
    });
  }

  /** AT -> OK, tried twice (mgetty). false when the modem is online or does not answer. */
  healthCheck(): Promise<boolean> {
    if (this.isOnline) return Promise.resolve(false);
    return this.exclusive(async () => (await this.answersAt()) || (await this.answersAt()));
  }

  /**
   * Runs healthCheck every timing.healthCheckMs while idle (the only timer an idle line
   * has); calls onFail when the modem stops answering. Returns the stop function.
   */
  startHealthChecks(onFail: () => void): () => void {
    const every = this.timing.healthCheckMs;
    const stop = () => {
      clearTimeout(this.healthTimer);
      this.healthTimer = undefined;
    };
    if (every <= 0) return stop;
    const schedule = () => {
      this.healthTimer = setTimeout(async () => {
        if (this.disposed) return;
        if (this.isOnline || this.waiter) return schedule(); // busy with a call: not idle
        const ok = await this.healthCheck().catch(() => false);
        if (this.disposed) return;
        if (ok) schedule();
        else {
          this.log.error({ event: 'health-check-failed', line: this.line });
          onFail();
        }
      }, every);
    };
    stop();
    schedule();
    return stop;
  }

  async write(b: Buffer | string): Promise<void> {
    this.assertUsable();
    await this.transport.write(b);
  }

  /** Stops listening to the transport, e.g. before the tty is handed to pppd. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.healthTimer);
    for (const u of this.unsubs.splice(0)) u();
    this.failWaiter?.(new CallbackdError('LINE_CLOSED', `${this.line}: modem disposed`));
  }

  // ---- internals ----------------------------------------------------------------

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.mutex.then(() => {
      this.assertUsable();
      return fn();
    });
    this.mutex = run.catch(() => undefined);
    return run;
  }

  private assertUsable(): void {
    if (this.disposed) throw new CallbackdError('LINE_CLOSED', `${this.line}: modem disposed`);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  private async pulseDtr(): Promise<void> {
    await this.transport.setDtr(false);
    await this.sleep(this.timing.dtrLowMs);
    await this.transport.setDtr(true);
  }

  /** AT -> OK. A late NO CARRIER from the call just dropped is not an answer: ask again. */
  private async answersAt(): Promise<boolean> {
    for (let i = 0; i < 2; i++) {
      const r = await this.resultOrTimeout('AT', this.timing.commandMs);
      if (r === 'timeout') return false;
      if (r.result === 'OK') return true;
      if (r.result !== 'NO CARRIER') return false;
    }
    return false;
  }

  /** `+++` with a guard time either side; the OK it may produce is consumed here. */
  private async escape(): Promise<void> {
    await this.sleep(this.timing.escapeGuardMs);
    await this.waitLine<undefined>(
      () => this.transport.write('+++'),
      (line, done) => {
        const r = parseResult(line);
        if (r) done(undefined);
      },
      this.timing.escapeGuardMs + this.timing.commandMs,
    ).catch((e) => {
      if (!isCallbackdError(e, 'MODEM_TIMEOUT')) throw e;
    });
  }

  private async doInit(script: string): Promise<void> {
    try {
      await this.doChat(script);
      return;
    } catch (e) {
      if (!isCallbackdError(e, 'MODEM_TIMEOUT')) throw e;
      this.log.warn(
        { event: 'init-timeout', line: this.line, err: e.message },
        'modem silent; trying DLE ETX and +++',
      );
    }
    // A modem stuck in voice/fax mode leaves it on DLE ETX; one in data mode on +++.
    await this.transport.write(Buffer.from([0x10, 0x03]));
    await this.sleep(this.timing.chatPauseMs);
    await this.escape();
    await this.resultOrTimeout('ATQ0V1H0', this.timing.commandMs);
    try {
      await this.doChat(script);
    } catch (e) {
      throw new CallbackdError(
        'MODEM_NO_RESPONSE',
        `${this.line}: modem does not respond to init: ${(e as Error).message}`,
        undefined,
        e,
      );
    }
  }

  private async doChat(script: string): Promise<void> {
    const steps = parseChat(script);
    // Each expect's listener is in place before the send it answers goes out, so a
    // modem that replies within the same tick is never missed.
    await this.expectAfter(undefined, steps[0]!.expect, '(start)');
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      if (!step.send) continue;
      await this.expectAfter(step.send, steps[i + 1]?.expect ?? '', step.sendSource ?? '');
    }
  }

  /** Sends `send` (if any), then waits for a line containing `expect` (if any). */
  private async expectAfter(send: SendPart[] | undefined, expect: string, after: string): Promise<void> {
    const sender = send ? () => this.sendParts(send) : undefined;
    if (expect === '') {
      await sender?.();
      return;
    }
    await this.waitLine<undefined>(
      sender,
      (line, done, fail) => {
        if (line.includes(expect)) return done(undefined);
        const r = parseResult(line);
        if (r)
          fail(
            new CallbackdError(
              'MODEM_ERROR',
              `${this.line}: expected ${expect} after ${after}, modem said ${r.text}`,
            ),
          );
      },
      this.timing.commandMs,
    ).catch((e) => {
      if (isCallbackdError(e, 'MODEM_TIMEOUT')) {
        throw new CallbackdError(
          'MODEM_TIMEOUT',
          `${this.line}: no ${expect} after ${after} within ${this.timing.commandMs} ms`,
        );
      }
      throw e;
    });
  }

  private async sendParts(parts: SendPart[]): Promise<void> {
    for (const p of parts) {
      if (p.kind === 'pause') await this.sleep(this.timing.chatPauseMs);
      else await this.transport.write(p.text);
    }
  }

  private async doCommand(cmd: string, timeoutMs: number, goesOnline = false): Promise<CommandResult> {
    if (this.isOnline)
      throw new CallbackdError('MODEM_BUSY', `${this.line}: modem is online; hang up before ${cmd}`);
    const lines: string[] = [];
    const echo = cmd.trim().toUpperCase();
    return this.waitLine<CommandResult>(
      () => this.transport.write(cmd + '\r'),
      (line, done) => {
        if (line.trim().toUpperCase() === echo) return; // command echo (E1)
        const r = parseResult(line);
        if (!r) return void lines.push(line);
        // Online from this very byte on: what follows CONNECT in the same chunk is data.
        if (goesOnline && r.result === 'CONNECT') this.isOnline = true;
        done({ result: r.result, lines, text: r.text });
      },
      timeoutMs,
    ).catch((e) => {
      if (isCallbackdError(e, 'MODEM_TIMEOUT')) {
        throw new CallbackdError(
          'MODEM_TIMEOUT',
          `${this.line}: no result for ${cmd} within ${timeoutMs} ms`,
          { cmd },
        );
      }
      throw e;
    });
  }

  private resultOrTimeout(
    cmd: string,
    timeoutMs: number,
    goesOnline = false,
  ): Promise<CommandResult | 'timeout'> {
    return this.doCommand(cmd, timeoutMs, goesOnline).catch((e) => {
      if (isCallbackdError(e, 'MODEM_TIMEOUT')) return 'timeout' as const;
      throw e;
    });
  }

  /**
   * Registers a line handler before anything is written (a fast reply is never
   * missed), runs `send` if given, starts the timeout once it is sent, and settles
   * when the handler says so, on timeout, or when the line fails.
   */
  private waitLine<T>(
    send: (() => Promise<void>) | undefined,
    handle: (line: string, done: (v: T) => void, fail: (e: Error) => void) => void,
    timeoutMs: number,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = () => {
        settled = true;
        clearTimeout(timer);
        this.waiter = undefined;
        this.failWaiter = undefined;
      };
      const done = (v: T) => {
        finish();
        resolve(v);
      };
      const fail = (e: Error) => {
        finish();
        reject(e);
      };
      const arm = () => {
        if (!settled)
          timer = setTimeout(
            () => fail(new CallbackdError('MODEM_TIMEOUT', `${this.line}: timeout`)),
            timeoutMs,
          );
      };
      this.waiter = (line) => handle(line, done, fail);
      this.failWaiter = fail;
      if (send) send().then(arm, fail);
      else arm();
    });
  }

  private connected(text: string): AnswerOutcome & DialOutcome {
    const r = parseResult(text);
    this.isOnline = true;
    this.onlineTail = '';
    this.log.info({ event: 'connect', line: this.line, text });
    return r?.speed === undefined ? { kind: 'connect', text } : { kind: 'connect', speed: r.speed, text };
  }

  private goOffline(): void {
    this.isOnline = false;
    this.pendingOnline = [];
    this.pendingBytes = 0;
    this.assembler.reset();
  }

  private carrierLost(why: string): void {
    if (!this.isOnline) return;
    this.goOffline();
    this.log.info({ event: 'carrier-lost', line: this.line, why });
    for (const l of [...this.carrierListeners]) l();
  }

  private received(chunk: Buffer): void {
    let rest = chunk;
    while (rest.length > 0) {
      if (this.isOnline) return this.receivedOnline(rest);
      // Feed byte by byte only until a line end may have switched us online (CONNECT).
      const used = this.assembler.feedUntilSwitch(rest, () => this.isOnline);
      rest = rest.subarray(used);
    }
  }

  private receivedOnline(chunk: Buffer): void {
    if (this.dataListeners.size > 0) for (const l of [...this.dataListeners]) l(chunk);
    else if (this.pendingBytes + chunk.length <= MAX_PENDING_ONLINE) {
      this.pendingOnline.push(chunk);
      this.pendingBytes += chunk.length;
    }
    const text = this.onlineTail + chunk.toString('latin1');
    if (NO_CARRIER_ONLINE.test(text)) return this.carrierLost('NO CARRIER');
    this.onlineTail = text.slice(-16);
  }

  private commandLine(raw: string): void {
    const line = raw.trim();
    if (line === '') return;
    const cid = parseCallerIdLine(line);
    const r = parseResult(line);
    if (r?.result === 'RING' || /^RING\s*;/i.test(line)) {
      if (cid && cid.kind !== 'other') this.callerId(cid);
      return this.rang();
    }
    if (cid) return this.callerId(cid);
    if (this.waiter) return this.waiter(line);
    this.junk(line, 'unexpected text on idle line');
  }

  private callerId(cid: NonNullable<ReturnType<typeof parseCallerIdLine>>): void {
    const now = Date.now();
    if (now - this.ring.cidAt > this.timing.ringGapMs) this.ring.cid = undefined;
    const c = { ...(this.ring.cid ?? {}) };
    if (cid.kind === 'number') c.callerId = cid.number;
    else if (cid.kind === 'withheld') c.callerIdWithheld = cid.reason;
    else if (cid.kind === 'name') c.callerName = cid.name;
    this.ring.cid = c;
    this.ring.cidAt = now;
  }

  private rang(): void {
    const now = Date.now();
    if (now - this.ring.lastAt > this.timing.ringGapMs) {
      this.ring.count = 0;
      // Caller ID may come before the first RING (some exchanges): keep it if recent.
      if (now - this.ring.cidAt > this.timing.ringGapMs) this.ring.cid = undefined;
    }
    this.ring.count++;
    this.ring.lastAt = now;
    const ev: RingEvent = { count: this.ring.count, ...(this.ring.cid ?? {}) };
    this.log.info({ event: 'ring', line: this.line, count: ev.count, callerId: ev.callerId });
    for (const l of [...this.ringListeners]) l(ev);
  }

  private junk(line: string, why: string): void {
    this.log.warn({ event: 'junk', line: this.line, text: line.slice(0, 80), why });
    for (const l of [...this.junkListeners]) l(line);
  }
}
