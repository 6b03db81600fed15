import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { hashSecret, verifySecret } from '../../src/policy/hash.js';
import { runRealChat } from '../../src/sim/caller.js';
import {
  createExchange,
  stdioWithoutMasters,
  serveControl,
  type Exchange,
  type SimEvent,
  type SimModem,
} from '../../src/sim/index.js';
import { Terminal } from '../../src/sim/terminal.js';
import { shebangFlags } from './lines.js';
import { CLI, REPO, shebangEnv, STANDIN, STANDIN_SH } from '../paths.js';

/**
 * The seed scenario (the HOWTO's client chat script, real chat(8)) on the simulator,
 * against callbackd and against mgetty + callback, one call at a time, each system
 * started fresh for its call. Every stage is timed from the exchange's event log, so
 * both systems are measured by the same clock at the same place: the line.
 *
 * mgetty runs as on a real machine, in a private mount namespace (this process is
 * started under `unshare -m`): /etc/mgetty, /etc/passwd and /etc/shadow, /run and /dev
 * are replaced there by bind mounts and tmpfs, so the host's files stay untouched.
 */
const repo = REPO;
const SCRIPT = readFileSync(path.join(repo, 'config', 'client', 'pppcallback'), 'utf8');

export const SERVER = '5376443';
export const CALLER = '123456';
const PASSWORD = 'password_for_pppuser';
/** The name mgetty and callback see: a plain file under /dev with the pty bind-mounted on it. */
const TTY = 'ttyCB0';
export const ttyName = (i: number): string => `ttyCB${i}`;

export type System = 'callbackd' | 'mgetty';
/** `nodtr`: minimum delays on a line without DTR control (the tty alone, no simulator signals). */
export type Mode = 'default' | 'min' | 'nodtr';

export const STAGES = [
  'RING -> ATA',
  'CONNECT -> login:',
  'login name -> hang-up',
  'hang-up -> ATD',
  'second CONNECT -> login:',
  'password -> pppd has the line',
  'password -> pppd spawned',
  "password -> pppd spawned, less the daemon's own KDF",
  'whole cycle',
  "whole cycle, the server's own part (its six stages summed)",
  'caller hangs up -> line initialised again',
] as const;
export type Stage = (typeof STAGES)[number];

export interface CycleResult {
  system: System;
  mode: Mode;
  run: number;
  ok: boolean;
  error?: string;
  /** Milliseconds per stage; missing when the stage did not happen. */
  stages: Partial<Record<Stage, number>>;
  /** The exchange's events of this cycle (byte counts and labels, never bytes), to recompute stages. */
  events: SimEvent[];
  /** callbackd: the secret's check alone (verifySecret on this hash), measured right after the cycle. */
  kdfMs?: number;
  /** callbackd: the same check as the daemon timed it in this call (`secretCheckMs` of ppp-running). */
  daemonKdfMs?: number;
}

const WATCH = [
  { label: 'login', text: 'ogin:', dir: 'in' as const, modem: SERVER },
  { label: 'name-call', text: 'call\r', dir: 'out' as const, modem: SERVER },
  { label: 'password', text: `${PASSWORD}\r`, dir: 'out' as const, modem: SERVER },
  { label: 'pppd', text: 'STANDIN-HELLO', dir: 'in' as const, modem: SERVER },
];

