import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importCosts } from './imports.js';
import { scale } from './scale.js';
import { measureLines, shebangFlags, type LinesResult } from './lines.js';
import {
  compare,
  inNamespace,
  signalNamespace,
  STAGES,
  type CycleResult,
  type Mode,
  type Stage,
  type System,
} from './compare.js';
import { REPO } from '../paths.js';

/**
 * `npm run bench:compare [-- --runs N --modes min,default]`: callbackd against mgetty +
 * callback on the seed scenario; writes the table into docs/benchmarks.md (between
 * its compare markers) and the raw cycles into docs/bench-compare.json.
 * Runs as root in a private mount namespace: it starts itself again under `unshare -m`.
 */
const repo = REPO;
const NS_FLAG = 'CALLBACKD_BENCH_NAMESPACE';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

function quantile(xs: number[], q: number): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

function ms(x: number | undefined): string {
  if (x === undefined) return 'n/a';
  return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`;
}

export function table(results: CycleResult[], mode: Mode): string {
  const rows = [
    '| stage | mgetty + callback median | p90 | callbackd median | p90 | mgetty / callbackd (medians) |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  const pick = (system: System, stage: Stage): number[] =>
    results
      .filter((r) => r.system === system && r.mode === mode)
      .map((r) => r.stages[stage])
      .filter((x): x is number => x !== undefined);
  for (const stage of STAGES) {
    const m = pick('mgetty', stage);
    const c = pick('callbackd', stage);
    const mm = quantile(m, 0.5);
    const cm = quantile(c, 0.5);
    const ratio = mm !== undefined && cm !== undefined && cm > 0 ? `${(mm / cm).toFixed(1)}x` : 'n/a';
    rows.push(
      `| ${stage} | ${ms(mm)} | ${ms(quantile(m, 0.9))} | ${ms(cm)} | ${ms(quantile(c, 0.9))} | ${ratio} |`,
    );
  }
  const n = (system: System): string => {
    const all = results.filter((r) => r.system === system && r.mode === mode);
    return `${all.filter((r) => r.ok).length}/${all.length}`;
  };
  const kdf = results
    .filter((r) => r.system === 'callbackd' && r.mode === mode && r.kdfMs !== undefined)
    .map((r) => r.kdfMs!);
  const daemonKdf = results
    .filter((r) => r.system === 'callbackd' && r.mode === mode && r.daemonKdfMs !== undefined)
    .map((r) => r.daemonKdfMs!);
  rows.push(
    '',
    `Cycles completed: mgetty + callback ${n('mgetty')}, callbackd ${n('callbackd')}.`,
    '',
    `The secret's check alone (scrypt, \`verifySecret\` on the same hash in the benchmark process right after each callbackd cycle): median ${ms(quantile(kdf, 0.5))}, p90 ${ms(quantile(kdf, 0.9))}; ` +
      `the same check as the daemon timed it in each call (\`secretCheckMs\` of its \`ppp-running\` log): median ${ms(quantile(daemonKdf, 0.5))}, p90 ${ms(quantile(daemonKdf, 0.9))}. ` +
      `"less the daemon's own KDF" is, per call, "pppd spawned" minus that call's own check: the daemon's own part of the stage. ` +
      `"password -> pppd spawned" ends at the daemon's own \`ppp-spawned\` log time (1 ms resolution); ` +
      `"pppd has the line" ends at the stand-in's greeting, after node (the stand-in) has started: mgetty's column pays that too.`,
  );
  return rows.join('\n');
}

async function main(): Promise<void> {
  if (process.env[NS_FLAG] !== '1') {
    if (process.getuid?.() !== 0) throw new Error('bench:compare runs mgetty and mounts: run it as root');
    const r = spawnSync(
      'unshare',
      ['-m', '--propagation', 'private', process.execPath, ...process.argv.slice(1)],
      {
        stdio: 'inherit',
        env: { ...process.env, [NS_FLAG]: '1' },
      },
    );
    process.exitCode = r.status ?? 1;
    return;
  }
  // Stopped by hand: take every daemon, mgetty and chat of this run along.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      signalNamespace('SIGKILL');
      process.exit(130);
    });
  }
  await inNamespace(run);
}

