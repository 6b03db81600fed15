import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { hashSecret } from '../../src/policy/hash.js';
import { createExchange, stdioWithoutMasters, serveControl, type SimModem } from '../../src/sim/index.js';
import { Terminal } from '../../src/sim/terminal.js';
import { standinPppToml, type Standin } from './compare.js';
import { memOf, shebangFlags } from './lines.js';
import { CLI, shebangEnv } from '../paths.js';

/**
 * n lines cycling at once: n callers on their own modems dial n lines of one daemon,
 * log in as a PPP user (the password's scrypt included), reach the pppd stand-in, say
 * BYE and dial again, for `seconds`. Reports completed calls per second, the daemon's
 * event-loop delay (through lag-probe.js) and its peak RSS.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const PROBE = path.join(here, 'lag-probe.js');
const PASSWORD = 'password_for_pppuser';

export interface ScaleResult {
  lines: number;
  seconds: number;
  calls: number;
  failed: number;
  firstError?: string | undefined;
  callsPerSecond: number;
  lag: { p50: number; p99: number; max: number; n: number } | undefined;
  peakRssKB: number;
  /**
   * CPU seconds over the measured window: the daemon itself, its exited children (the
   * pppd stand-ins: setsid execs them, so the daemon reaps them), and this process (the
   * simulator and the callers).
   */
  cpu: { daemon: number; children: number; bench: number };
  standin: Standin;
  /**
   * The daemon's accounting file after the run: records per `outcome/pppExitCode`, and
   * how many carry pppd's byte counts. A stand-in that callbackd treats as pppd gives one
   * `ppp-ok/0` record with bytes per completed call.
   */
  records: { total: number; withBytes: number; byOutcome: Record<string, number> };
}

export interface ScaleOptions {
  /** Extra node options for the daemon (V8 flags, --cpu-prof). */
  nodeArgs?: string[];
  /** Extra environment for the daemon (UV_THREADPOOL_SIZE, ...). */
  env?: Record<string, string>;
  standin?: Standin;
}