/** Stage durations from the events of one cycle (server modem and caller modem). */
export function stagesOf(events: SimEvent[], caller: string, server: string): Partial<Record<Stage, number>> {
  const s = events.filter((e) => e.modem === server);
  const find = (pred: (e: SimEvent) => boolean, after = -1): SimEvent | undefined =>
    s.find((e) => e.seq > after && pred(e));
  const out: Partial<Record<Stage, number>> = {};
  const span = (stage: Stage, a?: SimEvent, b?: SimEvent): void => {
    if (a && b) out[stage] = Math.round((b.t - a.t) * 10) / 10;
  };
  const dialIn = events.find(
    (e) => e.modem === caller && e.type === 'command' && /^ATD/i.test(String(e.line)),
  );
  const ring = find((e) => e.type === 'ring');
  const ata = find((e) => e.type === 'command' && /^AT.*A$/i.test(String(e.line)), ring?.seq);
  span('RING -> ATA', ring, ata);
  const connect1 = find((e) => e.type === 'connect', ata?.seq);
  const login1 = find((e) => e.watch === 'login', connect1?.seq);
  span('CONNECT -> login:', connect1, login1);
  const name = find((e) => e.watch === 'name-call', login1?.seq);
  const hangup1 = find((e) => e.type === 'hangup', name?.seq);
  span('login name -> hang-up', name, hangup1);
  // A dial command: D and a digit, not &D (the DTR setting in an init string).
  const atd = find(
    (e) => e.type === 'command' && /^AT(.*[^&])?D[TPW]?[0-9*#]/i.test(String(e.line)),
    hangup1?.seq,
  );
  span('hang-up -> ATD', hangup1, atd);
  const connect2 = find((e) => e.type === 'connect', atd?.seq);
  const login2 = find((e) => e.watch === 'login', connect2?.seq);
  span('second CONNECT -> login:', connect2, login2);
  const password = find((e) => e.watch === 'password', login2?.seq);
  const pppd = find((e) => e.watch === 'pppd', password?.seq);
  span('password -> pppd has the line', password, pppd);
  span('whole cycle', dialIn, pppd);
  // What the server itself takes of the cycle; the rest is the exchange (ATD to RING, the
  // call-back's ringing), the caller (chat types 10 ms a character) and the modems.
  const own = STAGES.slice(0, STAGES.indexOf('password -> pppd has the line') + 1);
  if (own.every((k) => out[k] !== undefined)) {
    out["whole cycle, the server's own part (its six stages summed)"] =
      Math.round(own.reduce((sum, k) => sum + out[k]!, 0) * 10) / 10;
  }
  // The caller's hang-up, then the last modem result of the re-initialisation.
  const callerHangup = events.find(
    (e) => e.modem === caller && e.type === 'hangup' && e.seq > (pppd?.seq ?? 1e15),
  );
  if (callerHangup) {
    const after = s.filter((e) => e.seq > callerHangup.seq);
    const lastCmd = [...after].reverse().find((e) => e.type === 'command');
    const lastOk =
      lastCmd && after.find((e) => e.seq > lastCmd.seq && e.type === 'result' && e.text === 'OK');
    span('caller hangs up -> line initialised again', callerHangup, lastOk);
  }
  return out;
}

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Mount points made here, newest last, so they can be taken down before cleaning up. */
const mounted: string[] = [];

function mount(args: string[]): void {
  sh('mount', args);
  mounted.push(args.at(-1)!);
}

function unmountAll(): void {
  for (const m of mounted.reverse()) {
    try {
      sh('umount', ['-l', m]);
    } catch {
      // already gone with its parent
    }
  }
  mounted.length = 0;
}

/**
 * Inside the private mount namespace: fresh /run (mgetty's pid file, UUCP locks,
 * utmp), our own /etc/mgetty, a passwd/shadow with the test user, a /dev on tmpfs
 * holding the usual nodes and the server modem's pty under a plain name.
 */
export function prepareNamespace(dir: string, mode: Mode): void {
  const old = path.join(dir, 'olddev');
  mkdirSync(old);
  mount(['--make-rprivate', '/']);
  chmodSync(dir, 0o755); // the test user's shell lives here
  mount(['--rbind', '/dev', old]);
  mount(['-t', 'tmpfs', '-o', 'mode=755', 'benchdev', '/dev']);
  for (const n of ['null', 'zero', 'full', 'random', 'urandom', 'tty']) {
    writeFileSync(`/dev/${n}`, '');
    mount(['--bind', path.join(old, n), `/dev/${n}`]);
  }
  for (const d of ['pts', 'shm']) {
    mkdirSync(`/dev/${d}`);
    mount(['--rbind', path.join(old, d), `/dev/${d}`]);
  }
  // A bound ptmx node cannot find its devpts instance; devpts' own ptmx can (root may open it).
  symlinkSync('pts/ptmx', '/dev/ptmx');
  mount(['-t', 'tmpfs', 'benchrun', '/run']);
  mkdirSync('/run/lock');
  for (const f of ['/var/log/wtmp', '/var/log/btmp', '/var/log/lastlog']) {
    if (!existsSync(f)) continue;
    const copy = path.join(dir, path.basename(f));
    writeFileSync(copy, '');
    mount(['--bind', copy, f]);
  }
  // The test user: its login shell is the pppd stand-in, as pppd would be.
  const shell = path.join(dir, 'pppd-shell');
  writeFileSync(shell, `#!/bin/sh\nexec ${process.execPath} ${STANDIN}\n`);
  chmodSync(shell, 0o755);
  // yescrypt with its default cost: what Debian 12's passwd(1) and chpasswd(8) store.
  const hash = execFileSync('mkpasswd', ['--method=yescrypt', PASSWORD], { encoding: 'utf8' }).trim();
  const passwd = path.join(dir, 'passwd');
  const shadow = path.join(dir, 'shadow');
  writeFileSync(passwd, `${readFileSync('/etc/passwd', 'utf8')}pppuser:x:4242:4242::${dir}:${shell}\n`);
  writeFileSync(shadow, `${readFileSync('/etc/shadow', 'utf8')}pppuser:${hash}:19000:0:99999:7:::\n`);
  chmodSync(shadow, 0o640);
  mount(['--bind', passwd, '/etc/passwd']);
  mount(['--bind', shadow, '/etc/shadow']);
  writeMgettyConfig(dir, mode);
}

/** Gives each pty a plain name under the namespace's /dev: ttyCB0, ttyCB1, ... */
export function bindTtys(ptys: string[]): void {
  ptys.forEach((pty, i) => {
    writeFileSync(`/dev/${ttyName(i)}`, '');
    sh('mount', ['--bind', pty, `/dev/${ttyName(i)}`]);
  });
}

export function unbindTtys(count: number): void {
  for (let i = 0; i < count; i++) {
    try {
      sh('umount', [`/dev/${ttyName(i)}`]);
      rmSync(`/dev/${ttyName(i)}`);
    } catch {
      // not there
    }
  }
}

export function writeMgettyConfig(dir: string, mode: Mode, lines = 1): void {
  const etc = path.join(dir, `mgetty-${mode}`);
  mkdirSync(etc, { recursive: true });
  writeFileSync(
    path.join(etc, 'mgetty.config'),
    `# generated by npm run bench:compare
debug 4
speed 115200
data-only yes
toggle-dtr no
rings 1
${mode === 'default' ? '' : 'prompt-waittime 0\n'}login-prompt @ login:\\040
${Array.from({ length: lines }, (_, i) => `port ${ttyName(i)}\n`).join('')}`,
  );
  const login = path.join(etc, 'login.config');
  writeFileSync(login, `call - - /usr/sbin/callback -S ${CALLER}\n* - - /bin/login @\n`);
  chmodSync(login, 0o600);
  // callback's own defaults are 20 s + up to 10 s at random; 4 s is its floor.
  writeFileSync(
    path.join(etc, 'callback.config'),
    mode === 'default' ? '# callback defaults\n' : 'delay 4\ndelay-randomize 0\n',
  );
  if (mounted.includes('/etc/mgetty')) {
    sh('umount', ['/etc/mgetty']);
    mounted.splice(mounted.indexOf('/etc/mgetty'), 1);
  }
  if (existsSync('/etc/mgetty')) mount(['--bind', etc, '/etc/mgetty']);
}

function callbackdConfig(dir: string, device: string, socket: string, mode: Mode, hash: string): string {
  const timing =
    mode !== 'default'
      ? `[timing]
settle = "0s"
announce = "0s"
dtr_low = "0s"
chat_pause = "0s"
health_check = 0
`
      : '';
  return `# generated by npm run bench:compare
[daemon]
lock_dir = "/run/lock"
state_dir = ${JSON.stringify(dir)}
accounting_file = ${JSON.stringify(path.join(dir, 'accounting.jsonl'))}
log_level = "info"

${timing}
[[lines]]
device = ${JSON.stringify(device)}
name = "${TTY}"
flow_control = "none"
${mode === 'nodtr' ? '' : `signals = { kind = "sim", socket = ${JSON.stringify(socket)} }`}

[[callbacks]]
name = "call"
number = "${CALLER}"
${mode === 'default' ? '' : 'delay = "0s"'}

${standinPppToml(dir, hash)}`;
}

/** A server system running on the line: started, then stopped after its call. */
interface Running {
  stop(): Promise<void>;
  /** The tail of the server's own output, for a failed cycle. */
  output(): string;
}

function startCallbackd(cfg: string): Running & { spawnedAt: number[]; secretCheckMs: number[] } {
  const child = spawn(process.execPath, [...shebangFlags(), CLI, 'run', '--config', cfg], {
    stdio: stdioWithoutMasters(['ignore', 'pipe', 'pipe']),
    env: { ...process.env, ...shebangEnv() },
  });
  let out = '';
  const logFile = process.env.CALLBACKD_BENCH_DAEMON_LOG;
  const keep = (b: Buffer): void => {
    out = (out + b.toString()).slice(-4000);
    if (logFile) appendFileSync(logFile, b);
  };
  // The daemon's own time of pppd's start (its log's ISO time, 1 ms resolution).
  const spawnedAt: number[] = [];
  // The daemon's own time for the secret's check in this call.
  const secretCheckMs: number[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    keep(Buffer.from(`${l}\n`));
    if (!l.includes('"ppp-spawned"') && !l.includes('"ppp-running"')) return;
    try {
      const j = JSON.parse(l) as { time: string; event: string; secretCheckMs?: number };
      if (j.event === 'ppp-spawned') spawnedAt.push(Date.parse(j.time));
      if (j.event === 'ppp-running' && j.secretCheckMs !== undefined) secretCheckMs.push(j.secretCheckMs);
    } catch {
      // not a JSON line
    }
  });
  child.stderr?.on('data', keep);
  return { stop: () => stopChild(child), output: () => out, spawnedAt, secretCheckMs };
}