async function run(dir: string): Promise<void> {
  const only = arg('only', 'all');
  if (only === 'lines') return linesMain(dir);
  if (only === 'imports') return importsMain();
  if (only === 'scale') return scaleMain();
  const runs = Number(arg('runs', '5'));
  const modes = arg('modes', 'min,default').split(',') as Mode[];
  const write = arg('write', 'yes') !== 'no';
  const started = new Date();
  const machine = `${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} CPUs, ${Math.round(os.totalmem() / 1024 ** 3)} GB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
  const results = await compare(
    {
      runs,
      modes,
      systems: arg('systems', 'callbackd,mgetty').split(',') as System[],
      log: (l) => process.stderr.write(`bench:compare: ${l}\n`),
    },
    dir,
  );
  const command = `npm run bench:compare -- --runs ${runs} --modes ${modes.join(',')}`;
  const md = [
    '<!-- compare:start -->',
    '## callbackd against mgetty + callback, the seed scenario',
    '',
    `Generated by \`${command}\` (tools/bench/compare.ts) on ${started.toISOString()}.`,
    `Machine: ${machine}. Raw cycles: docs/bench-compare.json.`,
    '',
    ...modes.flatMap((m) => [`### ${MODE_TITLE[m]}`, '', table(results, m), '']),
    '<!-- compare:end -->',
  ].join('\n');
  process.stdout.write(`${md}\n`);
  if (!write) return;
  writeFileSync(
    path.join(repo, 'docs', 'bench-compare.json'),
    `${JSON.stringify(
      { date: started.toISOString(), command, machine, results: results.map(({ events: _, ...r }) => r) },
      null,
      2,
    )}\n`,
  );
  writeSection('compare', md);
  if (results.some((r) => !r.ok)) {
    process.stderr.write('bench:compare: some cycles did not complete (see above)\n');
    process.exitCode = 1;
  }
  if (only === 'all') {
    await linesMain(dir);
    importsMain();
  }
}

const MODE_TITLE: Record<Mode, string> = {
  min: 'Minimum delays',
  default: 'Default delays',
  nodtr: 'Minimum delays, callbackd on a line without DTR control (the pty alone, no simulator signals)',
};

const lagMs = (x: number | undefined): string => (x === undefined ? 'n/a' : `${x.toFixed(1)} ms`);

