import type { ModemSignals } from '../serial/transport.js';
import { now, TimerSet, type TimerHandle } from './clock.js';
import { CommandLineReader } from './at-line-reader.js';
import { runLine, type CommandContext } from './at-commands.js';
import { EscapeDetector } from './escape.js';
import type { EventLog, SimEventType } from './events.js';
import { describeFaults, mergeFaults, NO_FAULTS, type Faults } from './faults.js';
import { PtyLine, type PtyOptions } from './pty.js';
import { CarrierSignal } from './signals.js';
import {
  defaultSettings,
  formatCallerId,
  formatInfo,
  formatResult,
  RESULT_CODES,
  resultForX,
  type ModemSettings,
  type ResultName,
} from './settings.js';

export type ModemState = 'idle' | 'dialing' | 'ringing' | 'online' | 'online-command';

/** What a modem asks of the exchange that connects it to other modems. */
export interface Switchboard {
  readonly log: EventLog;
  dial(m: SimModemImpl, digits: string): void;
  answer(m: SimModemImpl): boolean;
  /** Ends m's call or call attempt; m gets ownResult (if any), the far side NO CARRIER. */
  hangup(m: SimModemImpl, reason: string, ownResult?: ResultName): void;
  forward(from: SimModemImpl, chunk: Buffer): void;
}

export class SimModemImpl implements CommandContext {
  state: ModemState = 'idle';
  settings: ModemSettings;
  faults: Faults;
  offHook = false;
  lastDialed = '';
  /** DTR as last set through the signals; a fresh open of the tty raises it. */
  dtr = true;
  readonly signals: ModemSignals;
  line!: PtyLine;
  private readonly timers = new TimerSet();
  private readonly reader = new CommandLineReader();
  private readonly escape = new EscapeDetector();
  /** Delayed output, in the order it was said; one timer serves the head. */
  private readonly outQueue: { at: number; write: () => void }[] = [];
  private outTimer: TimerHandle | undefined;
  private escTimer: TimerHandle | undefined;
  private bytesInCall = 0;
  private readonly dcd: CarrierSignal;

  constructor(
    readonly number: string,
    readonly name: string,
    readonly factory: { callerId: boolean; escapeGuardMs: number },
    faults: Partial<Faults>,
    private readonly board: Switchboard,
    readonly link?: string,
  ) {
    this.settings = defaultSettings(factory);
    this.faults = mergeFaults({ ...NO_FAULTS }, faults);
    // After settings: the carrier's first value is read from them.
    this.dcd = new CarrierSignal(() => this.carrier());
    this.signals = this.dcd.signals((on) => this.setDtr(on));
  }

  async start(ptyOptions?: PtyOptions): Promise<void> {
    this.line = await PtyLine.create(
      {
        onData: (chunk) => this.onData(chunk),
        onOpen: () => this.onOpen(),
        onClose: () => this.onClose(),
      },
      ptyOptions,
    );
  }

  get ttyPath(): string {
    return this.line.path;
  }

  get lenient(): boolean {
    return this.faults.lenient;
  }

  event(type: SimEventType, fields: Record<string, unknown> = {}): void {
    this.board.log.emitEvent(this.number, type, fields);
  }

  setFaults(f: Partial<Faults>): void {
    this.faults = mergeFaults(this.faults, f);
    this.event('fault', { fault: 'set', faults: describeFaults(f) });
  }

  injectGarbage(bytes: Buffer): void {
    this.event('fault', { fault: 'garbage', bytes: bytes.length });
    this.line.write(bytes);
  }

  dropCarrier(): void {
    this.event('fault', { fault: 'carrier-lost', state: this.state });
    if (this.state !== 'idle') this.board.hangup(this, 'carrier-lost', 'NO CARRIER');
  }

  carrier(): boolean {
    return this.settings.dcd === 0 || this.state === 'online' || this.state === 'online-command';
  }

  settingsChanged(): void {
    this.dcd.update();
  }

  setState(s: ModemState): void {
    this.state = s;
    this.settingsChanged();
  }

