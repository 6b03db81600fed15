import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoConfig } from '../../src/demo/config.js';
import { LogTap } from '../../src/log-tap.js';
import { hashSecret } from '../../src/policy/index.js';
import type { Terminal } from '../../src/sim/terminal.js';

export const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;
const STANDIN = new URL('../../dist/demo/pppd-standin.js', import.meta.url).pathname;
export const PPP_PASSWORD = 'password_for_pppuser';

/**
 * The built program as systemd runs it: `callbackd sim` with the daemon's modem
 * (5376443) and the caller's (123456, at `callerTty`), and `callbackd run` on the demo
 * configuration plus `daemonToml` lines for its [daemon] table, its JSON log in `tap`.
 */
export interface CliDaemon {
  dir: string;
  configFile: string;
  callerTty: string;
  tap: LogTap;
  daemon: ChildProcess;
  config: string;
  close(): Promise<void>;
}

export function waitForText(child: ChildProcess, text: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no "${text}" from the simulator`)), ms);
    child.stdout!.on('data', (b: Buffer) => {
      seen += b.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** `callbackd sim` in its own process with the daemon's modem (5376443) and the caller's
 * (123456) linked into dir, once it says it is ready. */
export async function startSim(dir: string): Promise<ChildProcess> {
  const sim = spawn(
    process.execPath,
    [CLI, 'sim', '--numbers', '5376443,123456', '--link-dir', dir, '--control', join(dir, 'sim.sock')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await waitForText(sim, 'ready', 15_000);
  return sim;
}

/** The demo configuration on startSim's modem, with the pppd stand-in and the PPP user's hash. */
export function simDemoConfig(dir: string, hash: string): string {
  return demoConfig({
    dir,
    device: join(dir, 'modem5376443'),
    socket: join(dir, 'sim.sock'),
    pppd: [process.execPath, STANDIN],
    hash,
  });
}

export async function startCliDaemon(o: { daemonToml?: (dir: string) => string } = {}): Promise<CliDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'callbackd-cli-'));
  const sim = await startSim(dir);
  const config = simDemoConfig(dir, await hashSecret(PPP_PASSWORD)).replace(
    '[daemon]\n',
    `[daemon]\n${o.daemonToml?.(dir) ?? ''}`,
  );
  const configFile = join(dir, 'callbackd.toml');
  writeFileSync(configFile, config);
  const tap = new LogTap();
  const daemon = spawn(process.execPath, [CLI, 'run', '--config', configFile, '--log-level', 'debug'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  daemon.stdout!.pipe(tap.stream);
  await tap.waitFor((e) => e.event === 'line-ready', 20_000, 'line-ready');
  await tap.waitFor((e) => e.event === 'control-listening', 5_000, 'control-listening');
  return {
    dir,
    configFile,
    callerTty: join(dir, 'modem123456'),
    tap,
    daemon,
    config,
    close: async () => {
      daemon.kill('SIGKILL');
      sim.kill('SIGTERM');
      await new Promise((r) => (sim.exitCode !== null ? r(null) : sim.on('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The HOWTO's call: dial in, `call`, answer the call-back, log in as the PPP user; the
 * pppd stand-in then answers on the line. */
export async function callBackIntoPpp(port: Terminal): Promise<void> {
  await port.write('ATE0\r');
  await port.expect('OK', 5_000);
  await port.write('ATDT5376443\r');
  await port.expect('login: ', 20_000);
  await port.write('call\r');
  await port.expect('NO CARRIER', 15_000);
  await port.expect('RING', 20_000);
  await port.write('ATA\r');
  await port.expect('login: ', 20_000);
  await port.write('pppuser\r');
  await port.expect('Password: ', 5_000);
  await port.write(`${PPP_PASSWORD}\r`);
  await port.sendUntilAnswered('hello\n', ' hello\n');
}