async function scaleMain(): Promise<void> {
  const n = Number(arg('scale-lines', '128'));
  const seconds = Number(arg('scale-seconds', '60'));
  const started = new Date();
  const standin = arg('standin', 'sh');
  if (standin !== 'sh' && standin !== 'node') throw new Error(`--standin: sh or node, not ${standin}`);
  const env = Object.fromEntries(
    arg('daemon-env', '')
      .split(' ')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  const r = await scale(n, seconds, {
    nodeArgs: arg('node-args', '').split(' ').filter(Boolean),
    env,
    standin,
  });
  process.stderr.write(`bench:scale: ${JSON.stringify(r)}\n`);
  const flags = [
    `--scale-lines ${n} --scale-seconds ${seconds} --standin ${standin}`,
    ...(arg('node-args', '') ? [`--node-args '${arg('node-args', '')}'`] : []),
    ...(arg('daemon-env', '') ? [`--daemon-env '${arg('daemon-env', '')}'`] : []),
  ].join(' ');
  const outcomes = Object.entries(r.records.byOutcome)
    .map(([k, v]) => `${v} \`${k}\``)
    .join(', ');
  const md = [
    '<!-- scale:start -->',
    `## ${n} lines cycling at once`,
    '',
    `Generated by \`npm run bench:compare -- --only scale ${flags}\` (tools/bench/scale.ts) on ${started.toISOString()}.`,
    `${n} callers on their own simulated modems dial ${n} lines of one daemon over and over for ${seconds} s: \`pppuser\` and its`,
    'password (scrypt), the pppd stand-in, BYE, hang-up. The event-loop delay is read inside the daemon by',
    '`--import dist-tools/tools/bench/lag-probe.js` (perf_hooks, a 10 ms timer; the table shows how late it fired); the simulator and the callers share the other process.',
    standin === 'sh'
      ? "pppd is tools/bench/pppd-standin.sh (`--standin sh`, the default): the stand-in's conversation in POSIX sh builtins, run by dash through a link named pppd with pppd's argv, so each call starts a process that costs about what real pppd (a small C program) costs to start. `--standin node` runs src/demo/pppd-standin.ts instead: a Node process per call, 40-60 ms of CPU on the same cores."
      : 'pppd is src/demo/pppd-standin.ts (`--standin node`): a Node process per call, 40-60 ms of CPU on the same cores as the daemon. `--standin sh` (the default) runs tools/bench/pppd-standin.sh, which starts as cheaply as real pppd.',
    '',
    '| lines | calls completed | failed | calls per second | event-loop delay p50 | p99 | max | peak RSS |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    `| ${n} | ${r.calls} | ${r.failed} | **${r.callsPerSecond.toFixed(2)}** | ${lagMs(r.lag?.p50)} | **${lagMs(r.lag?.p99)}** | ${lagMs(r.lag?.max)} | ${mb(r.peakRssKB)} |`,
    '',
    `CPU over the ${seconds} s: the daemon ${r.cpu.daemon.toFixed(1)} s, its pppd stand-ins ${r.cpu.children.toFixed(1)} s, the simulator and the callers ${r.cpu.bench.toFixed(1)} s (${os.cpus().length} cores give ${os.cpus().length * seconds} s).`,
    '',
    `The daemon's accounting file: ${r.records.total} records (${outcomes || 'none'}; outcome/pppd exit code), ${r.records.withBytes} with pppd's byte counts.`,
    ...(r.firstError ? ['', `First failure: ${r.firstError.replace(/\|/g, '/')}`] : []),
    '<!-- scale:end -->',
  ].join('\n');
  process.stdout.write(`${md}\n`);
  if (arg('write', 'yes') !== 'no') writeSection('scale', md);
}

function importsMain(): void {
  const flags = shebangFlags();
  const costs = importCosts(flags);
  const bare = costs[0]!;
  const md = [
    '<!-- imports:start -->',
    '## What each import costs',
    '',
    `Generated by \`npm run bench:compare -- --only imports\` (tools/bench/imports.ts) on ${new Date().toISOString()}.`,
    `A fresh \`node ${flags.join(' ')}\` process imports one module; memory after a full GC; median of 5. Deltas are against the bare process.`,
    '',
    '| module | load time | RSS | +RSS | PSS | +PSS | JS heap |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...costs.map(
      (c) =>
        `| ${c.module} | ${c.ms.toFixed(0)} ms | ${mb(c.rssKB)} | ${mb(c.rssKB - bare.rssKB)} | ${mb(c.pssKB)} | ${mb(c.pssKB - bare.pssKB)} | ${mb(c.heapKB)} |`,
    ),
    '<!-- imports:end -->',
  ].join('\n');
  process.stdout.write(`${md}\n`);
  if (arg('write', 'yes') !== 'no') writeSection('imports', md);
}

/** Replaces the marked section `name` of docs/benchmarks.md (appends it the first time). */
function writeSection(name: string, md: string): void {
  const file = path.join(repo, 'docs', 'benchmarks.md');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const re = new RegExp(`<!-- ${name}:start -->[\\s\\S]*<!-- ${name}:end -->`);
  writeFileSync(file, re.test(old) ? old.replace(re, () => md) : `${old.trimEnd()}\n\n${md}\n`);
}

const mb = (kb: number): string => `${(kb / 1024).toFixed(1)} MB`;

