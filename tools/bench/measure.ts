import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { LineReader } from '../../src/login/index.js';
import { silentLogger } from '../../src/log.js';
import { Modem } from '../../src/modem/index.js';
import { FAST_TIMING } from '../../src/timing.js';
import { checkNumber } from '../../src/policy/numbers.js';
import type { NumberRules } from '../../src/config/types.js';
import { createSerialTransport } from '../../src/serial/index.js';
import { createExchange } from '../../src/sim/index.js';

/** Summary of a latency sample, in milliseconds. */
export interface Stats {
  n: number;
  min: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    n: s.length,
    min: round(s[0] ?? NaN),
    median: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    max: round(s[s.length - 1] ?? NaN),
    mean: round(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

/** A real gc() for heap measurements, without needing --expose-gc on the command line. */
export function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * `AT` -> `OK` through the whole stack: Modem.command, the serial transport,
 * serialport on a pty slave, the simulated modem on the master, and back. The
 * simulator reads its pty masters when they are readable; `simPollMs` makes it poll
 * them on a timer of that interval instead (its old way), for comparison.
 */
export async function atRoundTrip(n: number, simPollMs?: number, warmup = 50): Promise<Stats> {
  const exchange = await createExchange(
    simPollMs === undefined ? {} : { pty: { reads: 'timer', pollMs: simPollMs } },
  );
  try {
    const sim = await exchange.addModem({ number: '100' });
    const transport = createSerialTransport({
      path: sim.ttyPath,
      baudRate: 115200,
      flowControl: 'none',
      log: silentLogger(),
    });
    await transport.open();
    const modem = new Modem(transport, { timing: FAST_TIMING, log: silentLogger(), line: 'bench' });
    try {
      const samples: number[] = [];
      for (let i = 0; i < warmup + n; i++) {
        const t0 = performance.now();
        const r = await modem.command('AT');
        const dt = performance.now() - t0;
        if (r.result !== 'OK') throw new Error(`AT answered ${r.result}`);
        if (i >= warmup) samples.push(dt);
      }
      return stats(samples);
    } finally {
      modem.dispose();
      await transport.close();
    }
  } finally {
    await exchange.close();
  }
}

export interface ReaderResult {
  megabytes: number;
  seconds: number;
  mbPerSecond: number;
  heapBeforeMB: number;
  heapAfterMB: number;
  heapPeakDeltaMB: number;
  events: number;
}

/**
 * Feeds `megabytes` of random bytes (line noise) to a LineReader with echo and
 * AutoPPP detection on, as at a login prompt, in 4 KiB chunks as a tty delivers
 * them. The noise is a 8 MiB random pool reused, so the generator is not measured.
 */
export function readerThroughput(megabytes: number): ReaderResult {
  const pool = randomBytes(8 * 1024 * 1024);
  const chunk = 4096;
  const reader = new LineReader({ maxLength: 32, echo: true, detectPpp: true });
  gc();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  let events = 0;
  const total = megabytes * 1024 * 1024;
  const t0 = performance.now();
  for (let done = 0, off = 0; done < total; done += chunk) {
    if (off + chunk > pool.length) off = 0;
    const r = reader.feed(pool.subarray(off, off + chunk));
    events += r.events.length;
    off += chunk;
    // A ppp event would stop the reader for good (the line belongs to pppd): start over, as a new call would.
    if (r.events.some((e) => e.kind === 'ppp')) reader.reset();
    if ((done & 0xfffff) === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  const seconds = (performance.now() - t0) / 1000;
  gc();
  const after = process.memoryUsage().heapUsed;
  const mb = (b: number) => Math.round((b / 1024 / 1024) * 100) / 100;
  return {
    megabytes,
    seconds: Math.round(seconds * 1000) / 1000,
    mbPerSecond: Math.round((megabytes / seconds) * 10) / 10,
    heapBeforeMB: mb(before),
    heapAfterMB: mb(after),
    heapPeakDeltaMB: mb(peak - before),
    events,
  };
}

export interface RateResult {
  calls: number;
  seconds: number;
  perSecond: number;
  accepted: number;
}

/** checkNumber on a mix of good, denied and malformed numbers, with prefix and regex rules. */
export function checkNumberRate(calls: number): RateResult {
  const rules: NumberRules = {
    allow: ['0', '/^[2-9][0-9]{5,7}$/'],
    deny: ['0900', '0190', '0137', '00'],
    minLength: 6,
    maxLength: 15,
    modifiers: ',',
  };
  const inputs = Array.from({ length: 1024 }, (_, i) => {
    const r = (i * 2654435761) >>> 0;
    switch (i % 4) {
      case 0:
        return `0${String(r).padStart(9, '0')}`;
      case 1:
        return `0900${String(r).slice(0, 6)}`;
      case 2:
        return `${2 + (r % 8)}${String(r).slice(0, 6)}`;
      default:
        return `12-34 x${r}`;
    }
  });
  let accepted = 0;
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) if (checkNumber(rules, inputs[i & 1023] as string).ok) accepted++;
  const seconds = (performance.now() - t0) / 1000;
  return {
    calls,
    seconds: Math.round(seconds * 1000) / 1000,
    perSecond: Math.round(calls / seconds),
    accepted,
  };
}