/**
 * Which pppd stand-in plays pppd: `node` is src/demo/pppd-standin.ts (a Node process per
 * call, 40-60 ms of CPU to start); `sh` is tools/bench/pppd-standin.sh, the same
 * conversation in POSIX sh builtins, which starts in about a millisecond, as real pppd does.
 */
export type Standin = 'node' | 'sh';

/**
 * The stand-in as pppd: through a link named pppd (to node, or to the sh script itself),
 * so callbackd treats it as it treats real pppd (which sets the modem line up itself: no
 * stty process).
 */
export function pppdLink(dir: string, standin: Standin = 'node'): string {
  const bin = path.join(dir, standin === 'node' ? 'bin' : 'bin-sh');
  mkdirSync(bin, { recursive: true });
  const link = path.join(bin, 'pppd');
  if (!existsSync(link)) symlinkSync(standin === 'node' ? process.execPath : STANDIN_SH, link);
  return link;
}

/** The PPP user (password hash `hash`) and the stand-in as pppd, in callbackd's config. */
export function standinPppToml(dir: string, hash: string, standin: Standin = 'node'): string {
  return `[[ppp_users]]
name = "pppuser"
password_hash = ${JSON.stringify(hash)}

[pppd]
path = ${JSON.stringify(pppdLink(dir, standin))}
prefix_args = [${standin === 'node' ? JSON.stringify(STANDIN) : ''}]
local_address = "192.168.1.1"
remote_address = "192.168.1.2"
`;
}

