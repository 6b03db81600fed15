import { silentLogger } from '../../src/log.js';
import { Modem } from '../../src/modem/index.js';
import { FAST_TIMING, type Timing } from '../../src/timing.js';
import { createSerialTransport } from '../../src/serial/index.js';
import type { Transport } from '../../src/serial/transport.js';
import { createExchange, type Exchange, type SimModem } from '../../src/sim/index.js';

/** Test timing: FAST_TIMING with the escape guard a little above the simulator's. */
export const TIMING: Timing = { ...FAST_TIMING, escapeGuardMs: 80, commandMs: 800 };

/** An exchange with a short ring cadence and escape guard, so calls take milliseconds. */
export function fastExchange(): Promise<Exchange> {
  return createExchange({
    ringIntervalMs: 150,
    escapeGuardMs: 50,
    dialDelayMs: 20,
    unknownNumberDelayMs: 100,
  });
}

export interface Driven {
  transport: Transport;
  modem: Modem;
  close(): Promise<void>;
}

/**
 * Our driver on a simulated modem's tty, through real serialport on the pty.
 * With `dtr: true` DTR and carrier go through the simulator's signals, as a line
 * configured with `signals = "sim"` does; without, the pty has no DTR at all.
 */
export async function drive(
  sim: SimModem | string,
  opts: { dtr?: boolean; timing?: Partial<Timing> } = {},
): Promise<Driven> {
  const path = typeof sim === 'string' ? sim : sim.ttyPath;
  const signals = opts.dtr && typeof sim !== 'string' ? sim.signals : undefined;
  const transport = createSerialTransport({
    path,
    baudRate: 115200,
    flowControl: 'none',
    signals,
    log: silentLogger(),
  });
  await transport.open();
  const modem = new Modem(transport, {
    timing: { ...TIMING, ...opts.timing },
    log: silentLogger(),
    line: path,
  });
  return {
    transport,
    modem,
    async close() {
      modem.dispose();
      await transport.close();
    },
  };
}

/** Resolves with the first value an event source delivers that passes `pred`. */
export function next<T>(
  subscribe: (fn: (v: T) => void) => () => void,
  pred: (v: T) => boolean = () => true,
  ms = 5_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsub();
      reject(new Error(`no matching event within ${ms} ms`));
    }, ms);
    const unsub = subscribe((v) => {
      if (!pred(v)) return;
      clearTimeout(timer);
      unsub();
      resolve(v);
    });
  });
}
