import { read } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { unixRead } from '@serialport/bindings-cpp/dist/unix-read.js';
import { SerialPort } from 'serialport';
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

/**
 * The second fix: every port's poller outlived it. bindings-cpp's native poller keeps its
 * event callback as a persistent (GC root) reference, bound to the JS poller, and its
 * destroy() only detaches the native object without freeing it (freeing it later, from
 * the collector, would call uv_poll_stop on an fd number another port may hold by then,
 * and take that port out of epoll). So every open leaked a poller, about 1.3 kB of heap
 * (measured over 1 000 opens of a simulator pty), once per call for the daemon's life,
 * since a line reopens its tty after every call: most of the heap growth of the
 * 10 000-call soak. Here one native poller serves each fd number: a port that gets the
 * number borrows it and gives it back on close (stopped, while the fd is still its own),
 * and the native callback reaches only the current borrower.
 */
type EventCallback = (err: Error | null, flags: number) => void;
interface NativePoller {
  poll(events: number): void;
  stop(): void;
  destroy(): void;
}
type NativePollerClass = new (fd: number, cb: EventCallback) => NativePoller;
interface Slot {
  native: NativePoller;
  owner: EventCallback | undefined;
}
const requireCjs = createRequire(import.meta.url);
function pooledPollers(): void {
  const pollerModule = requireCjs('@serialport/bindings-cpp/dist/poller.js') as {
    Poller: new (fd: number, FDPoller?: NativePollerClass) => object;
  };
  const { binding } = requireCjs('@serialport/bindings-cpp/dist/serialport-bindings.js') as {
    binding: { Poller: NativePollerClass };
  };
  const Base = pollerModule.Poller;
  const Native = binding.Poller;
  const slots = new Map<number, Slot>();
  // Apart from Borrowed, so that the native callback's closure holds the slot and no
  // borrower's callback.
  const newSlot = (fd: number): Slot => {
    const s: Slot = { native: undefined as unknown as NativePoller, owner: undefined };
    s.native = new Native(fd, (err, flags) => s.owner?.(err, flags));
    return s;
  };
  // Constructed with `new` by the JS poller; returns what it will call poll/stop/destroy on.
  const Borrowed = function (fd: number, cb: EventCallback): NativePoller {
    let slot = slots.get(fd);
    if (slot?.owner !== undefined) return new Native(fd, cb); // never expected: fds are unique while open
    if (!slot) {
      slot = newSlot(fd);
      slots.set(fd, slot);
    }
    const mine = slot;
    mine.owner = cb;
    const owns = () => mine.owner === cb;
    return {
      poll: (events) => {
        if (owns()) mine.native.poll(events);
      },
      stop: () => {
        if (owns()) mine.native.stop();
      },
      destroy: () => {
        if (owns()) {
          mine.native.stop();
          mine.owner = undefined;
        }
      },
    };
  } as unknown as NativePollerClass;
  pollerModule.Poller = class extends Base {
    constructor(fd: number, FDPoller: NativePollerClass = Borrowed) {
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
