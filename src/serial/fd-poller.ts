import { createRequire } from 'node:module';

/**
 * One native poller (libuv uv_poll, from @serialport/bindings-cpp) per fd number, for the
 * life of the process, lent to whoever holds that number now.
 *
 * Why pooled: bindings-cpp's native poller keeps its event callback as a persistent (GC
 * root) reference, and its destroy() only detaches the native object without freeing
 * it. Freeing it later, from the collector, would call uv_poll_stop on an fd number
 * another holder may have by then, and take that holder out of epoll. So every poller
 * made per open leaked (about 1.3 kB of heap per open of a simulator pty), and a poller
 * made and dropped is a hazard to whoever gets its fd number next. Here each fd number
 * gets one native poller, never freed; a holder borrows it and gives it back (stopped,
 * while the fd is still its own) before closing the fd, and the native callback reaches
 * only the current borrower.
 *
 * A started poller keeps the event loop alive (libuv ref), like any open handle.
 */
export type PollerCallback = (err: Error | null, flags: number) => void;

export interface FdPoller {
  /** Waits for the events (bits of POLL_EVENTS); one shot: an event clears its bit. */
  poll(events: number): void;
  stop(): void;
  /** Stops and gives the poller back; call it before closing the fd. */
  destroy(): void;
}

export const POLL_EVENTS = Object.freeze({ READABLE: 0b0001, WRITABLE: 0b0010, DISCONNECT: 0b0100 });

type NativePollerClass = new (fd: number, cb: PollerCallback) => FdPoller;

interface Slot {
  native: FdPoller;
  owner: PollerCallback | undefined;
}

const requireCjs = createRequire(import.meta.url);
let Native: NativePollerClass | undefined;
const slots = new Map<number, Slot>();

/** bindings-cpp's own native poller class (loads the native module on first use). */
export function nativePollerClass(): NativePollerClass {
  Native ??= (
    requireCjs('@serialport/bindings-cpp/dist/serialport-bindings.js') as {
      binding: { Poller: NativePollerClass };
    }
  ).binding.Poller;
  return Native;
}

// Apart from borrowPoller, so that the native callback's closure holds the slot and no
// borrower's callback.
function newSlot(fd: number): Slot {
  const s: Slot = { native: undefined as unknown as FdPoller, owner: undefined };
  s.native = new (nativePollerClass())(fd, (err, flags) => s.owner?.(err, flags));
  return s;
}

/**
 * The poller of fd number `fd`, lent until destroy().
 *
 * poll() adds to what is watched: bindings-cpp's native poll(events) restarts the libuv
 * poll with `events` alone, so a reader waiting for READABLE that re-armed while a writer
 * waited for WRITABLE took the writer's interest away, and a write larger than the tty's
 * buffer then stalled for good on a line with nothing more to read (seen under load: the
 * port's write waiting for "writable" on a tty that had room). The lent poller passes the
 * union of what is still awaited; an event takes its own bits off.
 */
export function borrowPoller(fd: number, cb: PollerCallback): FdPoller {
  let want = 0;
  const heard: PollerCallback = (err, flags) => {
    want = err ? 0 : want & ~flags;
    cb(err, flags);
  };
  let slot = slots.get(fd);
  // Never expected: fd numbers are unique while open, and each holder gives its back.
  if (slot?.owner !== undefined) return union(new (nativePollerClass())(fd, heard));
  if (!slot) {
    slot = newSlot(fd);
    slots.set(fd, slot);
  }
  const mine = slot;
  mine.owner = heard;
  const owns = (): boolean => mine.owner === heard;
  return union({
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
  });

  function union(p: FdPoller): FdPoller {
    return {
      poll: (events) => {
        want |= events;
        p.poll(want);
      },
      stop: () => {
        want = 0;
        p.stop();
      },
      destroy: () => {
        want = 0;
        p.destroy();
      },
    };
  }
}
