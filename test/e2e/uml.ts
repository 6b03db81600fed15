import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

/**
 * Boots user-mode-linux on the host's own root file system (hostfs) with uml-init.sh as
 * PID 1, which runs one scenario script and halts. This kernel has PPP modules; the
 * host kernel does not, so real pppd can only be tested in here.
 */
export const E2E_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = resolve(E2E_DIR, '../..');
export const UML_KERNEL = '/usr/bin/linux.uml';

export interface UmlRun {
  /** The scenario script's exit code, or null when UML died or timed out before it ended. */
  scenarioCode: number | null;
  timedOut: boolean;
  /** Everything UML printed on its console (kernel messages, uml-init lines). */
  console: string;
  ms: number;
}

export function umlAvailable(): boolean {
  return existsSync(UML_KERNEL) && existsSync('/usr/lib/uml/modules');
}

/**
 * Runs `scenario` (an absolute path) inside UML. `env` entries become init's environment
 * through the kernel command line, so keys must be plain words and values must not
 * contain spaces. Results land in resultDir, which must be on the host's file system.
 */
export async function runUml(o: {
  scenario: string;
  resultDir: string;
  timeoutMs: number;
  env?: Record<string, string>;
  memMb?: number;
}): Promise<UmlRun> {
  mkdirSync(o.resultDir, { recursive: true });
  const fpFallback = needsFpFallback();
  const env: Record<string, string> = {
    // Under the FPU fallback (uml-fp-fallback.py) only x87/SSE state survives UML's ptrace
    // round trips: programs inside (insmod, date, node) crashed or computed garbage with
    // glibc's AVX string functions, and ran correctly with them switched off.
    ...(fpFallback ? { GLIBC_TUNABLES: UML_GLIBC_TUNABLES } : {}),
    ...o.env,
    E2E_SCENARIO: o.scenario,
    E2E_RESULT: o.resultDir,
    E2E_REPO: REPO_DIR,
  };
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(k) || /\s/.test(v) || v === '') {
      throw new Error(`runUml: env ${k}=${JSON.stringify(v)} cannot go on a kernel command line`);
    }
  }
  const args = [
    `mem=${o.memMb ?? 256}M`,
    'rootfstype=hostfs',
    'rootflags=/',
    'rw',
    `init=${join(E2E_DIR, 'uml-init.sh')}`,
    'con=null',
    'con0=fd:0,fd:1',
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
  ];
  const started = Date.now();
  // detached: UML forks helper processes; killing the whole group leaves none behind.
  // Hosts with AMX have an XSAVE area too big for this UML: see uml-fp-fallback.py.
  const [file, argv] = fpFallback
    ? ['python3', [join(E2E_DIR, 'uml-fp-fallback.py'), UML_KERNEL, ...args]]
    : [UML_KERNEL, args];
  const child = spawn(file, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    // UML crashes at boot ("Segfault with no mm") when HOME is unset; TMPDIR holds its RAM file.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', TMPDIR: '/dev/shm' },
  });
  let consoleText = '';
  const keep = (b: Buffer) => {
    consoleText += b.toString('utf8');
    if (consoleText.length > 200_000) consoleText = consoleText.slice(-100_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  if (child.pid !== undefined) running.add(child.pid);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid);
  }, o.timeoutMs);
  await new Promise<void>((res) => child.on('close', () => res()));
  clearTimeout(timer);
  // halt -f leaves no UML helper running, but a crash might: clean up the group anyway.
  killGroup(child.pid);
  if (child.pid !== undefined) running.delete(child.pid);
  const rcFile = join(o.resultDir, 'scenario.rc');
  const scenarioCode = existsSync(rcFile) ? Number(readFileSync(rcFile, 'utf8').trim()) : null;
  return { scenarioCode, timedOut, console: consoleText, ms: Date.now() - started };
}

const UML_GLIBC_TUNABLES =
  'glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD,-AVX_Fast_Unaligned_Load,-EVEX';

/** True when the CPU has AMX, whose XSAVE state Debian 12's UML cannot restore (it panics at boot). */
export function needsFpFallback(): boolean {
  try {
    return /^flags\s*:.*\bamx_tile\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

const running = new Set<number>();

/**
 * Kills every UML this process started and that is still running. For afterAll: when a
 * test times out, vitest moves on and runUml's own timer would leave UML running.
 */
export function killAllUml(): void {
  for (const pid of running) killGroup(pid);
  running.clear();
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Reads a result file, or '' when the scenario never wrote it. */
export function readResult(resultDir: string, name: string): string {
  const p = join(resultDir, name);
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}

/** Everything useful for a failure message: console tail and every log in the result dir. */
export function diagnostics(resultDir: string, run: UmlRun, files: string[]): string {
  const parts = [`UML ran ${run.ms} ms, timedOut=${run.timedOut}, scenario exit ${run.scenarioCode}`];
  parts.push('--- console (tail) ---', run.console.slice(-6_000));
  for (const f of files) parts.push(`--- ${f} ---`, readResult(resultDir, f).slice(-8_000));
  return parts.join('\n');
}

/** Whether dist/cli.js is built and offers these commands (the daemon e2e tests run it). */
export function cliHas(...commands: string[]): boolean {
  const cli = join(REPO_DIR, 'dist/cli.js');
  if (!existsSync(cli)) return false;
  try {
    const help = execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8', timeout: 30_000 });
    return commands.every((c) => new RegExp(`callbackd ${c}\\b`).test(help));
  } catch {
    return false;
  }
}

/** One line of callbackd's JSON log. */
export type LogLine = { event?: string; msg?: string; [k: string]: unknown };

/** callbackd's JSON log lines in a result file's text (anything else is skipped). */
export function parseLog(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

/** A scenario's `key value` line: the value. */
export const scenarioValue = (out: string, key: string): string | undefined =>
  new RegExp(`^${key} (\\S+)$`, 'm').exec(out)?.[1];

/** The logs a daemon scenario (simulator, callbackd, two caller pppd, ping) leaves. */
const DAEMON_SCENARIO_LOGS = [
  'scenario.log',
  'sim.log',
  'callbackd.log',
  'client1-pppd.log',
  'client2-pppd.log',
  'ping.log',
];

/**
 * One daemon scenario per describe block: call it there (it registers the clean-up),
 * then `run()` in the test. The result dir is removed once `passed()` was called, and
 * kept (path printed) when the test failed.
 */
export function daemonScenario(prefix: string) {
  let dir = '';
  let ok = false;
  afterAll(() => {
    killAllUml();
    if (ok) rmSync(dir, { recursive: true, force: true });
    else if (dir) console.log(`e2e results kept in ${dir}`);
  });
  return {
    async run(scenario: string, timeoutMs: number) {
      dir = mkdtempSync(join(tmpdir(), `callbackd-e2e-${prefix}-`));
      const run = await runUml({
        scenario: join(E2E_DIR, 'scenarios', scenario),
        resultDir: dir,
        timeoutMs,
        memMb: 512,
      });
      return { dir, run, why: diagnostics(dir, run, DAEMON_SCENARIO_LOGS) };
    },
    passed() {
      ok = true;
    },
  };
}
