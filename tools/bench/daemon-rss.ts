import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createExchange, stdioWithoutMasters, serveControl } from '../../src/sim/index.js';
import { configFor } from './lines.js';

export interface RssResult {
  lines: number;
  rssMB: number;
  /** Seconds from spawn until every line reported ready. */
  startSeconds: number;
}

/** How long the daemon may take to bring its lines up before the measurement is abandoned. */
const READY_TIMEOUT_MS = 30_000;
/** Idle time after the last line is ready, so start-up garbage is collected before measuring. */
const SETTLE_MS = 2_000;

/**
 * RSS of a real `callbackd run` process idling on `n` simulated lines (the exchange
 * runs in this process, not in the daemon). The daemon reports each line with a
 * `line-ready` log event; RSS is read from /proc after a short settle time.
 */
export async function idleDaemonRss(cli: string, n: number): Promise<RssResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'callbackd-bench-'));
  // Like /var/lock, the lock directory is expected to exist.
  mkdirSync(path.join(dir, 'lock'));
  const exchange = await createExchange();
  const control = await serveControl(exchange, path.join(dir, 'sim.sock'));
  try {
    const devices: string[] = [];
    for (let i = 0; i < n; i++) devices.push((await exchange.addModem({ number: `${200 + i}` })).ttyPath);
    const cfg = path.join(dir, 'callbackd.toml');
    writeFileSync(cfg, configFor(dir, devices, path.join(dir, 'sim.sock')));
    const t0 = Date.now();
    const child = spawn(process.execPath, [cli, 'run', '--config', cfg], {
      stdio: stdioWithoutMasters(['ignore', 'pipe', 'pipe']),
    });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        let ready = 0;
        const timer = setTimeout(
          () => reject(new Error(`only ${ready} of ${n} lines ready after ${READY_TIMEOUT_MS} ms`)),
          READY_TIMEOUT_MS,
        );
        createInterface({ input: child.stdout! }).on('line', (l) => {
          if (l.includes('"line-ready"') && ++ready === n) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(
            new Error(
              `daemon exited with ${code} before its lines were ready: ${stderr.trim().slice(0, 300)}`,
            ),
          );
        });
      });
      const startSeconds = (Date.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
      return { lines: n, rssMB: Math.round((kb / 1024) * 10) / 10, startSeconds };
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    }
  } finally {
    await control.close();
    await exchange.close();
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
}

/** RSS of a Node process doing nothing, for scale: most of the daemon's RSS is the runtime. */
export async function bareNodeRss(): Promise<number> {
  const child = spawn(
    process.execPath,
    ['-e', 'process.stdout.write("up\\n"); setInterval(() => {}, 60_000)'],
    {
      stdio: stdioWithoutMasters(['ignore', 'pipe', 'ignore']),
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`node exited with ${code}`)));
    });
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
    return Math.round((kb / 1024) * 10) / 10;
  } finally {
    child.kill('SIGKILL');
  }
}
