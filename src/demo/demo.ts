import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../config/index.js';
import { createLogger } from '../log.js';
import { hashSecret } from '../policy/index.js';
import { haveRealChat, runBuiltinChat, runRealChat, type ChatRun } from '../sim/caller.js';
import { Terminal } from '../sim/terminal.js';
import { createExchange, serveControl, type SimModem } from '../sim/index.js';
import { startDaemon } from '../daemon/daemon.js';
import { demoConfig } from './config.js';
import { Transcript } from './transcript.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The HOWTO's client chat script ships in config/client/ (two levels up from src/ or dist/). */
const CLIENT_SCRIPT = join(here, '..', '..', 'config', 'client', 'pppcallback');
/** The pppd stand-in, compiled next to this file (dist/demo/pppd-standin.js). */
const STANDIN = join(here, 'pppd-standin.js');

export const DEMO_SERVER = '5376443';
export const DEMO_CALLER = '123456';
const PASSWORD = 'password_for_pppuser';

export interface DemoOptions {
  /** Milliseconds between RINGs (a real line: 6000). */
  ringMs: number;
  /** Also append the daemon's JSON log lines to this file. */
  logFile?: string;
  out: NodeJS.WritableStream;
  /** 'auto' runs chat(8) when installed, else the built-in interpreter. */
  chat: 'auto' | 'builtin';
}

/**
 * `callbackd demo`: the HOWTO's scenario on the virtual exchange. callbackd answers on
 * modem 5376443 with a pppd stand-in; the caller on modem 123456 runs the HOWTO's
 * client chat script (dial in, `call`, wait for the call-back, log in as pppuser),
 * exchanges lines with the stand-in over the handed-over tty, and says BYE.
 * Returns 0 when every step happened and the accounting record says so.
 */
export async function runDemo(o: DemoOptions): Promise<number> {
  if (!existsSync(STANDIN)) throw new Error(`${STANDIN} is missing: run \`npm run build\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'callbackd-demo-'));
  const transcript = new Transcript(o.out, o.logFile);
  const exchange = await createExchange({ ringIntervalMs: o.ringMs, connectSpeed: 33600 });
  let stopDaemon: (() => Promise<void>) | undefined;
  let control: { close(): Promise<void> } | undefined;
  let verdict = 'demo FAILED';
  try {
    const device = join(dir, `modem${DEMO_SERVER}`);
    const server = await exchange.addModem({ number: DEMO_SERVER, callerId: true, link: device });
    const caller = await exchange.addModem({ number: DEMO_CALLER, link: join(dir, `modem${DEMO_CALLER}`) });
    exchange.on('event', (e) => transcript.sim(e));
    control = await serveControl(exchange, join(dir, 'sim.sock'));

    const toml = demoConfig({
      dir,
      device,
      socket: join(dir, 'sim.sock'),
      pppd: [process.execPath, STANDIN],
      hash: await hashSecret(PASSWORD),
    });
    writeFileSync(join(dir, 'callbackd.toml'), toml);
    const config = parseConfig(toml, join(dir, 'callbackd.toml'));
    const log = createLogger({ level: 'info', destination: transcript.tap.stream });
    const daemon = await startDaemon({ config, log });
    stopDaemon = () => daemon.stop();
    await transcript.tap.waitFor((e) => e.event === 'line-ready', 15_000, 'line-ready');

    transcript.say(
      `callbackd waits on ${server.ttyPath} (number ${DEMO_SERVER}); caller on ${caller.ttyPath}`,
    );
    const { chat, port } = await callIn(caller, o, transcript);
    if (!chat.ok) throw new Error(`the caller's chat script failed (exit ${chat.code}):\n${chat.log}`);
    const exchanged = await talkToPppd(port, transcript);
    const end = await transcript.tap.waitFor((e) => e.event === 'call-end', 20_000, 'call-end');
    await transcript.tap
      .waitFor((e) => e.event === 'line-ready' && e !== undefined, 20_000)
      .catch(() => undefined);
    const record = readFileSync(join(dir, 'accounting.jsonl'), 'utf8').trim();
    transcript.say(`accounting record: ${record}`);
    const ok = end.outcome === 'ppp-ok' && end.callbackNumber === DEMO_CALLER;
    verdict = ok
      ? `demo passed: called back ${DEMO_CALLER}, pppuser logged in, ${exchanged} lines crossed the handed-over line, pppd ended cleanly`
      : `demo FAILED: the call ended with ${String(end.outcome)}`;
    return ok ? 0 : 1;
  } catch (err) {
    verdict = `demo FAILED: ${(err as Error).message}`;
    return 1;
  } finally {
    await stopDaemon?.().catch(() => undefined);
    await control?.close().catch(() => undefined);
    await exchange.close();
    rmSync(dir, { recursive: true, force: true });
    transcript.say(verdict);
  }
}

/**
 * Runs the client chat script, and returns the caller's tty opened for the data phase.
 * The tty is held open throughout, as pppd holds it around its connect script.
 */
async function callIn(
  caller: SimModem,
  o: DemoOptions,
  t: Transcript,
): Promise<{ chat: ChatRun; port: Terminal }> {
  const script = readFileSync(CLIENT_SCRIPT, 'utf8');
  if (o.chat === 'auto' && haveRealChat()) {
    t.caller(`running chat -v -f pppcallback on ${caller.ttyPath} (the real chat program)`);
    const chat = await runRealChat(caller.ttyPath, script, 120_000, (l) => {
      if (l.trim()) t.caller(`chat: ${l}`);
    });
    try {
      return { chat, port: await Terminal.open(caller.ttyPath, { hupcl: false }) };
    } finally {
      chat.release();
    }
  }
  t.caller('chat(8) not installed: running pppcallback with the built-in chat interpreter');
  const port = await Terminal.open(caller.ttyPath, { hupcl: false });
  return { chat: await runBuiltinChat(port, script, (s) => t.caller(s)), port };
}

/** Lines to and from the pppd stand-in over the line callbackd handed over, then BYE. */
async function talkToPppd(port: Terminal, t: Transcript): Promise<number> {
  try {
    const n = 3;
    for (let i = 1; i <= n; i++) {
      await port.sendUntilAnswered(`hello ${i}\n`, ` hello ${i}\n`);
      t.caller(`sent "hello ${i}", the pppd stand-in answered`);
    }
    await port.write('BYE\n');
    t.caller('sent BYE: the stand-in exits 0, as pppd does when the peer ends the link');
    await port.expect('NO CARRIER', 10_000).catch(() => undefined);
    return n;
  } finally {
    await port.close();
  }
}
