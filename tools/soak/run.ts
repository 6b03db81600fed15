import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Terminal } from '../../src/sim/terminal.js';
import { stdioWithoutMasters } from '../../src/sim/pty.js';
import {
  createExchange,
  serveControl,
  type Exchange,
  type SimEvent,
  type SimModem,
} from '../../src/sim/index.js';
import { CLI, shebangEnv, STANDIN } from '../paths.js';

/**
 * `npm run soak -- --lines 32 --cycles N --seed S [--faults a,b] [--known]`
 *
 * Call-back cycles on the simulator, every line at once, against a real `callbackd run`
 * child process (so a crash, its fds and its RSS are seen from outside). Faults are
 * drawn from the seed: which cycle gets which fault and at which step is the same on
 * every run with the same seed (the daemon's own timing still varies). The checks do
 * not trust the daemon's counters: calls are counted from the simulator's event log,
 * records from the accounting file, line states from the status file, fds from
 * /proc/PID/fd, RSS from /proc/PID/status, event-loop lag from a probe preloaded into
 * the daemon (lag-probe.ts). Last line:
 * soak: lines=L cycles=N faults=F crashes=0 stuck=0 calls=C records=C fd_growth=0 rss_growth=X% lag_p99=Yms
 */

const PROBE = fileURLToPath(new URL('lag-probe.js', import.meta.url));

/** Fault classes; those in KNOWN break the current daemon and run only with --known. */
const FAULTS = [
  'carrier-drop', // the caller's carrier goes at a random step of the call
  'flood-login', // 64 KiB of CRs at the first login prompt
  'flood-callback', // 64 KiB of CRs at the login after the call-back
  'busy', // the call-back gets BUSY once, then gets through
  'no-answer', // the call-back is not answered on its first attempt
  'garbage', // the server modem sends junk at a random step
  'modem-error', // the server modem answers ERROR to the hang-up's reset for a while
  'unplug', // the server modem is unplugged and plugged back (same link path)
  'reload', // SIGHUP with this line changed, later SIGHUP with it restored
  'limits-damaged', // state_dir/limits.json overwritten with junk, then a SIGHUP
  'silence', // the server modem swallows every command for a while
  'lock-dir-full', // the lock directory disappears at a random step of the call
] as const;
type Fault = (typeof FAULTS)[number] | 'none';
/**
 * Fault classes that still take a line or the daemon down on this code (docs/testing.md
 * lists what each does): run them with --known or --faults.
 */
const KNOWN: readonly Fault[] = [];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const LINES = Number(arg('lines') ?? 32);
const CYCLES = Number(arg('cycles') ?? 320);
const SEED = Number(arg('seed') ?? 1);
const KNOWN_ON = process.argv.includes('--known');
const FAULT_RATE = Number(arg('fault-rate') ?? 0.5);
const enabled: Fault[] = (arg('faults')?.split(',') as Fault[] | undefined) ?? [
  ...FAULTS.filter((f) => KNOWN_ON || !KNOWN.includes(f)),
];
for (const f of enabled) if (!(FAULTS as readonly string[]).includes(f)) usage(`unknown fault ${f}`);
if (!Number.isInteger(LINES) || LINES < 1 || LINES > 200) usage('--lines must be 1..200');
if (!Number.isInteger(CYCLES) || CYCLES < 1) usage('--cycles must be a positive whole number');
if (!Number.isInteger(SEED)) usage('--seed must be a whole number');

