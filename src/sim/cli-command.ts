import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { serveControl, type ControlServer } from './control.js';
import { createExchange, digitsOf, type Exchange } from './exchange.js';

/**
 * `callbackd sim`: an exchange with virtual modems, standalone, for trying callbackd
 * (or minicom, chat, pppd) against modems without hardware. Prints one line per
 * modem, then `control <socket>` if asked for, then `ready`; runs until SIGINT or
 * SIGTERM. Lines are space-separated for scripts:
 *   modem <number> <tty> [<link>]
 */
export interface SimArgs {
  modems?: number;
  numbers?: string;
  control?: string;
  eventLog?: string;
  ringMs: number;
  linkDir?: string;
  connectSpeed: number;
  callerId: boolean;
}

export interface RunningSim {
  exchange: Exchange;
  control: ControlServer | undefined;
  close(): Promise<void>;
}

/** The first numbers handed out when --numbers is not given. */
const FIRST_NUMBER = 5551001;

export function simNumbers(args: Pick<SimArgs, 'modems' | 'numbers'>): string[] {
  if (args.numbers !== undefined) {
    const list = args.numbers.split(',').map((s) => s.trim());
    if (list.some((n) => digitsOf(n) === ''))
      throw new Error(`--numbers: every entry needs digits: ${args.numbers}`);
    if (new Set(list.map(digitsOf)).size !== list.length)
      throw new Error(`--numbers: duplicate number in ${args.numbers}`);
    if (args.modems !== undefined && args.modems !== list.length) {
      throw new Error(`--modems ${args.modems} but --numbers lists ${list.length}`);
    }
    return list;
  }
  const count = args.modems ?? 2;
  if (!Number.isInteger(count) || count < 1 || count > 64)
    throw new Error(`--modems must be 1..64, got ${count}`);
  return Array.from({ length: count }, (_, i) => String(FIRST_NUMBER + i));
}

/** Starts the exchange and prints the listing; `out` receives whole lines. */
export async function startSim(args: SimArgs, out: (line: string) => void): Promise<RunningSim> {
  const numbers = simNumbers(args);
  if (!Number.isInteger(args.ringMs) || args.ringMs < 1)
    throw new Error(`--ring-ms must be a positive integer`);
  const exchange = await createExchange({
    ringIntervalMs: args.ringMs,
    connectSpeed: args.connectSpeed,
    ...(args.eventLog !== undefined ? { eventLog: args.eventLog } : {}),
  });
  let control: ControlServer | undefined;
  try {
    if (args.linkDir !== undefined) await mkdir(args.linkDir, { recursive: true });
    for (const number of numbers) {
      const link = args.linkDir !== undefined ? join(args.linkDir, `modem${digitsOf(number)}`) : undefined;
      const m = await exchange.addModem({ number, callerId: args.callerId, ...(link ? { link } : {}) });
      out(['modem', m.number, m.ttyPath, ...(m.link ? [m.link] : [])].join(' '));
    }
    if (args.control !== undefined) {
      control = await serveControl(exchange, args.control);
      out(`control ${control.path}`);
    }
  } catch (err) {
    await control?.close();
    await exchange.close();
    throw err;
  }
  out('ready');
  return {
    exchange,
    control,
    async close() {
      await control?.close();
      await exchange.close();
    },
  };
}

export const simCommand: CommandModule<object, SimArgs> = {
  command: 'sim',
  describe: 'run a virtual telephone exchange with Hayes modems on pseudo-terminals',
  // yargs infers kebab-case keys; camelCase aliases exist at run time, hence the cast.
  builder: (y: Argv<object>) =>
    (y as unknown as Argv<SimArgs>)
      .option('modems', { type: 'number', describe: 'how many modems (default 2)' })
      .option('numbers', { type: 'string', describe: 'comma-separated phone numbers, one modem each' })
      .option('control', { type: 'string', describe: 'unix socket for DTR/carrier (signals kind "sim")' })
      .option('event-log', { type: 'string', describe: 'append every modem event as JSON lines' })
      .option('ring-ms', { type: 'number', default: 6000, describe: 'time between RINGs' })
      .option('link-dir', { type: 'string', describe: 'make DIR/modem<number> symlinks to the ttys' })
      .option('connect-speed', { type: 'number', default: 33600, describe: 'speed shown in CONNECT' })
      .option('caller-id', {
        type: 'boolean',
        default: false,
        describe: 'caller ID on after reset',
      }) as unknown as Argv<SimArgs>,
  handler: async (args) => {
    const sim = await startSim(args, (line) => process.stdout.write(`${line}\n`));
    // The exchange's own timers do not hold the process open; this does, until a signal.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    clearInterval(keepAlive);
    await sim.close();
  },
};
