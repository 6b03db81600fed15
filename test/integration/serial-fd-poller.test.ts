import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterEach, expect, it } from 'vitest';
import { borrowPoller, POLL_EVENTS, type FdPoller } from '../../src/serial/fd-poller.js';
import { errnoCode } from '../../src/errors.js';

// A lent poller watches everything still awaited on its fd: a reader that re-arms for
// READABLE while a writer waits for WRITABLE must not take the writer's interest away
// (bindings-cpp's native poll() alone restarts the watch with the new events only, and a
// write bigger than the tty's buffer then never finished on a quiet line).

const require = createRequire(import.meta.url);
const native = (require('node-pty') as { native: { open(c: number, r: number): NativePair } }).native;
interface NativePair {
  master: number;
  slave: number;
  pty: string;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function isEagain(err: unknown): boolean {
  return errnoCode(err) === 'EAGAIN';
}

it('a writer waiting for WRITABLE still hears it after a reader asked for READABLE', async () => {
  const t = native.open(80, 24);
  const slave = openSync(t.pty, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOCTTY);
  closeSync(t.slave);
  cleanups.push(() => closeSync(t.master));
  cleanups.push(() => closeSync(slave));

  // The slave's output fills up: nobody reads the master yet.
  const chunk = Buffer.alloc(4096, 0x61);
  let filled = false;
  while (!filled) {
    try {
      writeSync(slave, chunk);
    } catch (err) {
      if (!isEagain(err)) throw err;
      filled = true;
    }
  }

  let writable!: (flags: number) => void;
  const heard = new Promise<number>((r) => (writable = r));
  const p: FdPoller = borrowPoller(slave, (err, flags) => {
    if (err) throw err;
    if (flags & POLL_EVENTS.WRITABLE) writable(flags);
  });
  cleanups.push(() => p.destroy());
  p.poll(POLL_EVENTS.WRITABLE); // the writer
  p.poll(POLL_EVENTS.READABLE); // then the reader, with nothing to read

  // Now the master reads everything, as the far end of a line does, whenever it can.
  const buf = Buffer.alloc(65536);
  const reader = borrowPoller(t.master, () => {
    drainMaster();
    reader.poll(POLL_EVENTS.READABLE);
  });
  cleanups.push(() => reader.destroy());
  function drainMaster(): void {
    for (;;) {
      try {
        if (readSync(t.master, buf, 0, buf.length, null) === 0) return;
      } catch (err) {
        if (isEagain(err)) return;
        throw err;
      }
    }
  }
  drainMaster();
  reader.poll(POLL_EVENTS.READABLE);

  expect((await heard) & POLL_EVENTS.WRITABLE).toBe(POLL_EVENTS.WRITABLE);
});
