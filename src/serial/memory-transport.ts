import { CallbackdError } from '../errors.js';
import type { Transport } from './transport.js';

/**
 * An in-memory Transport for unit tests anywhere in the project. The test plays the
 * modem: `peer.write()` delivers bytes as if the modem had sent them, `written` and
 * `onWrite` show what the code under test sent, `carrier` can be flipped, `dtr`
 * records every DTR change, and `simulateGone()` behaves like an unplugged device.
 */
export class MemoryTransport implements Transport {
  readonly path: string;
  /** Every chunk written by the code under test, in order. */
  readonly written: Buffer[] = [];
  /** Every DTR level set, in order (true = raised). */
  readonly dtrHistory: boolean[] = [];
  dtr = true;
  /** Set false by tests to play a line without DTR control: setDtr then does nothing. */
  dtrControl: boolean | undefined = true;
  /** Set by tests to make open() fail (e.g. with a DEVICE_MISSING CallbackdError). */
  openError: Error | undefined;
  /** When false, getCarrier() resolves undefined (a line that cannot tell). */
  carrierKnown = true;
  /** When false, carrier changes are not pushed: the modem has to poll, as on a real tty. */
  carrierEvents = true;
  openCount = 0;
  /** close() calls so far; `onClose` listeners hear each (a test's modem may hang up, as on HUPCL). */
  closeCount = 0;
  private readonly closeByUsListeners = new Set<() => void>();

  private opened = false;
  private carrierOn = false;
  private readonly dataListeners = new Set<(b: Buffer) => void>();
  private readonly closeListeners = new Set<(e: Error) => void>();
  private readonly writeListeners = new Set<(b: Buffer) => void>();
  private readonly carrierListeners = new Set<(on: boolean) => void>();

  /** The modem's side of the line. */
  readonly peer = {
    write: (data: Buffer | string): void => {
      if (!this.opened) return; // nobody is reading a closed tty
      const b = Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1');
      for (const l of [...this.dataListeners]) l(b);
    },
  };

  constructor(path = '/dev/ttyMEM0', opts: { open?: boolean } = {}) {
    this.path = path;
    if (opts.open !== false) this.opened = true;
  }

  get isOpen(): boolean {
    return this.opened;
  }

  /** Everything written so far as one latin1 string. */
  get writtenText(): string {
    return Buffer.concat(this.written).toString('latin1');
  }

  clearWritten(): void {
    this.written.length = 0;
  }

  get carrier(): boolean {
    return this.carrierOn;
  }

  set carrier(on: boolean) {
    if (on === this.carrierOn) return;
    this.carrierOn = on;
    if (this.carrierEvents) for (const l of [...this.carrierListeners]) l(on);
  }

  async open(): Promise<void> {
    this.openCount++;
    if (this.openError) throw this.openError;
    this.opened = true;
  }

  async close(): Promise<void> {
    const was = this.opened;
    this.opened = false;
    this.closeCount++;
    if (was) for (const l of [...this.closeByUsListeners]) l();
  }

  /** Called when the code under test closes an open line. */
  onClose(listener: () => void): () => void {
    this.closeByUsListeners.add(listener);
    return () => this.closeByUsListeners.delete(listener);
  }

  /** Set by tests: writes never complete, as on a tty stuck in flow control or PPP's line discipline. */
  hangWrites = false;

  async write(data: Buffer | string): Promise<void> {
    if (!this.opened) throw new CallbackdError('LINE_CLOSED', `${this.path} is not open`);
    if (this.hangWrites) return new Promise<void>(() => undefined);
    const b = Buffer.isBuffer(data) ? Buffer.from(data) : Buffer.from(data, 'latin1');
    this.written.push(b);
    for (const l of [...this.writeListeners]) l(b);
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  /** Called with each chunk the code under test writes: lets a test answer commands. */
  onWrite(listener: (chunk: Buffer) => void): () => void {
    this.writeListeners.add(listener);
    return () => this.writeListeners.delete(listener);
  }

  onUnexpectedClose(listener: (err: Error) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  onCarrierChange(listener: (on: boolean) => void): () => void {
    this.carrierListeners.add(listener);
    return () => this.carrierListeners.delete(listener);
  }

  async setDtr(on: boolean): Promise<void> {
    if (this.dtrControl === false) return;
    this.dtr = on;
    this.dtrHistory.push(on);
  }

  async getCarrier(): Promise<boolean | undefined> {
    return this.carrierKnown ? this.carrierOn : undefined;
  }

  /** The device vanished (USB unplugged, pty master closed). */
  simulateGone(message = 'device disconnected'): void {
    if (!this.opened) return;
    this.opened = false;
    const err = new CallbackdError('DEVICE_GONE', `${this.path}: ${message}`);
    for (const l of [...this.closeListeners]) l(err);
  }
}