async function linesMain(dir: string): Promise<void> {
  const counts = arg('lines', '1,8,32,64,128').split(',').map(Number);
  const idle = Number(arg('idle', '60'));
  // Extra node options for the daemon, to try V8 flags: --node-args '--max-semi-space-size=1'
  const nodeArgs = arg('node-args', '').split(' ').filter(Boolean);
  const write = arg('write', 'yes') !== 'no';
  const started = new Date();
  const results: (LinesResult | { lines: number; error: string })[] = [];
  for (const n of counts) {
    try {
      const r = await measureLines(dir, n, n === counts[0] ? idle : 0, nodeArgs);
      process.stderr.write(`bench:lines: ${JSON.stringify(r)}\n`);
      results.push(r);
    } catch (err) {
      process.stderr.write(`bench:lines: ${n} lines failed: ${(err as Error).message}\n`);
      results.push({ lines: n, error: (err as Error).message });
    }
  }
  const rows = results.map((r) => {
    if ('error' in r) return `| ${r.lines} | not measured: ${r.error.replace(/\|/g, '/')} | | | | | |`;
    const per =
      r.lines > 1 && 'callbackd' in results[0]!
        ? `${((r.callbackd.rssKB - results[0].callbackd.rssKB) / (r.lines - results[0].lines)).toFixed(0)} kB`
        : '';
    const first = r.firstModemMs === undefined ? 'n/a' : `${Math.round(r.firstModemMs)} ms`;
    return `| ${r.lines} | **${mb(r.callbackd.rssKB)}** | ${mb(r.callbackd.pssKB)} | ${per} | ${r.mgetty ? mb(r.mgetty.rssKB) : 'n/a'} | ${r.mgetty ? mb(r.mgetty.pssKB) : 'n/a'} | ${first} / ${Math.round(r.allReadyMs)} ms / **${Math.round(r.startedMs)} ms** |`;
  });
  const first = results[0];
  const idleLine =
    first && 'idle' in first && first.idle
      ? `Idle, ${first.lines} line(s), health check off, over ${first.idle.seconds} s: **${first.idle.switches} context switches**, ${first.idle.secondHalfSwitches} of them in the second half (all ${first.idle.threads} threads, voluntary and not, from /proc/PID/task/*/status${first.idle.woken.length > 0 ? `; by thread: ${first.idle.woken.join(', ')}` : ''}), and **${first.idle.cpuMs} ms CPU** (utime + stime, 10 ms ticks).`
      : 'Idle: not measured.';
  const md = [
    '<!-- lines:start -->',
    '## Memory, start-up and idle per line count',
    '',
    `Generated by \`npm run bench:compare -- --only lines --lines ${counts.join(',')} --idle ${idle}\` (tools/bench/lines.ts) on ${started.toISOString()}.`,
    'One `callbackd run` process with n lines on simulated modems (the exchange runs in the benchmark process),',
    `then n mgetty processes on the same modems in the same run. RSS and PSS from /proc/PID/smaps_rollup, ${SETTLE_S} s after the`,
    'last line is ready. Start-up, all from exec: the first command or DTR change any modem sees / the last `line-ready` / the `started` log line,',
    "after which READY=1 goes out (once every line has finished its first open and init). The modems' own time is the middle column minus the first.",
    '',
    '| lines | callbackd RSS | callbackd PSS | RSS per added line | n x mgetty RSS | n x mgetty PSS | start-up: first modem event / all lines ready / READY=1 |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    idleLine,
    '<!-- lines:end -->',
  ].join('\n');
  process.stdout.write(`${md}\n`);
  if (!write) return;
  writeFileSync(
    path.join(repo, 'docs', 'bench-lines.json'),
    `${JSON.stringify({ date: started.toISOString(), results }, null, 2)}\n`,
  );
  writeSection('lines', md);
}

const SETTLE_S = 2;

main().catch((err: unknown) => {
  process.stderr.write(`bench:compare: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
