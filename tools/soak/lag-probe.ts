import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

/**
 * Preloaded into the daemon by the soak (`node --import lag-probe.js cli.js run`), so
 * the daemon's code is not changed to be measured: every second it writes the event
 * loop delay's p99 and max (ms) since start to $SOAK_LAG_FILE.
 */
const file = process.env.SOAK_LAG_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const write = () => {
    try {
      // Active handles and requests (sockets, ptys, child pipes, timers): the daemon's
      // listeners on the outside world, which must stay flat over a soak.
      const handles = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout').length;
      // Where RSS goes: the JS heap in use, Buffers outside it (kB).
      const m = process.memoryUsage();
      const heap = Math.round(m.heapUsed / 1024);
      const external = Math.round(m.external / 1024);
      // Committed size per V8 space (kB): which one holds RSS that the heap in use does not.
      const spaces = Object.fromEntries(
        getHeapSpaceStatistics().map((sp) => [sp.space_name, Math.round(sp.physical_space_size / 1024)]),
      );
      writeFileSync(
        file,
        JSON.stringify({
          p99: h.percentile(99) / 1e6,
          max: h.max / 1e6,
          n: h.count,
          handles,
          heap,
          external,
          spaces,
        }),
      );
    } catch {
      // The soak's directory went away: nothing to report to.
    }
  };
  setInterval(write, 1_000).unref();
  process.on('exit', write);
  // Before each RSS sample the soak asks for a full collection (the daemon runs with
  // --expose-gc), so RSS compares live memory rather than where the collector happens to be.
  process.on('SIGUSR2', () => {
    (globalThis as { gc?: () => void }).gc?.();
    write();
  });
}
