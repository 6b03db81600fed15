import { EventEmitter } from 'node:events';
import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/log.js';
import {
  classifySerialError,
  createSerialTransport,
  type PortClass,
  type PortOpenOptions,
} from '../../src/serial/serial-transport.js';
import type { ModemSignals } from '../../src/serial/transport.js';

const log = silentLogger();
const Mock = SerialPortMock as unknown as PortClass;
// The binding instance serialport itself loaded (the ESM copy of the package is a different one).
const MockBinding = SerialPortMock.binding;

afterEach(() => {
  MockBinding.reset();
});

describe('classifySerialError', () => {
  // The messages are the ones bindings-cpp gives on this machine (measured).
  it.each([
    ['Error: No such file or directory, cannot open /dev/ttyS9', 'DEVICE_MISSING'],
    ['Error: Permission denied, cannot open /dev/ttyS0', 'DEVICE_PERMISSION'],
    ['Error Resource temporarily unavailable Cannot lock port', 'DEVICE_BUSY'],
    ['Error: Input/output error', 'DEVICE_GONE'],
  ])('%s -> %s', (msg, code) => {
    expect(classifySerialError(new Error(msg))).toBe(code);
  });

  it('uses errno codes when present', () => {
    expect(classifySerialError(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe('DEVICE_PERMISSION');
    expect(classifySerialError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe('DEVICE_MISSING');
  });
});

describe('createSerialTransport over the mock binding', () => {
  it('opens, passes data both ways, closes', async () => {
    MockBinding.createPort('/dev/ttyMOCK', { echo: false, record: true });
    const t = createSerialTransport(
      { path: '/dev/ttyMOCK', baudRate: 115200, flowControl: 'rtscts', log },
      Mock,
    );
    await t.open();
    expect(t.isOpen).toBe(true);
    const got: Buffer[] = [];
    t.onData((b) => got.push(b));
    await t.write('ATZ\r');
    const port = (
      t as unknown as {
        port: {
          port: {
            recording: Buffer;
            emitData(d: string): void;
            openOptions: { rtscts: boolean; hupcl: boolean };
          };
        };
      }
    ).port.port;
    expect(port.recording.toString()).toBe('ATZ\r');
    expect(port.openOptions).toMatchObject({ rtscts: true, hupcl: true });
    port.emitData('OK\r\n');
    await vi.waitFor(() => expect(Buffer.concat(got).toString()).toBe('OK\r\n'));
    await t.close();
    expect(t.isOpen).toBe(false);
    await expect(t.write('AT\r')).rejects.toMatchObject({ code: 'LINE_CLOSED' });
    await t.close(); // idempotent
  });

  it('reports a failed open as a CallbackdError', async () => {
    const t = createSerialTransport({ path: '/dev/ttyNOPE', baudRate: 9600, flowControl: 'none', log }, Mock);
    await expect(t.open()).rejects.toMatchObject({ name: 'CallbackdError' });
    expect(t.isOpen).toBe(false);
  });

  it('sends DTR and carrier to the simulator signals when given', async () => {
    MockBinding.createPort('/dev/ttyMOCK', {});
    const calls: boolean[] = [];
    const listeners: ((on: boolean) => void)[] = [];
    const signals: ModemSignals = {
      setDtr: async (on) => void calls.push(on),
      getCarrier: async () => true,
      onCarrier: (l) => {
        listeners.push(l);
        return () => undefined;
      },
    };
    const t = createSerialTransport(
      { path: '/dev/ttyMOCK', baudRate: 9600, flowControl: 'none', signals, log },
      Mock,
    );
    await t.open();
    await t.setDtr(false);
    await t.setDtr(true);
    expect(calls).toEqual([false, true]);
    expect(await t.getCarrier()).toBe(true);
    const seen: boolean[] = [];
    t.onCarrierChange!((on) => seen.push(on));
    listeners[0]!(false);
    expect(seen).toEqual([false]);
    await t.close();
  });
});

/** A port whose ioctls fail like a pty's and that can be "unplugged". */
class PtyLikePort extends EventEmitter {
  static last: PtyLikePort | undefined;
  isOpen = false;
  writes: string[] = [];
  hangWrites = false;
  constructor(readonly options: PortOpenOptions) {
    super();
    PtyLikePort.last = this;
  }
  open(cb: (e: Error | null) => void) {
    this.isOpen = true;
    cb(null);
  }
  close(cb?: (e: Error | null) => void) {
    this.isOpen = false;
    this.emit('close');
    cb?.(null);
  }
  write(d: Buffer | string, cb?: (e: Error | null | undefined) => void) {
    this.writes.push(String(d));
    if (!this.hangWrites) cb?.(null);
    return true;
  }
  set(_o: unknown, cb: (e: Error | null) => void) {
    cb(new Error('Error: Inappropriate ioctl for device, cannot set'));
  }
  get(cb: (e: Error | null) => void) {
    cb(new Error('Error: Inappropriate ioctl for device, cannot get'));
  }
  unplug() {
    this.isOpen = false;
    this.emit('close', Object.assign(new Error('Port disconnected'), { disconnected: true }));
  }
}

describe('createSerialTransport on a line without modem-control ioctls', () => {
  const make = () =>
    createSerialTransport(
      { path: '/dev/pts/99', baudRate: 115200, flowControl: 'none', log },
      PtyLikePort as unknown as PortClass,
    );

  it('survives ENOTTY on DTR and reports carrier as unknown', async () => {
    const t = make();
    await t.open();
    await expect(t.setDtr(false)).resolves.toBeUndefined();
    expect(await t.getCarrier()).toBeUndefined();
  });

  it('remembers per device path that the line has no DTR, for the next transport too', async () => {
    const path = '/dev/pts/98';
    const open = () =>
      createSerialTransport(
        { path, baudRate: 115200, flowControl: 'none', log },
        PtyLikePort as unknown as PortClass,
      );
    const t = open();
    await t.open();
    expect(t.dtrControl).toBeUndefined();
    await t.setDtr(false);
    expect(t.dtrControl).toBe(false);
    await t.close();
    const again = open();
    expect(again.dtrControl).toBe(false);
  });

  it('an error event never goes unhandled', async () => {
    const t = make();
    await t.open();
    expect(() => PtyLikePort.last!.emit('error', new Error('boom'))).not.toThrow();
  });

  it('reports a disconnect once as DEVICE_GONE and fails writes stuck on it', async () => {
    const t = make();
    await t.open();
    const gone = vi.fn();
    t.onUnexpectedClose(gone);
    PtyLikePort.last!.hangWrites = true;
    const w = t.write('AT\r');
    PtyLikePort.last!.unplug();
    await expect(w).rejects.toMatchObject({ code: 'DEVICE_GONE' });
    expect(gone).toHaveBeenCalledOnce();
    expect(gone.mock.calls[0]![0]).toMatchObject({ code: 'DEVICE_GONE' });
    expect(t.isOpen).toBe(false);
  });

  it('does not report our own close as unexpected', async () => {
    const t = make();
    await t.open();
    const gone = vi.fn();
    t.onUnexpectedClose(gone);
    await t.close();
    expect(gone).not.toHaveBeenCalled();
  });
});