function usage(why: string): never {
  console.error(
    `soak: ${why}\nusage: soak --lines L --cycles N --seed S [--faults ${FAULTS.join(',')}] [--known]`,
  );
  process.exit(2);
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const serverNumber = (i: number) => `${1000 + i}`;
const callerNumber = (i: number) => `${5000 + i}`;
/** A PPP client's first LCP frame start: what AutoPPP recognises at the second login. */
const LCP = Buffer.from([0x7e, 0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04, 0x7e]);
const STEPS = ['dial', 'login', 'name', 'dropped', 'ring', 'answer', 'login2', 'ppp', 'hangup'] as const;

interface Plan {
  cycle: number;
  line: number;
  fault: Fault;
  /** The step at which the fault strikes. */
  step: number;
}

function config(dir: string, socket: string, links: string[], changed: ReadonlySet<number>): string {
  const lines = links
    .map(
      (d, i) => `[[lines]]
device = "${d}"
name = "sim${i}"
signals = { kind = "sim", socket = "${socket}" }
rings = ${changed.has(i) ? 2 : 1}
`,
    )
    .join('\n');
  const entries = links
    .map(
      (_, i) => `[[callbacks]]
name = "cb${i}"
number = "${callerNumber(i)}"
delay = "300ms"
attempts = 3
retry_delay = "300ms"
`,
    )
    .join('\n');
  return `[daemon]
lock_dir = "${dir}/lock"
state_dir = "${dir}/state"
accounting_file = "${dir}/accounting.jsonl"
log_level = "info"
nologin_dir = "${dir}"

[timing]
command = "2s"
chat_pause = "50ms"
dtr_low = "50ms"
escape_guard = "100ms"
ring_gap = "2s"
answer = "5s"
settle = "100ms"
login = "8s"
login_grace = "2s"
dial = "5s"
announce = "100ms"
health_check = "0s"
reopen_min = "100ms"
reopen_max = "1s"
lock_recheck = "500ms"
ppp_stop = "1s"

[security.lockout]
max_failures = 1000
window = "10m"
lock = "1m"

[security.rate_limit]
per_entry = 10000
per_number = 10000
total = 100000
window = "1h"

${lines}
${entries}
[pppd]
path = "${process.execPath}"
prefix_args = ["${STANDIN}"]
local_address = "192.0.2.1"
remote_address = "192.0.2.2"
autoppp_after_callback = true
`;
}

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}
function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
/** The daemon's fds by kind (socket, pipe, /dev/pts, anon_inode, file), to name what leaks. */
function fdKinds(pid: number): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const kind =
      /^(socket|pipe|anon_inode)/.exec(target)?.[1] ?? (target.startsWith('/dev/pts') ? 'pts' : 'file');
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

interface Daemon {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  log: string[];
}

function startDaemon(cfg: string, lagFile: string): Daemon {
  const child = spawn(process.execPath, ['--expose-gc', '--import', PROBE, CLI, 'run', '--config', cfg], {
    stdio: stdioWithoutMasters(['ignore', 'pipe', 'pipe']),
    // As the shebang and the package's wrapper start it (malloc tunables).
    env: { ...process.env, ...shebangEnv(), SOAK_LAG_FILE: lagFile },
  });
  const log: string[] = [];
  let partial = '';
  child.stdout!.on('data', (b: Buffer) => {
    const parts = (partial + b.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) {
      log.push(l);
      if (log.length > 20_000) log.splice(0, 10_000);
    }
  });
  child.stderr!.on('data', (b: Buffer) => log.push(`stderr: ${b.toString().trim()}`));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  return { child, exited, log };
}

function linesState(stateDir: string): { name: string; state: string }[] {
  try {
    const s = JSON.parse(readFileSync(path.join(stateDir, 'status.json'), 'utf8')) as {
      lines: { name: string; state: string }[];
    };
    return s.lines;
  } catch {
    return [];
  }
}