  // --- output ---------------------------------------------------------------

  /**
   * Result and information text, in order, after the fault's response delay. One
   * queue and one timer: two timers of nearly equal delay may fire in either order.
   */
  private say(text: string, onWrite?: () => void): void {
    const write = (): void => {
      onWrite?.();
      if (text) this.line.write(text);
    };
    const delay = this.faults.responseDelayMs;
    if (delay === 0 && this.outQueue.length === 0) return write();
    const t = now();
    this.outQueue.push({ at: Math.max(t + delay, this.outQueue.at(-1)?.at ?? 0), write });
    this.armOutput();
  }

  private armOutput(): void {
    const head = this.outQueue[0];
    if (this.outTimer !== undefined || head === undefined) return;
    this.outTimer = this.timers.after(head.at - now(), () => {
      this.outTimer = undefined;
      // Timers may fire a fraction of a millisecond early.
      const due = now() + 1;
      while (this.outQueue.length > 0 && this.outQueue[0]!.at <= due) this.outQueue.shift()!.write();
      this.armOutput();
    });
  }

  result(name: ResultName, speed?: number): void {
    if (this.faults.silent) return;
    const shown = resultForX(name, this.settings.x);
    const text =
      shown === 'CONNECT' && speed !== undefined && this.settings.x > 0 ? `CONNECT ${speed}` : shown;
    this.say(formatResult(shown, this.settings, speed), () =>
      this.event('result', { text, code: RESULT_CODES[shown] }),
    );
  }

  info(text: string): void {
    if (!this.faults.silent) this.say(formatInfo(text, this.settings));
  }

  // --- calls, driven by the exchange ------------------------------------------

  ring(count: number): void {
    this.settings.s[1] = count;
    this.event('ring', { count });
    if (this.faults.silent) return;
    if (this.line.isOpen) this.line.write(formatResult('RING', this.settings));
    const s0 = this.settings.s[0] ?? 0;
    if (s0 > 0 && count >= s0 && this.dteReady()) this.board.answer(this);
  }

  deliverCallerId(caller: string): void {
    if (!this.settings.callerId || this.faults.silent) return;
    this.event('callerid', { caller });
    if (this.line.isOpen) this.line.write(formatCallerId(caller, new Date()));
  }

  connected(speed: number, peer: string, role: 'caller' | 'callee'): void {
    this.setState('online');
    this.escape.reset(now());
    this.bytesInCall = 0;
    this.event('connect', { peer, speed, role });
    this.result('CONNECT', speed);
  }

  /** The call or attempt is over: back to command mode, with an optional result. */
  ended(reason: string, result?: ResultName): void {
    const wasCall = this.state === 'online' || this.state === 'online-command';
    this.timers.cancel(this.escTimer);
    this.settings.s[1] = 0;
    this.setState('idle');
    if (wasCall) this.event('hangup', { reason });
    if (result) this.result(result);
  }

  /** Bytes from the far modem. */
  deliver(chunk: Buffer): void {
    if (this.state !== 'online') {
      this.event('data', { dir: 'out', bytes: chunk.length, dropped: true });
      return;
    }
    this.line.write(chunk);
    this.event('data', {
      dir: 'out',
      bytes: chunk.length,
      ...this.board.log.watchFields(this.number, 'out', chunk),
    });
    this.countBytes(chunk.length);
  }

  // --- input from the DTE ------------------------------------------------------

  private onOpen(): void {
    this.event('open', { tty: this.line.path });
    this.reader.reset();
    if (!this.dtr) {
      // Opening a serial port raises DTR.
      this.dtr = true;
      this.event('dtr', { on: true, reason: 'open' });
    }
  }

  private onClose(): void {
    this.event('close', { tty: this.line.path });
    this.reader.reset();
    // The last holder closing is what HUPCL turns into a DTR drop on a real tty.
    this.dtrDropped('close');
  }

