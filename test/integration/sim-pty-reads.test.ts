import { randomBytes } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { HangupAwarePort } from '../../src/serial/hangup-port.js';
import { createExchange, type Exchange } from '../../src/sim/index.js';
import { DEFAULT_PTY_OPTIONS, PtyLine } from '../../src/sim/pty.js';
import { Terminal } from '../../src/sim/terminal.js';

// The simulator reads a pty master when libuv says it is readable, not on its poll
// timer: every time measured from its event log (RING -> ATA, say) used to include up
// to one poll interval of the simulator's own lateness. And the daemon's port reads and
// writes the tty on the event loop's thread (non-blocking read(2) / write(2)): a write
// larger than the tty's buffer must still arrive whole and in order.

const HOUR = 3_600_000;
let ex: Exchange | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await ex?.close();
  ex = undefined;
});

it('a modem hears its DTE when the bytes arrive, with a read timer that would not fire for an hour', async () => {
  // Only the "nobody holds the tty" poll is short: it is how an open is noticed.
  ex = await createExchange({ pty: { pollMs: HOUR, idlePollMs: HOUR, hotMs: HOUR, closedPollMs: 5 } });
  const m = await ex.addModem({ number: '100' });
  for (let round = 0; round < 2; round++) {
    const from = ex.mark();
    const d = await Terminal.open(m.ttyPath);
    await ex.waitFor((e) => e.modem === '100' && e.type === 'open', 5_000, from);
    await d.at('');
    await d.expect('OK\r\n');
    await d.at('S7=45S7?');
    expect(await d.expect('OK\r\n')).toContain('045');
    // The last close is heard too (the master's hang-up wakes the poll), and a
    // second open works the same.
    await d.close();
    await ex.waitFor((e) => e.modem === '100' && e.type === 'close', 5_000, from);
  }
});

it("timer reads ('timer') still work for a caller that asks for them", async () => {
  ex = await createExchange({ pty: { reads: 'timer', pollMs: 1, idlePollMs: 5, closedPollMs: 5 } });
  const m = await ex.addModem({ number: '100' });
  const d = await Terminal.open(m.ttyPath);
  cleanups.push(() => d.close());
  await ex.waitFor((e) => e.modem === '100' && e.type === 'open');
  await d.at('');
  await d.expect('OK\r\n');
});

it("the daemon's port and the simulator's pty move more than a tty buffer each way, whole and in order", async () => {
  const received: Buffer[] = [];
  let receivedBytes = 0;
  let expected = Infinity;
  let allReceived!: () => void;
  const receivedAll = new Promise<void>((r) => (allReceived = r));
  let opened!: () => void;
  const open = new Promise<void>((r) => (opened = r));
  const line = await PtyLine.create({
    onData: (b) => {
      received.push(b);
      receivedBytes += b.length;
      if (receivedBytes >= expected) allReceived();
    },
    onOpen: () => opened(),
    onClose: () => undefined,
  });
  cleanups.push(() => line.close());
  const port = new HangupAwarePort({
    path: line.path,
    baudRate: 115200,
    autoOpen: false,
    rtscts: false,
    xon: false,
    xoff: false,
    hupcl: true,
    lock: false,
  });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  cleanups.push(() => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())));
  const got: Buffer[] = [];
  let gotBytes = 0;
  let wanted = 0;
  let heard: (() => void) | undefined;
  port.on('data', (b: Buffer) => {
    got.push(b);
    gotBytes += b.length;
    if (gotBytes >= wanted) heard?.();
  });
  await open;
  expect(DEFAULT_PTY_OPTIONS.reads).toBe('events');

  // Port -> master: the first write(2) happens before the simulator reads anything, so
  // the tty fills up and the rest waits for the poller's "writable".
  const out = randomBytes(256 * 1024);
  expected = out.length;
  await new Promise<void>((resolve, reject) => port.write(out, (e) => (e ? reject(e) : resolve())));
  await receivedAll;
  expect(Buffer.concat(received).equals(out)).toBe(true);

  // Master -> port: more than the tty takes at once; the simulator queues the rest.
  const back = randomBytes(128 * 1024);
  wanted = back.length;
  const all = new Promise<void>((r) => (heard = r));
  expect(line.write(back)).toBe(true);
  await all;
  expect(Buffer.concat(got).equals(back)).toBe(true);
});