/** mgetty as init runs it: started again whenever it exits (it execs login or callback). */
export function startMgetty(tty = TTY): Running {
  let stopped = false;
  let child: ChildProcess | undefined;
  const start = (): void => {
    if (stopped) return;
    child = spawn('/sbin/mgetty', [tty], { stdio: stdioWithoutMasters(['ignore', 'ignore', 'ignore']) });
    child.on('exit', () => setTimeout(start, 10));
  };
  start();
  return {
    output: () => '',
    stop: async () => {
      stopped = true;
      if (child) await stopChild(child);
      // callback's background process and a login session left on the line.
      signalNamespace('SIGKILL');
    },
  };
}

/**
 * Every process started in this private mount namespace except this one: mgetty's
 * offspring that outlive it (callback's background process, login and its shell).
 */
function namespaceProcesses(match: (cmdline: string) => boolean = () => true): number[] {
  const own = readlinkSafe('/proc/self/ns/mnt');
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (readlinkSafe(`/proc/${pid}/ns/mnt`) !== own) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (match(cmdline)) pids.push(pid);
  }
  return pids;
}

function readlinkSafe(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}

export function signalNamespace(signal: NodeJS.Signals, match?: (cmdline: string) => boolean): void {
  for (const pid of namespaceProcesses(match)) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Waits until the server modem has been quiet for `quietMs` after some command. */
async function lineQuiet(
  exchange: Exchange,
  quietMs: number,
  timeoutMs: number,
  from: number,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  const events = (): SimEvent[] => exchange.events.filter((e) => e.modem === SERVER && e.seq >= from);
  for (;;) {
    const last = events().at(-1);
    const seenInit = events().some((e) => e.type === 'result');
    if (seenInit && last && performance.now() - last.t >= quietMs) return;
    if (Date.now() > until) throw new Error('the line was not initialised in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * An event's time (performance.now() of this process) on the wall clock the daemon's
 * log uses (Date.now()): timeOrigin + now drifts from Date.now() by tens of ms.
 */
function wallTime(t: number): number {
  return t + (Date.now() - performance.now());
}

/** The secret's check alone, as the daemon does it: median of 3 on this machine now. */
async function kdfTime(hash: string): Promise<number> {
  const ts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await verifySecret(hash, PASSWORD);
    ts.push(performance.now() - t);
  }
  return Math.round(ts.sort((a, b) => a - b)[1]! * 10) / 10;
}

async function cycle(
  exchange: Exchange,
  caller: SimModem,
  system: System,
  mode: Mode,
  run: number,
  cfg: string,
  hash: string,
): Promise<CycleResult> {
  const mark = exchange.mark();
  // Each call starts from a fresh daemon state: the rate limits persisted in the
  // state folder would otherwise refuse the seventh call-back within the hour.
  rmSync(path.join(path.dirname(cfg), 'limits.json'), { force: true });
  const server: Running & { spawnedAt?: number[]; secretCheckMs?: number[] } =
    system === 'callbackd' ? startCallbackd(cfg) : startMgetty();
  const result: CycleResult = { system, mode, run, ok: false, stages: {}, events: [] };
  try {
    await lineQuiet(exchange, 1_500, 30_000, mark);
    const chat = await runRealChat(caller.ttyPath, SCRIPT, 150_000);
    try {
      if (!chat.ok)
        throw new Error(`chat exited ${chat.code}: ${chat.log.split('\n').slice(-6).join(' | ')}`);
      const term = await Terminal.open(caller.ttyPath, { hupcl: false });
      try {
        await term.expect('STANDIN-HELLO', 10_000);
      } finally {
        await term.close();
      }
    } finally {
      chat.release();
    }
    // The caller hangs up: DTR off on its modem, as closing a modem tty with HUPCL does.
    const hangupMark = exchange.mark();
    await caller.signals.setDtr(false);
    await caller.signals.setDtr(true);
    if (system === 'mgetty' || mode === 'nodtr') {
      // A pty has no carrier: play the kernel's part for a real tty whose DCD drops
      // (SIGHUP to the session on it). callbackd does this itself for lines with the
      // simulator's signals, not on a line that has only the tty.
      await exchange.waitFor((e) => e.modem === SERVER && e.type === 'hangup', 5_000, hangupMark);
      signalNamespace('SIGHUP', (c) => c.includes('pppd-standin'));
    }
    await lineQuiet(exchange, 2_000, 20_000, hangupMark).catch(() => undefined);
    result.events = exchange.events.filter((e) => e.seq >= mark);
    result.stages = stagesOf(result.events, CALLER, SERVER);
    if (server.spawnedAt) {
      const password = result.events.filter((e) => e.modem === SERVER && e.watch === 'password').at(-1);
      const spawned = server.spawnedAt[0];
      if (password && spawned !== undefined) {
        const stage = Math.round(spawned - wallTime(password.t));
        result.stages['password -> pppd spawned'] = stage;
        result.daemonKdfMs = server.secretCheckMs?.[0];
        if (result.daemonKdfMs !== undefined)
          result.stages["password -> pppd spawned, less the daemon's own KDF"] =
            Math.round((stage - result.daemonKdfMs) * 10) / 10;
      }
      result.kdfMs = await kdfTime(hash);
    }
    result.ok = true;
  } catch (err) {
    result.error = (err as Error).message;
    const out = server.output();
    if (out) result.error += ` (server said: ${out.slice(-600)})`;
    result.events = exchange.events.filter((e) => e.seq >= mark);
    result.stages = stagesOf(result.events, CALLER, SERVER);
  } finally {
    await server.stop();
  }
  return result;
}

export interface CompareOptions {
  runs: number;
  modes: Mode[];
  systems: System[];
  log: (line: string) => void;
}

/**
 * Runs `fn` with the namespace prepared in a scratch folder; takes the mounts down
 * and removes the folder afterwards.
 */
export async function inNamespace<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'callbackd-compare-'));
  try {
    prepareNamespace(dir, 'min');
    return await fn(dir);
  } finally {
    // The old /dev is bind-mounted inside dir: unmount it before removing anything.
    unmountAll();
    const old = path.join(dir, 'olddev');
    if (!existsSync(old) || readdirSync(old).length === 0) rmSync(dir, { recursive: true, force: true });
  }
}

