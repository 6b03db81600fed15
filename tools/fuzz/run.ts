import fc from 'fast-check';
import { TARGETS } from './targets.js';

/**
 * `npm run fuzz [-- --runs N] [--seed S] [--only NAME]`: fast-check over every parser
 * the outside world reaches (tools/fuzz/targets.ts). Runs per parser: --runs, else
 * FUZZ_RUNS, else 1 000 000. Prints one line per parser and a final line; exits 1 on
 * the first counterexample (printed with the seed and path that replay it).
 */
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const runs = Number(arg('runs') ?? process.env.FUZZ_RUNS ?? 1_000_000);
const seed = Number(arg('seed') ?? process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const only = arg('only');
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`fuzz: --runs must be a positive whole number, got ${arg('runs') ?? process.env.FUZZ_RUNS}`);
  process.exit(2);
}

let total = 0;
let failed = 0;
const started = process.hrtime.bigint();
for (const target of TARGETS) {
  if (only && !target.name.includes(only)) continue;
  const t0 = process.hrtime.bigint();
  const result = fc.check(target.property, {
    numRuns: runs,
    seed,
    endOnFailure: false,
  }) as fc.RunDetails<unknown>;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  total += result.numRuns;
  if (result.failed) {
    failed++;
    console.log(`fuzz: ${target.name}: FAILED after ${result.numRuns} inputs in ${(ms / 1000).toFixed(1)} s`);
    console.log(fc.defaultReportMessage(result) ?? '');
    console.log(
      `replay: npm run fuzz -- --only '${target.name}' --seed ${seed} (path ${result.counterexamplePath})`,
    );
  } else {
    console.log(`fuzz: ${target.name}: ${result.numRuns} inputs ok in ${(ms / 1000).toFixed(1)} s`);
  }
}
const secs = Number(process.hrtime.bigint() - started) / 1e9;
console.log(
  `fuzz: ${failed === 0 ? 'ok' : 'FAILED'} parsers=${TARGETS.filter((t) => !only || t.name.includes(only)).length} failed=${failed} inputs=${total} seed=${seed} time=${secs.toFixed(1)}s`,
);
process.exit(failed === 0 ? 0 : 1);
