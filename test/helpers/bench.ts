import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/config/types.js';
import { startDaemon, type DaemonHandle } from '../../src/daemon/daemon.js';
import { createLogger } from '../../src/log.js';
import { LogTap, type LogEvent } from '../../src/log-tap.js';
import { hashSecret } from '../../src/policy/index.js';
import { runRealChat } from '../../src/sim/caller.js';
import { Terminal } from '../../src/sim/terminal.js';
import {
  createExchange,
  serveControl,
  type Exchange,
  type Faults,
  type SimModem,
} from '../../src/sim/index.js';
import { testConfig, testLine, testUser } from './config.js';
import { writeStandin } from './standin.js';

export const SERVER = '5376443';
export const CALLER = '123456';
/** The second line's modem, with `twoLines`. */
export const SERVER2 = '5376444';
export const PASSWORD = 'password_for_pppuser';

let passwordHash: string | undefined;

/**
 * A test bench for whole calls: the virtual exchange with the daemon's modem
 * (5376443) and the caller's (123456), callbackd running in this process on real
 * ptys with the sim's control socket for DTR and carrier, and the pppd stand-in.
 * Tests wait on the daemon's log events (tap) and the exchange's events.
 */
export interface Bench {
  dir: string;
  exchange: Exchange;
  server: SimModem;
  /** Line ttyS2 on modem 5376444, with `twoLines`. */
  server2?: SimModem;
  caller: SimModem;
  tap: LogTap;
  daemon: DaemonHandle;
  config: Config;
  accounting(): Record<string, unknown>[];
  /** Waits for the call's end record in the log. */
  callEnd(timeoutMs?: number): Promise<LogEvent>;
  openCaller(): Promise<Terminal>;
  close(): Promise<void>;
}

export async function startBench(
  tune: (c: Config) => Config = (c) => c,
  opts: { configPath?: string; waitReady?: boolean; twoLines?: boolean; serverFaults?: Partial<Faults> } = {},
): Promise<Bench> {
  const dir = mkdtempSync(join(tmpdir(), 'callbackd-it-'));
  mkdirSync(join(dir, 'lock'));
  passwordHash ??= await hashSecret(PASSWORD);
  const exchange = await createExchange({ ringIntervalMs: 100, connectSpeed: 33600 });
  const device = join(dir, `modem${SERVER}`);
  const server = await exchange.addModem({
    number: SERVER,
    callerId: true,
    link: device,
    faults: opts.serverFaults,
  });
  const caller = await exchange.addModem({ number: CALLER, link: join(dir, `modem${CALLER}`) });
  const device2 = join(dir, `modem${SERVER2}`);
  const server2 = opts.twoLines ? await exchange.addModem({ number: SERVER2, link: device2 }) : undefined;
  const socket = join(dir, 'sim.sock');
  const control = await serveControl(exchange, socket);
  const base = testConfig();
  const config = tune({
    ...base,
    daemon: {
      ...base.daemon,
      lockDir: join(dir, 'lock'),
      stateDir: dir,
      accountingFile: join(dir, 'accounting.jsonl'),
    },
    lines: [device, ...(server2 ? [device2] : [])].map((d, i) =>
      testLine({
        name: `ttyS${i + 1}`,
        device: d,
        init: '"" ATZ OK ATQ0V1E0S0=0&D3&C1 OK AT+VCID=1 OK',
        signals: { kind: 'sim', socket },
        timing: { ...base.timing, settleMs: 100, announceMs: 100 },
      }),
    ),
    pppUsers: [testUser(passwordHash)],
    pppd: { ...base.pppd, path: process.execPath, prefixArgs: [writeStandin(dir)] },
  });
  const tap = new LogTap();
  const log = createLogger({ level: 'debug', destination: tap.stream });
  const daemon = await startDaemon({ config, log, configPath: opts.configPath });
  if (opts.waitReady !== false) {
    await tap.waitForCount((e) => e.event === 'line-ready', config.lines.length, 10_000);
  }
  const ports: Terminal[] = [];
  return {
    dir,
    exchange,
    server,
    server2,
    caller,
    tap,
    daemon,
    config,
    accounting: () =>
      readFileSync(join(dir, 'accounting.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    callEnd: (timeoutMs = 20_000) => tap.waitFor((e) => e.event === 'call-end', timeoutMs, 'call-end'),
    openCaller: async () => {
      const p = await Terminal.open(caller.ttyPath, { hupcl: false });
      ports.push(p);
      return p;
    },
    close: async () => {
      for (const p of ports) await p.close();
      await daemon.stop();
      await control.close();
      await exchange.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Dials the daemon from the caller's modem and waits for the login prompt. */
export async function dialIn(port: Terminal): Promise<void> {
  await port.write('ATE0\r');
  await port.expect('OK', 3_000);
  await port.write(`ATDT${SERVER}\r`);
  await port.expect('CONNECT', 10_000);
  await port.expect('login: ', 10_000);
}

/** Answers the daemon's call-back and waits for the second login prompt. */
export async function answerCallback(port: Terminal): Promise<void> {
  await port.expect('RING', 15_000);
  await port.write('ATA\r');
  await port.expect('CONNECT', 10_000);
  await port.expect('login: ', 10_000);
}

/** The seed's first leg as a caller goes through it, up to the call-back's `login:`. */
export async function callBack(b: Bench): Promise<Terminal> {
  const port = await b.openCaller();
  await dialIn(port);
  await port.write('call\r');
  await port.expect(`Calling you back at ${CALLER}`, 5_000);
  await port.expect('NO CARRIER', 5_000);
  await answerCallback(port);
  return port;
}

/**
 * The real chat program runs `script` on the caller's modem; once it has finished (the
 * call-back answered, logged in) the caller's line is opened for the test, whatever the
 * outcome, and chat's own port released. The caller checks `ok` and `log`.
 */
export async function chatThenOpen(
  b: Bench,
  script: string,
  ms: number,
): Promise<{ ok: boolean; log: string; port: Terminal }> {
  const chat = await runRealChat(b.caller.ttyPath, script, ms);
  try {
    return { ok: chat.ok, log: chat.log, port: await b.openCaller() };
  } finally {
    chat.release();
  }
}

/** A call-back, `pppuser` logged in, and the pppd stand-in answering on the line. */
export async function callBackIntoStandin(b: Bench): Promise<Terminal> {
  const port = await callBack(b);
  await port.write('pppuser\r');
  await port.expect('Password: ', 5_000);
  await port.write(`${PASSWORD}\r`);
  await pingStandin(port, 'up');
  return port;
}

/**
 * A line to the pppd stand-in and its answer, over the handed-over tty. Resent every
 * second until answered (what arrives before the child has the line is lost), for up
 * to a minute: a loaded machine can take many seconds to start a Node child.
 */
export function pingStandin(port: Terminal, text: string): Promise<void> {
  return port.sendUntilAnswered(`${text}\n`, ` ${text}\n`, 60, 1_000);
}
