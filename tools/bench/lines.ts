import { spawn, type ChildProcess } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createExchange, stdioWithoutMasters, serveControl } from '../../src/sim/index.js';
import { bindTtys, startMgetty, ttyName, unbindTtys, writeMgettyConfig } from './compare.js';
import { CLI, shebangEnv } from '../paths.js';

/**
 * Memory, start-up and idle cost of lines: one `callbackd run` process with n lines
 * on simulated modems, next to n mgetty processes on the same kind of lines in the same
 * run. Runs in the private mount namespace bench:compare sets up (mgetty needs its
 * ttys under /dev).
 */
const SETTLE_MS = 2_000;

/** The node options in dist/cli.js's shebang, which systemd's ExecStart runs through. */
export function shebangFlags(): string[] {
  const first = readFileSync(CLI, 'utf8').split('\n', 1)[0] ?? '';
  const m = /\bnode\s+(.*)$/.exec(first);
  return m ? m[1]!.split(/\s+/).filter(Boolean) : [];
}

export interface Mem {
  rssKB: number;
  pssKB: number;
}

export function memOf(pid: number): Mem {
  const roll = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(roll)?.[1] ?? NaN);
  return { rssKB: kb('Rss'), pssKB: kb('Pss') };
}

/** Voluntary + involuntary context switches of every thread, and CPU time (ms). */
export function wakeups(pid: number): {
  switches: number;
  cpuMs: number;
  threads: number;
  /** Switches per thread, by thread id and name ("123 node", "125 libuv-worker"). */
  perThread: Record<string, number>;
} {
  let switches = 0;
  const perThread: Record<string, number> = {};
  const tasks = readdirSync(`/proc/${pid}/task`);
  for (const t of tasks) {
    const st = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
    const n =
      Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0) +
      Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0);
    switches += n;
    perThread[`${t} ${/^Name:\s+(.*)$/m.exec(st)?.[1] ?? '?'}`] = n;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  return { switches, cpuMs: ticks * 10, threads: tasks.length, perThread };
}

/** The threads that switched between two readings, as "name: count". */
export function wokenThreads(a: Record<string, number>, b: Record<string, number>): string[] {
  return Object.entries(b)
    .filter(([k, n]) => n - (a[k] ?? 0) > 0)
    .map(([k, n]) => `${k.replace(/^\d+ /, '')}: ${n - (a[k] ?? 0)}`);
}

export interface LinesResult {
  lines: number;
  callbackd: Mem;
  /** Sum over the n mgetty processes. */
  mgetty: Mem | undefined;
  /** From exec to the `started` log line (READY=1 goes out right after it, once every line had its first init). */
  startedMs: number;
  /** From exec to the first thing any modem saw from the daemon (a command or a DTR change). */
  firstModemMs?: number;
  /** From exec until every line logged `line-ready`. */
  allReadyMs: number;
  /** Over idleSeconds with the health check off, one line count only. */
  idle?: {
    seconds: number;
    switches: number;
    cpuMs: number;
    threads: number;
    secondHalfSwitches: number;
    /** Which threads switched, and how often ("node: 1"). */
    woken: string[];
  };
}

/**
 * The daemon's config for `devices`, idle lines on the simulator's signals at `socket`;
 * `healthCheck: false` leaves out the idle AT health check (for counting wake-ups).
 */