async function main(): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'callbackd-soak-'));
  mkdirSync(path.join(dir, 'lock'));
  mkdirSync(path.join(dir, 'state'));
  const random = rng(SEED);
  // The whole plan is drawn up front from the seed, so it does not depend on timing.
  const plans: Plan[] = [];
  for (let c = 0; c < CYCLES; c++) {
    const faulty = enabled.length > 0 && random() < FAULT_RATE;
    plans.push({
      cycle: c,
      line: c % LINES,
      fault: faulty ? (enabled[Math.floor(random() * enabled.length)] as Fault) : 'none',
      step: Math.floor(random() * STEPS.length),
    });
  }
  const faults = plans.filter((p) => p.fault !== 'none').length;

  const exchange: Exchange = await createExchange({
    ringIntervalMs: 200,
    dialDelayMs: 20,
    escapeGuardMs: 100,
    unknownNumberDelayMs: 100,
    eventLog: path.join(dir, 'sim-events.jsonl'),
  });
  const socket = path.join(dir, 'sim.sock');
  const control = await serveControl(exchange, socket);
  const servers: SimModem[] = [];
  const links: string[] = [];
  const callers: SimModem[] = [];
  const ports: Terminal[] = [];
  for (let i = 0; i < LINES; i++) {
    const link = path.join(dir, `tty${i}`);
    links.push(link);
    servers.push(await exchange.addModem({ number: serverNumber(i), link }));
    callers.push(await exchange.addModem({ number: callerNumber(i) }));
    ports.push(await Terminal.open(callers[i]!.ttyPath, { hupcl: false }));
  }
  const changed = new Set<number>();
  const cfgPath = path.join(dir, 'callbackd.toml');
  const writeConfig = () => writeFileSync(cfgPath, config(dir, socket, links, changed));
  writeConfig();
  const lagFile = path.join(dir, 'lag.json');
  const daemon = startDaemon(cfgPath, lagFile);
  let crashed = 0;
  let ended = false;
  void daemon.exited.then((r) => {
    if (!ended) {
      crashed++;
      console.log(`soak: daemon exited during the run: ${JSON.stringify(r)}; its last words:`);
      for (const l of daemon.log.slice(-6)) console.log(`soak:   ${l.slice(0, 400)}`);
    }
  });
  const pid = daemon.child.pid!;
  const findings: string[] = [];
  const t0 = Date.now();

  try {
    // Every line up before the first call.
    for (
      let waited = 0;
      linesState(path.join(dir, 'state')).filter((l) => l.state === 'idle').length < LINES;
    ) {
      if (crashed) throw new Error(`daemon died at start: ${daemon.log.slice(-5).join('\n')}`);
      if ((waited += 100) > 60_000) throw new Error('lines not idle 60 s after start');
      await sleep(100);
    }

    let done = 0;
    let sample: ReturnType<typeof measure> | undefined;
    const readLag = () =>
      existsSync(lagFile)
        ? (JSON.parse(readFileSync(lagFile, 'utf8')) as {
            p99: number;
            handles: number;
            heap: number;
            external: number;
          })
        : undefined;
    // The first sample: after a tenth of the cycles, and no sooner than two per line, so
    // that every line's code paths have run (and been compiled) before the baseline.
    const tenth = Math.min(CYCLES, Math.max(1, Math.floor(CYCLES / 10), 2 * LINES));
    const reloads = { chain: Promise.resolve() };
    const hup = () => {
      reloads.chain = reloads.chain.then(async () => {
        writeConfig();
        daemon.child.kill('SIGHUP');
        await sleep(200);
      });
      return reloads.chain;
    };

    // After the first tenth of the cycles every line finishes its call and waits here
    // while RSS, fds and handles are sampled with all lines idle, as at the end.
    let gate: Promise<void> | undefined;
    const runLine = async (i: number) => {
      for (const plan of plans.filter((p) => p.line === i)) {
        if (gate) await gate;
        await cycle(plan, i);
        done++;
        if (done === tenth && !gate) {
          gate = (async () => {
            await untilIdle([...Array(LINES).keys()], 60_000);
            await sleep(1_500);
            await collect();
            sample = measure();
          })();
        }
      }
    };

    /** One call-back cycle as the caller sees it; the fault strikes at plan.step. */
    const cycle = async (plan: Plan, i: number) => {
      const port = ports[i]!;
      const server = servers[i]!;
      const caller = callers[i]!;
      const at = (step: (typeof STEPS)[number]) => STEPS[plan.step] === step;
      const strike = async (step: (typeof STEPS)[number]): Promise<boolean> => {
        if (!at(step)) return false;
        switch (plan.fault) {
          case 'carrier-drop':
            caller.dropCarrier();
            return true;
          case 'garbage':
            server.injectGarbage(Buffer.from([0x00, 0xff, 0x7e, 0x0d, 0x0a, 0x41, 0x54]));
            return false;
          case 'reload':
            changed.add(i);
            await hup();
            return false;
          case 'lock-dir-full':
            // Gone at the drawn step (while pppd runs, taking the lock back must not fail the daemon).
            rmSync(path.join(dir, 'lock'), { recursive: true, force: true });
            return false;
          case 'limits-damaged':
            writeFileSync(path.join(dir, 'state/limits.json'), '{"damaged": [');
            await hup();
            return false;
          default:
            return false;
        }
      };
      if (plan.fault === 'busy') server.setFaults({ dialResult: 'BUSY', dialResultCount: 1 });
      if (plan.fault === 'no-answer') server.setFaults({ dialResult: 'NO ANSWER', dialResultCount: 1 });
      if (plan.fault === 'modem-error') server.setFaults({ errorOn: /Z|&F|H0/ });
      if (plan.fault === 'silence') server.setFaults({ silent: true });
      try {
        if (plan.fault === 'unplug') {
          await exchange.unplug(serverNumber(i));
          await sleep(300);
          const from = exchange.mark();
          servers[i] = await exchange.addModem({ number: serverNumber(i), link: links[i]! });
          // Wait until the daemon has the line back: it opened the new tty and initialised it.
          await exchange.waitFor(
            (e) => e.modem === serverNumber(i) && e.type === 'command' && /S0=0/.test(String(e.line)),
            30_000,
            from,
          );
        }
        // Results of the last call (a late NO CARRIER) come before this OK; nothing older counts.
        port.discard();
        await port.write('ATE0\r');
        await port.expect('OK', 5_000);
        if (await strike('dial')) return;
        await port.write(`ATDT${serverNumber(i)}\r`);
        await port.expect('CONNECT', 15_000, ['BUSY', 'NO ANSWER', 'NO CARRIER']);
        if (await strike('login')) return;
        await port.expect('login: ', 10_000, ['NO CARRIER']);
        if (plan.fault === 'flood-login') await port.write(Buffer.alloc(64 * 1024, 0x0d));
        if (await strike('name')) return;
        await port.write(`cb${i}\r`);
        await port.expect('NO CARRIER', 15_000);
        if (await strike('dropped')) return;
        await port.expect('RING', 20_000);
        if (await strike('ring')) return;
        await port.write('ATA\r');
        await port.expect('CONNECT', 10_000, ['NO CARRIER']);
        if (await strike('answer')) return;
        await port.expect('login: ', 10_000, ['NO CARRIER']);
        if (plan.fault === 'flood-callback') await port.write(Buffer.alloc(64 * 1024, 0x0d));
        if (await strike('login2')) return;
        // A PPP peer repeats its Configure-Request until the far end's program has the line.
        for (let n = 1; ; n++) {
          await port.write(LCP);
          try {
            await port.expect('STANDIN-HELLO', 1_000, ['NO CARRIER']);
            break;
          } catch (e) {
            if (n >= 20 || (e as { abort?: boolean }).abort) throw e;
          }
        }
        if (await strike('ppp')) return;
        await port.write('hello\n');
        await port.expect('STANDIN-ACK', 10_000);
        await strike('hangup');
        caller.dropCarrier();
      } catch (e) {
        // A step that did not come: the caller hangs up and the next cycle starts. Whether
        // the daemon recovered is judged at the end (stuck lines, records per call).
        findings.push(
          `cycle ${plan.cycle} line sim${i} fault ${plan.fault}@${STEPS[plan.step]}: ${(e as Error).message}`,
        );
        caller.dropCarrier();
      } finally {
        if (plan.fault === 'modem-error') servers[i]!.setFaults({ errorOn: undefined });
        if (plan.fault === 'silence') servers[i]!.setFaults({ silent: false });
        if (plan.fault === 'busy' || plan.fault === 'no-answer') {
          servers[i]!.setFaults({ dialResult: undefined, dialResultCount: undefined });
        }
        if (plan.fault === 'lock-dir-full') mkdirSync(path.join(dir, 'lock'), { recursive: true });
        if (changed.delete(i)) await hup();
        // The next call starts once this line is idle again (bounded: a stuck line is counted at the end).
        await untilIdle([i], 30_000);
      }
    };

    const untilIdle = async (which: number[], ms: number): Promise<number[]> => {
      const deadline = Date.now() + ms;
      for (;;) {
        const states = linesState(path.join(dir, 'state'));
        const busy = which.filter((i) => states.find((l) => l.name === `sim${i}`)?.state !== 'idle');
        if (busy.length === 0 || Date.now() > deadline || crashed) return busy;
        await sleep(100);
      }
    };

    const collect = async () => {
      if (!crashed) daemon.child.kill('SIGUSR2');
      await sleep(1_000);
    };
    const measure = () => {
      try {
        return {
          rss: rssKb(pid),
          fds: fdCount(pid),
          handles: readLag()?.handles ?? NaN,
          heap: readLag()?.heap ?? NaN,
          external: readLag()?.external ?? NaN,
          kinds: fdKinds(pid),
        };
      } catch {
        return { rss: NaN, fds: NaN, handles: NaN, heap: NaN, external: NaN, kinds: {} }; // the daemon is gone: counted as a crash
      }
    };

    await Promise.all([...Array(LINES).keys()].map((i) => runLine(i)));
    await reloads.chain;
    const notIdle = await untilIdle([...Array(LINES).keys()], 60_000);
    await sleep(1_500);
    await collect();
    const beforeProbe = crashed ? undefined : measure();
    // Idle in the status file is the daemon's word; a line is only really idle if it
    // answers: one last call on every line, which must reach the login prompt.
    const deaf: number[] = [];
    await Promise.all(
      [...Array(LINES).keys()].map(async (i) => {
        try {
          ports[i]!.discard();
          await ports[i]!.write('ATE0\r');
          await ports[i]!.expect('OK', 5_000);
          await ports[i]!.write(`ATDT${serverNumber(i)}\r`);
          await ports[i]!.expect('login: ', 30_000, ['BUSY', 'NO ANSWER', 'NO CARRIER']);
        } catch {
          deaf.push(i);
        } finally {
          callers[i]!.dropCarrier();
        }
      }),
    );
    await untilIdle([...Array(LINES).keys()], 30_000);
    const stuckLines = [...new Set([...notIdle, ...deaf])].sort((a, b) => a - b);
    if (deaf.length)
      findings.push(`lines idle in status but not answering: ${deaf.map((i) => `sim${i}`).join(' ')}`);
    await sleep(1_500);
    await collect();
    const end = crashed ? undefined : measure();
    const first = sample ?? end;
    const lag = readLag();

    // Calls as the simulator saw them: every ATA a server modem received is one call (the
    // daemon answered a ring; a caller gone before CONNECT is still a call with its record,
    // `answer-no-carrier`). The call-back leg is the server calling out, part of that call.
    const simEvents = readFileSync(path.join(dir, 'sim-events.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as SimEvent);
    const serverNumbers = new Set([...Array(LINES).keys()].map(serverNumber));
    const calls = simEvents.filter(
      (e) => e.type === 'command' && serverNumbers.has(e.modem) && /^ATA$/i.test(String(e.line)),
    ).length;
    ended = true;
    daemon.child.kill('SIGTERM');
    const stop = await Promise.race([daemon.exited, sleep(30_000).then(() => undefined)]);
    if (!stop) {
      findings.push('daemon did not stop within 30 s of SIGTERM');
      daemon.child.kill('SIGKILL');
    } else if (stop.code !== 0) {
      findings.push(`daemon stopped with ${JSON.stringify(stop)}`);
      crashed++;
    }
    const accounting = existsSync(path.join(dir, 'accounting.jsonl'))
      ? readFileSync(path.join(dir, 'accounting.jsonl'), 'utf8').split('\n').filter(Boolean)
      : [];
    const records = accounting.length;
    const fdGrowth = first && end ? end.fds - first.fds : NaN;
    const rssGrowth = first && end ? ((end.rss - first.rss) / first.rss) * 100 : NaN;
    const lagP99 = lag?.p99 ?? NaN;
    const handleGrowth = first && end ? end.handles - first.handles : NaN;

    const secs = ((Date.now() - t0) / 1000).toFixed(0);
    const steps = findings.length;
    console.log(
      `soak: seed=${SEED} ${secs} s, ${steps} cycles ended early (the caller gave up a step), faults: ${enabled.join(',')}`,
    );
    for (const f of findings.slice(-25)) console.log(`soak: ${f}`);
    console.log(
      `soak: first tenth -> last cycle -> after the answer probe: ${JSON.stringify(first)} -> ${JSON.stringify(beforeProbe)} -> ${JSON.stringify(end)}`,
    );
    if (stuckLines.length) console.log(`soak: stuck lines: ${stuckLines.map((i) => `sim${i}`).join(' ')}`);
    const ok =
      crashed === 0 &&
      stuckLines.length === 0 &&
      calls === records &&
      fdGrowth <= 0 &&
      handleGrowth <= 0 &&
      rssGrowth < 10 &&
      Number.isFinite(lagP99);
    writeFileSync(path.join(dir, 'callbackd.log'), daemon.log.join('\n'));
    if (!ok)
      console.log(`soak: FAILED; work dir kept (callbackd.log, sim-events.jsonl, accounting.jsonl): ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
    console.log(
      `soak: lines=${LINES} cycles=${CYCLES} faults=${faults} crashes=${crashed} stuck=${stuckLines.length} calls=${calls} records=${records} fd_growth=${fdGrowth} rss_growth=${rssGrowth.toFixed(1)}% lag_p99=${lagP99.toFixed(0)}ms`,
    );
    return ok ? 0 : 1;
  } finally {
    if (daemon.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill('SIGKILL');
    for (const p of ports) await p.close();
    await control.close();
    await exchange.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`soak: ${(e as Error).stack ?? String(e)}`);
    console.log(
      `soak: lines=${LINES} cycles=${CYCLES} faults=0 crashes=1 stuck=0 calls=0 records=0 fd_growth=NaN rss_growth=NaN% lag_p99=NaNms`,
    );
    process.exit(1);
  },
);
