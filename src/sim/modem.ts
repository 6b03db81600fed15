import type { ModemSignals } from '../serial/transport.js';
import { parseCommandLine } from './at-parser.js';
import { now, TimerSet, type TimerHandle } from './clock.js';
import { runCommand, type CommandContext } from './commands.js';
import type { EventLog, SimEventType } from './events.js';
import { describeFaults, mergeFaults, NO_FAULTS, type Faults } from './faults.js';
import { PtyLine, type PtyOptions } from './pty.js';
import {
  defaultSettings,
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

/** Longest command line kept; real modems have buffers of 40 to 256 characters. */
const MAX_LINE = 255;

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
  private phase: 'seekA' | 'seekT' | 'line' = 'seekA';
  private cmd = '';
  private lastLine = '';
  private sayAt = 0;
  private escCount = 0;
  private lastPlusAt = 0;
  private lastByteAt = 0;
  private escTimer: TimerHandle | undefined;
  private bytesInCall = 0;
  private lastCarrier = false;
  private readonly carrierListeners = new Set<(on: boolean) => void>();

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
    this.lastCarrier = this.carrier();
    this.signals = {
      setDtr: async (on) => this.setDtr(on),
      getCarrier: async () => this.carrier(),
      onCarrier: (fn) => {
        this.carrierListeners.add(fn);
        return () => this.carrierListeners.delete(fn);
      },
    };
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
    if (this.state !== 'idle' && this.state !== 'ringing')
      this.board.hangup(this, 'carrier-lost', 'NO CARRIER');
  }

  carrier(): boolean {
    return this.settings.dcd === 0 || this.state === 'online' || this.state === 'online-command';
  }

  settingsChanged(): void {
    const c = this.carrier();
    if (c === this.lastCarrier) return;
    this.lastCarrier = c;
    for (const fn of [...this.carrierListeners]) {
      try {
        fn(c);
      } catch {
        // A listener's bug must not stop the modem.
      }
    }
  }

  setState(s: ModemState): void {
    this.state = s;
    this.settingsChanged();
  }

  // --- output ---------------------------------------------------------------

  /** Result and information text, in order, after the fault's response delay. */
  private say(text: string, onWrite?: () => void): void {
    const delay = this.faults.responseDelayMs;
    const write = (): void => {
      onWrite?.();
      if (text) this.line.write(text);
    };
    const t = now();
    if (delay === 0 && this.sayAt <= t) return write();
    this.sayAt = Math.max(t + delay, this.sayAt);
    this.timers.after(this.sayAt - t, write);
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
    const d = new Date();
    const two = (n: number): string => String(n).padStart(2, '0');
    const lines = [
      `DATE = ${two(d.getMonth() + 1)}${two(d.getDate())}`,
      `TIME = ${two(d.getHours())}${two(d.getMinutes())}`,
      `NMBR = ${caller}`,
    ];
    this.event('callerid', { caller });
    if (this.line.isOpen) this.line.write(`\r\n${lines.join('\r\n')}\r\n`);
  }

  connected(speed: number, peer: string, role: 'caller' | 'callee'): void {
    this.setState('online');
    this.escCount = 0;
    this.bytesInCall = 0;
    this.lastByteAt = now();
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
    this.event('data', { dir: 'out', bytes: chunk.length });
    this.countBytes(chunk.length);
  }

  // --- input from the DTE ------------------------------------------------------

  private onOpen(): void {
    this.event('open', { tty: this.line.path });
    this.phase = 'seekA';
    if (!this.dtr) {
      // Opening a serial port raises DTR.
      this.dtr = true;
      this.event('dtr', { on: true, reason: 'open' });
    }
  }

  private onClose(): void {
    this.event('close', { tty: this.line.path });
    this.phase = 'seekA';
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
    if (this.state === 'online') return this.onlineData(chunk);
    if (this.state === 'dialing') {
      // Any character aborts dialling, as on real modems.
      this.board.hangup(this, 'dial-aborted', 'NO CARRIER');
      return;
    }
    for (const b of chunk) this.commandByte(b);
  }

  private echo(text: string): void {
    if (this.settings.echo && !this.faults.silent) this.line.write(text);
  }

  private commandByte(byte: number): void {
    const ch = String.fromCharCode(byte & 0x7f);
    const up = ch.toUpperCase();
    if (this.phase === 'seekA') {
      if (up === 'A') this.phase = 'seekT';
      return;
    }
    if (this.phase === 'seekT') {
      if (up === 'T') {
        this.phase = 'line';
        this.cmd = '';
        this.echo(`A${ch}`);
      } else if (ch === '/') {
        this.phase = 'seekA';
        this.echo('A/');
        this.execute(this.lastLine);
      } else if (up !== 'A') {
        this.phase = 'seekA';
      }
      return;
    }
    const code = byte & 0x7f;
    if (code === this.settings.s[3]) {
      this.phase = 'seekA';
      this.echo(ch);
      this.execute(this.cmd);
    } else if (code === this.settings.s[5] || code === 0x7f) {
      if (this.cmd.length > 0) this.cmd = this.cmd.slice(0, -1);
      this.echo(ch);
    } else if (code >= 0x20) {
      this.cmd += ch;
      this.echo(ch);
      if (this.cmd.length > MAX_LINE) {
        this.phase = 'seekA';
        this.result('ERROR');
      }
    }
  }

  private execute(body: string): void {
    this.event('command', { line: `AT${body}` });
    if (this.faults.silent) {
      this.event('fault', { fault: 'silent', line: `AT${body}` });
      return;
    }
    this.lastLine = body;
    const parsed = parseCommandLine(body);
    const re = this.faults.errorOn;
    if (re) {
      const texts = [
        body.replace(/ /g, '').toUpperCase(),
        ...parsed.commands.map((c) => c.text.toUpperCase()),
      ];
      if (texts.some((t) => ((re.lastIndex = 0), re.test(t)))) {
        this.event('fault', { fault: 'error-on', line: `AT${body}` });
        return this.result('ERROR');
      }
    }
    if (parsed.error && !this.faults.lenient) return this.result('ERROR');
    for (const c of parsed.commands) {
      const outcome = runCommand(this, c);
      if (outcome === 'error') return this.result('ERROR');
      if (outcome === 'done') return;
    }
    this.result('OK');
  }

  /** Data from the DTE while online: watch for the +++ escape, pass the rest on. */
  private onlineData(chunk: Buffer): void {
    const t = now();
    const esc = this.settings.s[2] ?? 43;
    const guard = (this.settings.s[12] ?? 50) * 20;
    for (const b of chunk) {
      if (esc <= 127 && b === esc) {
        const first = this.escCount === 0;
        if (first ? t - this.lastByteAt >= guard : t - this.lastPlusAt <= guard && this.escCount < 3) {
          this.escCount++;
          this.lastPlusAt = t;
          if (this.escCount === 3) {
            this.escTimer = this.timers.after(guard, () => this.escapeToCommand());
          }
        } else this.resetEscape();
      } else this.resetEscape();
      this.lastByteAt = t;
    }
    this.event('data', { dir: 'in', bytes: chunk.length });
    this.board.forward(this, chunk);
    this.countBytes(chunk.length);
  }

  private resetEscape(): void {
    this.escCount = 0;
    this.timers.cancel(this.escTimer);
    this.escTimer = undefined;
  }

  private escapeToCommand(): void {
    this.resetEscape();
    if (this.state !== 'online') return;
    this.setState('online-command');
    this.phase = 'seekA';
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

  hangup(): void {
    if (this.state === 'online' || this.state === 'online-command') this.board.hangup(this, 'ath');
  }

  goOnline(): boolean {
    if (this.state !== 'online-command') return false;
    this.setState('online');
    this.lastByteAt = now();
    this.result('CONNECT', this.connectSpeed);
    return true;
  }

  connectSpeed: number | undefined;

  close(): void {
    this.timers.clear();
    this.line?.close();
    this.carrierListeners.clear();
  }
}
