import { dialStringProblem } from '../config/dial-string.js';
import { CallbackdError, isCallbackdError } from '../errors.js';
import { delay } from '../wait.js';
import type { Logger } from '../log.js';
import type { Timing } from '../timing.js';
import type { Transport } from '../serial/transport.js';
import { parseChat, type SendPart } from './chat.js';
import { LineAssembler } from './lines.js';
import { OnlineStream } from './online.js';
import { parseCallerIdLine, parseResult, type CallerIdInfo } from './results.js';
import { RingTracker } from './rings.js';
import { LineWaiter } from './waiter.js';
import type { AnswerOutcome, CommandResult, DialOutcome, ModemOptions, RingEvent } from './types.js';

/**
 * How long a tty stays closed when closing it is the hang-up (a line without DTR
 * control): DTR must stay low for a while before a modem takes it as a drop (S25,
 * 0.05 s by default on Hayes modems), and a pty's modem notices the close only when it
 * next reads its side.
 */
export const HUPCL_LOW_MIN_MS = 50;

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
  private readonly waiter: LineWaiter;
  private mutex: Promise<unknown> = Promise.resolve();
  private isOnline = false;
  private readonly stream = new OnlineStream();
  private disposed = false;
  private readonly rings: RingTracker;
  private dcdTimer: NodeJS.Timeout | undefined;
  private readonly ringListeners = new Set<(r: RingEvent) => void>();
  private readonly junkListeners = new Set<(l: string) => void>();
  private readonly carrierListeners = new Set<() => void>();

  constructor(
    private readonly transport: Transport,
    opts: ModemOptions,
  ) {
    this.timing = opts.timing;
    this.log = opts.log;
    this.line = opts.line;
    this.dialPrefix = opts.dialPrefix ?? 'ATD';
    this.rings = new RingTracker(opts.timing.ringGapMs);
    this.waiter = new LineWaiter(opts.line);
    this.unsubs.push(transport.onData((b) => this.received(b)));
    this.unsubs.push(
      transport.onUnexpectedClose((err) => {
        this.waiter.fail(
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
    return this.stream.subscribe(fn);
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
    // The policy's own rule, once more right before ATD: nothing that ends the command.
    const problem = dialStringProblem(dialString);
    if (problem !== undefined) {
      return Promise.reject(
        new CallbackdError('NUMBER_REJECTED', `dial string ${problem}`, {
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
   * with guard times and ATH0. On a line known to have no DTR control (the transport
   * says so after the first ENOTTY) there is no drop to send, but closing the tty is
   * one: a modem that is online is hung up by closing the port (HUPCL: the last close
   * drops what DTR the line has; a pty's modem sees its DTE go away) and reopening it
   * after the DTR low time, verified with ATH0 -> OK. Only when that finds the modem
   * still online (no OK) does the escape with its guard times follow. A modem already
   * in command mode gets ATH0 at once. MODEM_NO_RESPONSE when nothing works.
   */
  hangup(): Promise<void> {
    return this.exclusive(async () => {
      const wasOnline = this.isOnline;
      this.goOffline();
      await this.pulseDtr();
      if (this.noDtr()) {
        this.log.info(
          { event: 'hangup-no-dtr', line: this.line, online: wasOnline },
          wasOnline
            ? 'line has no DTR control; closing and reopening the tty'
            : 'line has no DTR control; ATH0',
        );
        if (wasOnline) await this.reopen();
        if (await this.answersCommand('ATH0')) return;
        if (wasOnline) {
          this.log.warn(
            { event: 'hangup-escape', line: this.line },
            'modem still online after the tty was closed; trying +++',
          );
          await this.escape();
          if (await this.answersCommand('ATH0')) return;
        }
      } else {
        if (await this.answersAt()) return;
        this.log.warn(
          { event: 'hangup-escape', line: this.line },
          'modem did not answer after DTR drop; trying +++',
        );
        await this.escape();
        if (await this.answersCommand('ATH0')) return;
      }
      throw new CallbackdError(
        'MODEM_NO_RESPONSE',
        `${this.line}: modem does not hang up (no OK after DTR drop, +++ and ATH0)`,
      );
    });
  }

  /**
   * Closes the tty and opens it again after the DTR low time, at least HUPCL_LOW_MIN_MS.
   * Bytes the modem sends meanwhile are lost, as they would be on a real tty.
   */
  private async reopen(): Promise<void> {
    await this.transport.close();
    await this.sleep(Math.max(this.timing.dtrLowMs, HUPCL_LOW_MIN_MS));
    await this.transport.open();
    this.assembler.reset();
  }

  /** The transport knows the line has no DTR control. */
  private noDtr(): boolean {
    return this.transport.dtrControl === false;
  }

  private async answersCommand(cmd: string): Promise<boolean> {
    const r = await this.resultOrTimeout(cmd, this.timing.commandMs);
    return r !== 'timeout' && r.result === 'OK';
  }

  /** AT -> OK, tried twice (mgetty). false when the modem is online or does not answer. */
  healthCheck(): Promise<boolean> {
    if (this.isOnline) return Promise.resolve(false);
    return this.exclusive(async () => (await this.answersAt()) || (await this.answersAt()));
  }

  async write(b: Buffer | string): Promise<void> {
    this.assertUsable();
    await this.transport.write(b);
  }

  /**
   * Ends the command in flight now (a dial waiting for its result, say) with ABORTED;
   * the modem stays usable, so a hang-up can follow at once instead of queueing.
   */
  abortCommand(): void {
    this.waiter.fail(new CallbackdError('ABORTED', `${this.line}: command aborted`));
  }

  /** Stops listening to the transport, e.g. before the tty is handed to pppd. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.dcdTimer);
    for (const u of this.unsubs.splice(0)) u();
    this.waiter.fail(new CallbackdError('LINE_CLOSED', `${this.line}: modem disposed`));
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
    return delay(ms);
  }

  private async pulseDtr(): Promise<void> {
    if (this.noDtr()) return;
    await this.transport.setDtr(false);
    if (this.noDtr()) return; // found out just now (ENOTTY)
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
    await this.waiter
      .wait<undefined>(
        () => this.transport.write('+++'),
        (line, done) => {
          const r = parseResult(line);
          if (r) done(undefined);
        },
        this.timing.escapeGuardMs + this.timing.commandMs,
      )
      .catch((e) => {
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
    await this.waiter
      .wait<undefined>(
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
      )
      .catch((e) => {
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
    return this.waiter
      .wait<CommandResult>(
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
      )
      .catch((e) => {
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

  private connected(text: string): AnswerOutcome & DialOutcome {
    const r = parseResult(text);
    this.isOnline = true;
    this.watchDcd();
    this.log.info({ event: 'connect', line: this.line, text });
    return r?.speed === undefined ? { kind: 'connect', text } : { kind: 'connect', speed: r.speed, text };
  }

  /**
   * During a call on a real serial port, read DCD every carrierPollMs: a modem set to
   * &C1 drops it when the far end goes, even when no NO CARRIER text gets through.
   * A line that cannot tell (a pty) stops the polling at the first read.
   */
  private watchDcd(): void {
    if (this.transport.carrierEvents !== false) return;
    clearTimeout(this.dcdTimer);
    this.dcdTimer = setTimeout(async () => {
      const on = await this.transport.getCarrier().catch(() => undefined);
      if (!this.isOnline || this.disposed || on === undefined) return;
      if (on) this.watchDcd();
      else this.carrierLost('DCD dropped');
    }, this.timing.carrierPollMs);
  }

  private goOffline(): void {
    clearTimeout(this.dcdTimer);
    this.isOnline = false;
    this.stream.reset();
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
    if (this.stream.push(chunk)) this.carrierLost('NO CARRIER');
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
    if (this.waiter.offer(line)) return;
    // The modem reporting the end of a connection (after our hang-up, or the caller's)
    // is not junk: it is the ordinary last word of every call.
    if (r?.result === 'NO CARRIER') {
      this.log.debug({ event: 'late-result', line: this.line, text: line });
      return;
    }
    this.junk(line, 'unexpected text on idle line');
  }

  private callerId(cid: CallerIdInfo): void {
    this.rings.callerId(cid, Date.now());
  }

  private rang(): void {
    const ev = this.rings.ring(Date.now());
    this.log.info({ event: 'ring', line: this.line, count: ev.count, callerId: ev.callerId });
    for (const l of [...this.ringListeners]) l(ev);
  }

  private junk(line: string, why: string): void {
    this.log.warn({ event: 'junk', line: this.line, text: line.slice(0, 80), why });
    for (const l of [...this.junkListeners]) l(line);
  }
}