export async function scale(n: number, seconds: number, o: ScaleOptions = {}): Promise<ScaleResult> {
  const nodeArgs = o.nodeArgs ?? [];
  const standin = o.standin ?? 'sh';
  const dir = mkdtempSync(path.join(tmpdir(), 'callbackd-scale-'));
  mkdirSync(path.join(dir, 'lock'));
  const exchange = await createExchange({ ringIntervalMs: 500, dialDelayMs: 50, maxEvents: 20_000 });
  const socket = path.join(dir, 'sim.sock');
  const control = await serveControl(exchange, socket);
  try {
    const servers: SimModem[] = [];
    const callers: SimModem[] = [];
    for (let i = 0; i < n; i++) servers.push(await exchange.addModem({ number: `${4000 + i}` }));
    for (let i = 0; i < n; i++) callers.push(await exchange.addModem({ number: `${6000 + i}` }));
    const hash = await hashSecret(PASSWORD);
    const lines = servers
      .map(
        (m, i) =>
          `[[lines]]\ndevice = "${m.ttyPath}"\nname = "L${i}"\nrings = 1\nsignals = { kind = "sim", socket = "${socket}" }\n`,
      )
      .join('\n');
    const cfg = path.join(dir, 'callbackd.toml');
    writeFileSync(
      cfg,
      `[daemon]
lock_dir = "${dir}/lock"
state_dir = "${dir}"
accounting_file = "${dir}/accounting.jsonl"
log_level = "warn"

[timing]
settle = "100ms"
announce = "0s"
dtr_low = "0s"
chat_pause = "0s"
health_check = 0

${lines}
${standinPppToml(dir, hash, standin)}# PPP users may log in on the first call (no call-back): the cycle is the login and pppd.
autoppp_before_callback = true
`,
    );
    const lagFile = path.join(dir, 'lag.json');
    const child = spawn(
      process.execPath,
      [...shebangFlags(), ...nodeArgs, '--import', PROBE, CLI, 'run', '--config', cfg, '--log-level', 'info'],
      {
        stdio: stdioWithoutMasters(['ignore', 'pipe', 'ignore']),
        env: { ...process.env, ...shebangEnv(), ...o.env, CALLBACKD_LAG_FILE: lagFile },
      },
    );
    let result: ScaleResult;
    try {
      await new Promise<void>((resolve, reject) => {
        let ready = 0;
        const timer = setTimeout(() => reject(new Error(`only ${ready} of ${n} lines ready`)), 120_000);
        const rl = createInterface({ input: child.stdout! });
        rl.on('line', (l) => {
          if (l.includes('"line-ready"') && ++ready === n) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => reject(new Error(`daemon exited with ${code}`)));
      });
      child.stdout!.resume();
      // Start the measured window: a fresh histogram.
      child.kill('SIGUSR2');
      const cpu0 = cpuOf(child.pid!);
      const bench0 = process.cpuUsage();
      let peakRssKB = 0;
      const sampler = setInterval(() => {
        try {
          peakRssKB = Math.max(peakRssKB, memOf(child.pid!).rssKB);
        } catch {
          // gone
        }
      }, 1_000);
      const until = Date.now() + seconds * 1000;
      let calls = 0;
      let failed = 0;
      let firstError: string | undefined;
      await Promise.all(
        callers.map(async (c, i) => {
          const t = await Terminal.open(c.ttyPath, { hupcl: false });
          try {
            while (Date.now() < until) {
              try {
                await t.at('E0');
                await t.expect('OK', 5_000);
                await t.at(`D${servers[i]!.number}`);
                await t.expect('CONNECT', 30_000);
                await t.expect('login: ', 10_000);
                await t.write('pppuser\r');
                await t.expect('assword:', 10_000);
                await t.write(`${PASSWORD}\r`);
                await t.expect('STANDIN-HELLO', 60_000);
                await t.write('BYE\n');
                await t.expect('NO CARRIER', 20_000);
                calls++;
              } catch (err) {
                failed++;
                firstError ??= (err as Error).message.slice(0, 300);
                await c.signals.setDtr(false);
                await c.signals.setDtr(true);
              }
            }
          } finally {
            await t.close();
          }
        }),
      );
      clearInterval(sampler);
      const cpu1 = cpuOf(child.pid!);
      const bench1 = process.cpuUsage(bench0);
      const cpu = {
        daemon: cpu1.self - cpu0.self,
        children: cpu1.children - cpu0.children,
        bench: (bench1.user + bench1.system) / 1e6,
      };
      rmSync(lagFile, { force: true });
      child.kill('SIGUSR2');
      for (let i = 0; i < 50 && !existsSync(lagFile); i++) await new Promise((r) => setTimeout(r, 100));
      const lag = existsSync(lagFile)
        ? (JSON.parse(readFileSync(lagFile, 'utf8')) as ScaleResult['lag'])
        : undefined;
      result = {
        lines: n,
        seconds,
        calls,
        failed,
        firstError,
        callsPerSecond: calls / seconds,
        lag,
        peakRssKB,
        cpu,
        standin,
        records: { total: 0, withBytes: 0, byOutcome: {} },
      };
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    }
    // Read after the daemon has stopped: every call it ended is in the file.
    result.records = readRecords(path.join(dir, 'accounting.jsonl'));
    return result;
  } finally {
    await control.close();
    await exchange.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function readRecords(file: string): ScaleResult['records'] {
  const records = { total: 0, withBytes: 0, byOutcome: {} as Record<string, number> };
  if (!existsSync(file)) return records;
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    if (!l.trim()) continue;
    const r = JSON.parse(l) as { outcome: string; pppExitCode?: number; bytesIn?: number; bytesOut?: number };
    records.total++;
    if (r.bytesIn !== undefined && r.bytesOut !== undefined) records.withBytes++;
    const key = `${r.outcome}/${r.pppExitCode ?? '-'}`;
    records.byOutcome[key] = (records.byOutcome[key] ?? 0) + 1;
  }
  return records;
}

/** utime+stime and cutime+cstime of a process, in seconds (/proc/PID/stat, USER_HZ 100). */
function cpuOf(pid: number): { self: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14-17 of proc(5); f[0] is field 3.
  const n = (i: number): number => Number(f[i - 3]);
  return { self: (n(14) + n(15)) / 100, children: (n(16) + n(17)) / 100 };
}