export async function compare(o: CompareOptions, dir: string): Promise<CycleResult[]> {
  const exchange = await createExchange({ ringIntervalMs: 2_000, dialDelayMs: 200, watch: WATCH });
  const results: CycleResult[] = [];
  try {
    const server = await exchange.addModem({ number: SERVER });
    const caller = await exchange.addModem({ number: CALLER });
    const socket = path.join(dir, 'sim.sock');
    const control = await serveControl(exchange, socket);
    bindTtys([server.ttyPath]);
    const hash = await hashSecret(PASSWORD);
    try {
      for (const mode of o.modes) {
        writeMgettyConfig(dir, mode);
        const cfg = path.join(dir, `callbackd-${mode}.toml`);
        writeFileSync(cfg, callbackdConfig(dir, server.ttyPath, socket, mode, hash));
        for (let run = 0; run < o.runs; run++) {
          // Interleaved, and the order flips each run so neither always goes first.
          const order = run % 2 === 0 ? o.systems : [...o.systems].reverse();
          for (const system of order) {
            const r = await cycle(exchange, caller, system, mode, run, cfg, hash);
            o.log(
              `${system} ${mode} #${run + 1}: ${r.ok ? 'ok' : `FAILED ${r.error}`} ${JSON.stringify(r.stages)}`,
            );
            results.push(r);
          }
        }
      }
    } finally {
      await control.close();
    }
  } finally {
    unbindTtys(1);
    await exchange.close();
  }
  return results;
}
