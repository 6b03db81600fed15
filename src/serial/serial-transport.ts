import { CallbackdError, errnoCode, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { HangupAwarePort } from './hangup-port.js';
import type { PortClass, PortLike } from './port.js';
import type { FlowControl, ModemSignals, Transport } from './transport.js';

export type { PortClass, PortLike, PortOpenOptions } from './port.js';

export interface SerialTransportOptions {
  path: string;
  baudRate: number;
  flowControl: FlowControl;
  /** DTR and carrier from the simulator instead of the tty's ioctls. */
  signals?: ModemSignals | undefined;
  log: Logger;
}

/**
 * Maps an open/IO failure to our error codes. bindings-cpp errors carry only a message
 * (e.g. "Error: No such file or directory, cannot open /dev/ttyS9"), so the strerror
 * text is matched as well as a Node errno code.
 */
export function classifySerialError(err: unknown): ErrorCode {
  const code = errnoCode(err);
  const msg = err instanceof Error ? err.message : String(err);
  if (code === 'ENOENT' || /No such file or directory|No such device/i.test(msg)) return 'DEVICE_MISSING';
  if (code === 'EACCES' || code === 'EPERM' || /Permission denied|Operation not permitted/i.test(msg)) {
    return 'DEVICE_PERMISSION';
  }
  if (code === 'EAGAIN' || /Resource temporarily unavailable|Cannot lock port/i.test(msg))
    return 'DEVICE_BUSY';
  if (code === 'EIO' || code === 'ENXIO' || /Input\/output error|disconnected/i.test(msg))
    return 'DEVICE_GONE';
  return 'DEVICE_GONE';
}

/** Device paths seen without DTR control (ENOTTY), so later hang-ups skip the drop. */
const withoutDtr = new Set<string>();

function isNoTty(err: unknown): boolean {
  return errnoCode(err) === 'ENOTTY' || /Inappropriate ioctl/i.test(String(err));
}

/**
 * A Transport over node-serialport. The port class is injected (SerialPort with the
 * hang-up fix of hangup-port.ts by default, SerialPortMock in tests), as zwave-js does.
 *
 * hupcl stays ON, on purpose: when our fd closes the kernel drops DTR, so a daemon that
 * crashes or is killed hangs the modem up rather than leaving a call connected. The
 * pppd hand-over is not affected because the session opens a fresh fd on the tty
 * before closing this port; HUPCL fires only on the last close, after pppd exits.
 */
export function createSerialTransport(
  opts: SerialTransportOptions,
  Port: PortClass = HangupAwarePort,
): Transport {
  return new SerialTransport(opts, Port);
}

class SerialTransport implements Transport {
  private port: PortLike | undefined;
  private closing = false;
  private warnedNoTty = false;
  private readonly pendingWrites = new Set<(e: Error) => void>();
  private readonly dataListeners = new Set<(b: Buffer) => void>();
  private readonly closeListeners = new Set<(e: Error) => void>();

  constructor(
    private readonly opts: SerialTransportOptions,
    private readonly Port: PortClass,
  ) {}

  get path(): string {
    return this.opts.path;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  async open(): Promise<void> {
    if (this.isOpen) return;
    const { path, baudRate, flowControl } = this.opts;
    const port = new this.Port({
      path,
      baudRate,
      autoOpen: false,
      rtscts: flowControl === 'rtscts',
      xon: flowControl === 'xonxoff',
      xoff: flowControl === 'xonxoff',
      hupcl: true,
      lock: true, // flock: a second callbackd on the same tty fails with DEVICE_BUSY
    });
    // Every 'error' has a listener: an unhandled one would kill the whole daemon.
    port.on('error', (err: Error) => this.opts.log.warn({ event: 'serial-error', path, err: err.message }));
    port.on('data', (b: Buffer) => {
      for (const l of [...this.dataListeners]) l(b);
    });
    port.on('close', (err?: Error & { disconnected?: boolean }) => this.closed(port, err));
    await new Promise<void>((resolve, reject) => {
      port.open((err) => {
        if (!err) return resolve();
        const code = classifySerialError(err);
        reject(new CallbackdError(code, `cannot open ${path}: ${err.message}`, { path }, err));
      });
    });
    this.port = port;
    this.closing = false;
  }

  private closed(port: PortLike, err?: Error & { disconnected?: boolean }): void {
    if (port !== this.port) return;
    this.port = undefined;
    const gone = new CallbackdError(
      'DEVICE_GONE',
      `${this.path} went away${err ? `: ${err.message}` : ''}`,
      undefined,
      err,
    );
    // Writes on a disconnected port never call back: fail them here.
    for (const rejectWrite of [...this.pendingWrites]) rejectWrite(gone);
    this.pendingWrites.clear();
    this.opts.signals?.release?.();
    if (this.closing) return;
    this.opts.log.error({ event: 'device-gone', path: this.path, err: err?.message });
    for (const l of [...this.closeListeners]) l(gone);
  }

  async close(): Promise<void> {
    // The simulator's signals connection goes with the line (one per transport, not per reopen).
    this.opts.signals?.release?.();
    const port = this.port;
    if (!port) return;
    this.closing = true;
    if (!port.isOpen) {
      this.port = undefined;
      return;
    }
    await new Promise<void>((resolve) => {
      port.close((err) => {
        if (err) this.opts.log.warn({ event: 'serial-close-error', path: this.path, err: err.message });
        resolve();
      });
    });
    this.port = undefined;
  }

  write(data: Buffer | string): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return Promise.reject(new CallbackdError('LINE_CLOSED', `${this.path} is not open`));
    return new Promise<void>((resolve, reject) => {
      const settle = (err?: Error | null) => {
        this.pendingWrites.delete(rejectWrite);
        if (err)
          reject(
            new CallbackdError(
              classifySerialError(err) === 'DEVICE_GONE' ? 'DEVICE_GONE' : 'LINE_CLOSED',
              `write to ${this.path} failed: ${err.message}`,
              undefined,
              err,
            ),
          );
        else resolve();
      };
      const rejectWrite = (e: Error) => settle(e);
      this.pendingWrites.add(rejectWrite);
      port.write(data, (err) => settle(err));
    });
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  onUnexpectedClose(listener: (err: Error) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  get carrierEvents(): boolean {
    return this.opts.signals !== undefined;
  }

  onCarrierChange(listener: (on: boolean) => void): () => void {
    // Hardware DCD is not polled (no timers on an idle line); NO CARRIER text covers it.
    return this.opts.signals ? this.opts.signals.onCarrier(listener) : () => undefined;
  }

  get dtrControl(): boolean | undefined {
    if (this.opts.signals) return true;
    return withoutDtr.has(this.path) ? false : undefined;
  }

  async setDtr(on: boolean): Promise<void> {
    if (this.opts.signals) return this.opts.signals.setDtr(on);
    if (withoutDtr.has(this.path)) return;
    const port = this.port;
    if (!port?.isOpen) throw new CallbackdError('LINE_CLOSED', `${this.path} is not open`);
    await new Promise<void>((resolve, reject) => {
      // set() is not partial: name every flag we care about.
      port.set({ dtr: on, rts: true }, (err) => {
        if (!err) return resolve();
        if (isNoTty(err)) {
          // A pty without simulator signals: no DTR. Hang-up then relies on +++ / ATH0.
          if (!this.warnedNoTty)
            this.opts.log.warn(
              { event: 'no-dtr', path: this.path },
              'line has no DTR control (not a serial port)',
            );
          this.warnedNoTty = true;
          withoutDtr.add(this.path);
          return resolve();
        }
        reject(
          new CallbackdError(
            classifySerialError(err),
            `cannot set DTR on ${this.path}: ${err.message}`,
            undefined,
            err,
          ),
        );
      });
    });
  }

  async getCarrier(): Promise<boolean | undefined> {
    if (this.opts.signals) return this.opts.signals.getCarrier();
    const port = this.port;
    if (!port?.isOpen) return undefined;
    return new Promise<boolean | undefined>((resolve) => {
      port.get((err, status) => resolve(err || !status ? undefined : status.dcd));
    });
  }
}
