import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { DIST } from '../paths.js';

/**
 * What one import costs a fresh Node process: load time and memory after a full GC,
 * against a bare process. Each module is measured alone, in its own process, with the
 * daemon's node flags, so the numbers are what `callbackd run` pays for it.
 */
const dist = DIST;

export interface ImportCost {
  module: string;
  ms: number;
  rssKB: number;
  pssKB: number;
  heapKB: number;
}

const PROBE = `
const t0 = performance.now();
const spec = process.argv[1];
(spec ? import(spec) : Promise.resolve()).then(() => {
  const ms = performance.now() - t0;
  globalThis.gc();
  const r = require('node:fs').readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (k) => Number(new RegExp('^' + k + ':\\\\s+(\\\\d+) kB', 'm').exec(r)[1]);
  process.stdout.write(JSON.stringify({ ms, rssKB: kb('Rss'), pssKB: kb('Pss'), heapKB: Math.round(process.memoryUsage().heapUsed / 1024) }));
});`;

function probe(spec: string, flags: string[]): Omit<ImportCost, 'module'> {
  const out = execFileSync(process.execPath, [...flags, '--expose-gc', '-e', PROBE, spec], {
    cwd: path.join(dist, '..'),
    encoding: 'utf8',
  });
  return JSON.parse(out) as Omit<ImportCost, 'module'>;
}

/** Median of `repeat` runs per module; '' is the bare process. */
export function importCosts(flags: string[], repeat = 5): ImportCost[] {
  const modules: [string, string][] = [
    ['(bare node)', ''],
    ['yargs', 'yargs'],
    ['pino', 'pino'],
    ['smol-toml', 'smol-toml'],
    ['serialport (all parsers, mock binding)', 'serialport'],
    ['node-pty', 'node-pty'],
    ['dist/config/index.js', path.join(dist, 'config', 'index.js')],
    ['dist/daemon/daemon.js', path.join(dist, 'daemon', 'daemon.js')],
    ['dist/daemon/commands.js (all `run` loads)', path.join(dist, 'daemon', 'commands.js')],
    ['dist/sim/index.js', path.join(dist, 'sim', 'index.js')],
    ['dist/demo/demo.js', path.join(dist, 'demo', 'demo.js')],
  ];
  return modules.map(([name, spec]) => {
    const runs = Array.from({ length: repeat }, () => probe(spec, flags));
    const med = (k: keyof Omit<ImportCost, 'module'>): number =>
      [...runs.map((r) => r[k])].sort((a, b) => a - b)[Math.floor(repeat / 2)]!;
    return { module: name, ms: med('ms'), rssKB: med('rssKB'), pssKB: med('pssKB'), heapKB: med('heapKB') };
  });
}