  async setDtr(on: boolean): Promise<void> {
    const was = this.dtr;
    this.dtr = on;
    this.event('dtr', { on });
    if (was && !on) this.dtrDropped('dtr');
  }

  private dteReady(): boolean {
    return this.settings.dtr === 0 || (this.line.isOpen && this.dtr);
  }

  private dtrDropped(reason: string): void {
    const mode = this.settings.dtr;
    if (mode === 0) return;
    if (mode === 1) {
      if (this.state === 'online') this.escapeToCommand();
      return;
    }
    if (this.state === 'dialing' || this.state === 'online' || this.state === 'online-command') {
      this.board.hangup(this, reason);
    }
    if (mode === 3) {
      this.offHook = false;
      this.settings = defaultSettings(this.factory);
      this.settingsChanged();
    }
  }

  private onData(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      if (this.state === 'online') return this.onlineData(i === 0 ? chunk : chunk.subarray(i));
      const b = chunk[i]!;
      if (this.state === 'dialing') {
        // Any character aborts dialling, as on real modems; a LF trailing the
        // command's CR does not.
        if (b === (this.settings.s[4] ?? 10)) continue;
        this.board.hangup(this, 'dial-aborted', 'NO CARRIER');
        continue;
      }
      const act = this.reader.feed(b, this.settings.s[3] ?? 13, this.settings.s[5] ?? 8);
      if (act.echo && this.settings.echo && !this.faults.silent) this.line.write(act.echo);
      if (act.overflow) this.result('ERROR');
      if (act.execute !== undefined) this.execute(act.execute);
    }
  }

  private execute(body: string): void {
    this.event('command', { line: `AT${body}` });
    if (this.faults.silent) {
      this.event('fault', { fault: 'silent', line: `AT${body}` });
      return;
    }
    const final = runLine(this, body, this.faults.errorOn);
    if (final === 'error-on') {
      this.event('fault', { fault: 'error-on', line: `AT${body}` });
      this.result('ERROR');
    } else if (final) this.result(final);
  }

  /** Data from the DTE while online: watch for the +++ escape, pass the rest on. */
  private onlineData(chunk: Buffer): void {
    const guard = (this.settings.s[12] ?? 50) * 20;
    this.timers.cancel(this.escTimer);
    if (this.escape.feed(chunk, now(), this.settings.s[2] ?? 43, guard)) {
      // Escape only if the guard time passes with no more data (the next chunk cancels).
      this.escTimer = this.timers.after(guard, () => this.escapeToCommand());
    }
    this.event('data', {
      dir: 'in',
      bytes: chunk.length,
      ...this.board.log.watchFields(this.number, 'in', chunk),
    });
    this.board.forward(this, chunk);
    this.countBytes(chunk.length);
  }

  private escapeToCommand(): void {
    this.timers.cancel(this.escTimer);
    if (this.state !== 'online') return;
    this.setState('online-command');
    this.reader.reset();
    this.result('OK');
  }

  private countBytes(n: number): void {
    this.bytesInCall += n;
    const limit = this.faults.dropAfterBytes;
    if (limit !== undefined && this.bytesInCall >= limit && this.state !== 'idle') {
      this.event('fault', { fault: 'drop-after-bytes', bytes: this.bytesInCall });
      this.board.hangup(this, 'carrier-lost', 'NO CARRIER');
    }
  }

  // --- CommandContext -------------------------------------------------------------

  answer(): boolean {
    return this.board.answer(this);
  }

  dial(digits: string): void {
    this.board.dial(this, digits);
  }

  hangup(reason = 'ath'): void {
    if (this.state === 'online' || this.state === 'online-command') this.board.hangup(this, reason);
  }

  goOnline(): boolean {
    if (this.state !== 'online-command') return false;
    this.setState('online');
    this.escape.reset(now());
    this.result('CONNECT', this.connectSpeed);
    return true;
  }

  connectSpeed: number | undefined;

  close(): void {
    this.timers.clear();
    this.outTimer = undefined;
    this.outQueue.length = 0;
    this.line?.close();
    this.dcd.clear();
  }
}
