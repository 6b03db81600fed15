import { readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { unixRead } from '@serialport/bindings-cpp/dist/unix-read.js';
import { unixWrite } from '@serialport/bindings-cpp/dist/unix-write.js';
import { SerialPort } from 'serialport';
import { borrowPoller, type PollerCallback } from './fd-poller.js';
import type { PortClass, PortOpenOptions } from './port.js';

/**
 * SerialPort with three fixes for Linux.
 *
 * The first: noticing that the tty hung up. When a tty hangs up (USB modem unplugged, or
 * a pty whose master closed) the kernel makes read() return 0 from then on. bindings-cpp
 * 13 treats 0 as "read again" and loops forever on a worker thread: no 'close', no
 * error, a core burnt (measured on a simulator pty). With VMIN=1 and O_NONBLOCK, a live
 * tty never returns 0 (no data is EAGAIN), so 0 here means the line is gone: we turn it
 * into an ENXIO read error, which serialport reports as a disconnect ('close' with a
 * DisconnectedError).
 *
 * The third: reads and writes on the event loop's own thread. bindings-cpp reads and
 * writes with fs.read / fs.write, each a trip through libuv's thread pool and back
 * (a worker wakes, the loop wakes again): a RING read and the ATA written for it cost
 * two such trips, around 0.2 ms each on an idle machine and milliseconds on a loaded one
 * (strace of a benchmark call). The tty is open with O_NONBLOCK, so read(2) and write(2)
 * return at once: read gives what the tty holds or EAGAIN (bindings-cpp then waits for
 * the poller, as before), write copies into the tty's buffer or takes part of it or
 * EAGAIN (bindings-cpp then writes the rest when the poller says writable).
 */
function readNow(
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number | null,
): Promise<{ bytesRead: number; buffer: Buffer }> {
  let bytesRead: number;
  try {
    bytesRead = readSync(fd, buffer, offset, length, position);
  } catch (err) {
    return Promise.reject(err as Error);
  }
  if (bytesRead === 0 && length > 0) {
    return Promise.reject(
      Object.assign(new Error('tty hung up (read returned end of file)'), { code: 'ENXIO' }),
    );
  }
  return Promise.resolve({ bytesRead, buffer });
}

function writeNow(
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
): Promise<{ bytesWritten: number; buffer: Buffer }> {
  try {
    return Promise.resolve({ bytesWritten: writeSync(fd, buffer, offset, length), buffer });
  } catch (err) {
    return Promise.reject(err as Error);
  }
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
interface Writing {
  writeOperation: Promise<void> | null;
}
type Binding = typeof SerialPort.binding;
type FsRead = NonNullable<Parameters<typeof unixRead>[0]['fsReadAsync']>;
type FsWrite = NonNullable<Parameters<typeof unixWrite>[0]['fsWriteAsync']>;

function hangupAwareBinding(base: Binding): Binding {
  return {
    list: () => base.list(),
    async open(options: Parameters<Binding['open']>[0]) {
      const port = await base.open(options as never);
      const binding = port as unknown as PortBinding;
      const writing = port as unknown as Writing;
      const originalRead = port.read.bind(port);
      port.read = async (buffer: Buffer, offset: number, length: number) => {
        if (!port.isOpen) return originalRead(buffer, offset, length); // its own "not open" error
        return unixRead({ binding, buffer, offset, length, fsReadAsync: readNow as unknown as FsRead });
      };
      const originalWrite = port.write.bind(port);
      port.write = (buffer: Buffer) => {
        // Its own checks and errors for anything odd; the same bookkeeping (drain waits
        // for writeOperation) otherwise.
        if (!port.isOpen || !Buffer.isBuffer(buffer)) return originalWrite(buffer);
        writing.writeOperation = (async () => {
          if (buffer.length === 0) return;
          await unixWrite({ binding, buffer, fsWriteAsync: writeNow as unknown as FsWrite });
          writing.writeOperation = null;
        })();
        return writing.writeOperation;
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
