import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** The sampling timer's period; what it reports beyond this is the loop's delay. */
const RESOLUTION_MS = 10;

/**
 * Loaded into a daemon under test with `node --import dist-tools/tools/bench/lag-probe.js`: records
 * the event loop's delay and writes its percentiles (ms) to $CALLBACKD_LAG_FILE on
 * SIGUSR2, then starts a fresh histogram. Never part of `callbackd run` itself.
 */
const file = process.env.CALLBACKD_LAG_FILE;
if (file) {
  let h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  process.on('SIGUSR2', () => {
    const ms = (ns: number): number => Math.max(0, Math.round(ns / 1e4) / 100 - RESOLUTION_MS);
    writeFileSync(
      file,
      JSON.stringify({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), n: h.count }),
    );
    h.disable();
    h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    h.enable();
  });
}
