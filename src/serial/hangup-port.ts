import { read } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { unixRead } from '@serialport/bindings-cpp/dist/unix-read.js';
import { SerialPort } from 'serialport';
import { borrowPoller, type PollerCallback } from './fd-poller.js';
import type { PortClass, PortOpenOptions } from './port.js';

/**
 * SerialPort with one fix for Linux: noticing that the tty hung up.
 *
 * When a tty hangs up (USB modem unplugged, or a pty whose master closed) the kernel
 * makes read() return 0 from then on. bindings-cpp 13 treats 0 as "read again" and
 * loops forever on a worker thread: no 'close', no error, a core burnt (measured on
 * a simulator pty). With VMIN=1 and O_NONBLOCK, a live tty never returns 0 (no data
 * is EAGAIN), so 0 here means the line is gone: we turn it into an ENXIO read error,
 * which serialport reports as a disconnect ('close' with a DisconnectedError).
 */
const readAsync = promisify(read);

async function readOrHangup(
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number | null,
): Promise<{ bytesRead: number; buffer: Buffer }> {
  const r = await readAsync(fd, buffer, offset, length, position);
  if (r.bytesRead === 0 && length > 0) {
    throw Object.assign(new Error('tty hung up (read returned end of file)'), { code: 'ENXIO' });
  }
  return r;
}

const requireCjs = createRequire(import.meta.url);

/**
 * The second fix: every port's poller outlived it (see fd-poller.ts). Each port borrows
 * the one native poller of its fd number instead, and gives it back on close.
 */
function pooledPollers(): void {
  const pollerModule = requireCjs('@serialport/bindings-cpp/dist/poller.js') as {
    Poller: new (fd: number, FDPoller?: typeof borrowPoller) => object;
  };
  const Base = pollerModule.Poller;
  // Constructed with `new` by the JS poller; a function returning an object gives that object.
  const Borrowed = function (fd: number, cb: PollerCallback) {
    return borrowPoller(fd, cb);
  } as unknown as typeof borrowPoller;
  pollerModule.Poller = class extends Base {
    constructor(fd: number, FDPoller = Borrowed) {
      super(fd, FDPoller);
    }
  };
}
if (process.platform === 'linux') pooledPollers();

type PortBinding = Parameters<typeof unixRead>[0]['binding'];
type Binding = typeof SerialPort.binding;

function hangupAwareBinding(base: Binding): Binding {
  return {
    list: () => base.list(),
    async open(options: Parameters<Binding['open']>[0]) {
      const port = await base.open(options as never);
      const binding = port as unknown as PortBinding;
      const original = port.read.bind(port);
      port.read = async (buffer: Buffer, offset: number, length: number) => {
        if (!port.isOpen) return original(buffer, offset, length); // its own "not open" error
        return unixRead({ binding, buffer, offset, length, fsReadAsync: readOrHangup as typeof readAsync });
      };
      return port;
    },
  } as Binding;
}

const binding = process.platform === 'linux' ? hangupAwareBinding(SerialPort.binding) : SerialPort.binding;

/** The default port class of createSerialTransport. */
export const HangupAwarePort: PortClass = class extends SerialPort {
  constructor(options: PortOpenOptions) {
    // SerialPort's options type leaves out `binding`, but its constructor honours one.
    super({ ...options, binding } as unknown as ConstructorParameters<typeof SerialPort>[0]);
  }
} as unknown as PortClass;
