import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { HangupAwarePort } from '../../src/serial/hangup-port.js';
import type { Exchange } from '../../src/sim/index.js';
import { fastExchange } from './modem-helpers.js';

// A port opened and closed again must leave nothing behind: a line reopens its tty after
// every call, so what one open keeps is kept once per call for the daemon's life.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let dir: string;
let ex: Exchange;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'callbackd-poller-'));
  ex = await fastExchange();
  await ex.addModem({ number: '100', link: join(dir, 'tty') });
});
afterEach(async () => {
  await ex.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Opened {
  port: { poller: object };
}

/** The port class the daemon's transport uses, opened on the simulator's tty. */
async function openPort(path: string): Promise<InstanceType<typeof HangupAwarePort>> {
  const port = new HangupAwarePort({
    path,
    baudRate: 115200,
    autoOpen: false,
    rtscts: false,
    xon: false,
    xoff: false,
    hupcl: true,
    lock: true,
  });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  return port;
}

async function openAndClose(path: string): Promise<WeakRef<object>> {
  const port = await openPort(path);
  const poller = (port as unknown as Opened).port.poller;
  await new Promise<void>((resolve) => port.close(() => resolve()));
  return new WeakRef(poller);
}

it('every closed port lets its poller go (one native poller per fd number, lent and given back)', async () => {
  const refs: WeakRef<object>[] = [];
  for (let i = 0; i < 10; i++) refs.push(await openAndClose(join(dir, 'tty')));
  // The native finalizer runs after one collection and frees the JS side for the next one.
  // A deref() keeps its target alive until the job ends, so each collection starts a job.
  const tick = () => new Promise((r) => setImmediate(r));
  const alive = () => refs.filter((r) => r.deref() !== undefined).length;
  for (let round = 0; round < 20; round++) {
    await tick();
    gc();
    await tick();
    if (alive() === 0) break;
  }
  expect(alive()).toBe(0);
});

it("a port that gets a closed port's fd number hears its modem (the lent poller is started again)", async () => {
  for (let i = 0; i < 3; i++) {
    const port = await openPort(join(dir, 'tty'));
    let heard = '';
    const ok = new Promise<void>((resolve) =>
      port.on('data', (b: Buffer) => {
        heard += b.toString();
        if (heard.includes('OK')) resolve();
      }),
    );
    port.write('AT\r');
    await ok;
    await new Promise((resolve) => port.close(() => resolve(undefined)));
  }
});