export function configFor(
  dir: string,
  devices: string[],
  socket: string,
  o: { healthCheck?: boolean } = {},
): string {
  const lines = devices
    .map(
      (d, i) =>
        `[[lines]]\ndevice = "${d}"\nname = "sim${i}"\nsignals = { kind = "sim", socket = "${socket}" }\n`,
    )
    .join('\n');
  const timing = o.healthCheck === false ? '[timing]\nhealth_check = 0\n\n' : '';
  return `[daemon]
lock_dir = "${dir}/lock"
state_dir = "${dir}/state"
accounting_file = "${dir}/accounting.jsonl"
log_level = "info"

${timing}${lines}
[pppd]
path = "/usr/sbin/pppd"
local_address = "192.0.2.1"
remote_address = "192.0.2.2"
`;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

/**
 * n lines: callbackd alone first (start-up timed, memory after a settle), then n
 * mgetty processes on the same modems. `idleSeconds` > 0 also counts the daemon's
 * wake-ups and CPU time over that long.
 */
export async function measureLines(
  nsDir: string,
  n: number,
  idleSeconds = 0,
  nodeArgs: string[] = [],
): Promise<LinesResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'callbackd-lines-'));
  mkdirSync(path.join(dir, 'lock'));
  const exchange = await createExchange();
  const socket = path.join(dir, 'sim.sock');
  const control = await serveControl(exchange, socket);
  try {
    const modems = [];
    for (let i = 0; i < n; i++) modems.push(await exchange.addModem({ number: `${300 + i}` }));
    const cfg = path.join(dir, 'callbackd.toml');
    writeFileSync(
      cfg,
      configFor(
        dir,
        modems.map((m) => m.ttyPath),
        socket,
        { healthCheck: false },
      ),
    );
    const t0 = performance.now();
    const child = spawn(process.execPath, [...shebangFlags(), ...nodeArgs, CLI, 'run', '--config', cfg], {
      stdio: stdioWithoutMasters(['ignore', 'pipe', 'pipe']),
      env: { ...process.env, ...shebangEnv() },
    });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    let startedMs = NaN;
    let result: LinesResult;
    try {
      const allReadyMs = await new Promise<number>((resolve, reject) => {
        let ready = 0;
        const timer = setTimeout(() => reject(new Error(`only ${ready} of ${n} lines ready`)), 60_000);
        createInterface({ input: child.stdout! }).on('line', (l) => {
          if (l.includes('"event":"started"')) startedMs = performance.now() - t0;
          if (l.includes('"line-ready"') && ++ready === n) {
            clearTimeout(timer);
            resolve(performance.now() - t0);
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`daemon exited with ${code}: ${stderr.slice(0, 300)}`));
        });
      });
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const callbackd = memOf(child.pid!);
      const numbers = new Set(modems.map((m) => m.number));
      const first = exchange.events.find((e) => e.t >= t0 && numbers.has(e.modem));
      const firstModemMs = first ? first.t - t0 : undefined;
      result = { lines: n, callbackd, mgetty: undefined, startedMs, allReadyMs, firstModemMs };
      if (idleSeconds > 0) {
        // Two halves: V8's memory reducer still runs a few GCs in the first seconds after start-up.
        const a = wakeups(child.pid!);
        await new Promise((r) => setTimeout(r, (idleSeconds * 1000) / 2));
        const mid = wakeups(child.pid!);
        await new Promise((r) => setTimeout(r, (idleSeconds * 1000) / 2));
        const b = wakeups(child.pid!);
        result.idle = {
          seconds: idleSeconds,
          switches: b.switches - a.switches,
          secondHalfSwitches: b.switches - mid.switches,
          cpuMs: b.cpuMs - a.cpuMs,
          threads: b.threads,
          woken: wokenThreads(a.perThread, b.perThread),
        };
      }
    } finally {
      await stop(child);
    }
    // The same modems under mgetty, one process per line, as inittab runs it.
    bindTtys(modems.map((m) => m.ttyPath));
    writeMgettyConfig(nsDir, 'min', n);
    const gettys = modems.map((_, i) => startMgetty(ttyName(i)));
    try {
      await new Promise((r) => setTimeout(r, SETTLE_MS + n * 20));
      // Only this namespace's: another run's mgetty must not be counted.
      const own = readlinkSync('/proc/self/ns/mnt');
      const pids = readdirSync('/proc').filter((p) => {
        try {
          return (
            readFileSync(`/proc/${p}/cmdline`, 'latin1').startsWith('/sbin/mgetty\0') &&
            readlinkSync(`/proc/${p}/ns/mnt`) === own
          );
        } catch {
          return false;
        }
      });
      const mems = pids.map((p) => memOf(Number(p)));
      result.mgetty = {
        rssKB: mems.reduce((a, m) => a + m.rssKB, 0),
        pssKB: mems.reduce((a, m) => a + m.pssKB, 0),
      };
      if (pids.length !== n) result.mgetty = undefined;
    } finally {
      for (const g of gettys) await g.stop();
      unbindTtys(n);
    }
    return result;
  } finally {
    await control.close();
    await exchange.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
