import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVER, dialIn, startBench, type Bench } from '../helpers/bench.js';

// The world-writable lock directory under attack or out of space, with the daemon on
// the simulator: the line fails, says why, backs off, and comes back; nothing else stops.

let bench: Bench | undefined;
const unmount: string[] = [];
afterEach(async () => {
  for (const m of unmount.splice(0)) spawnSync('umount', [m]);
  await bench?.close();
  bench = undefined;
});

const lockDir = (b: Bench) => join(b.dir, 'lock');
const lockFile = (b: Bench) => join(lockDir(b), `LCK..modem${SERVER}`);

describe('UUCP lock directory faults', () => {
  it('a FIFO planted as the lock file: the call is not answered, the line logs a lock failure and comes back once it is gone', async () => {
    bench = await startBench();
    const b = bench;
    expect(spawnSync('mkfifo', [lockFile(b)]).status).toBe(0);
    const port = await b.openCaller();
    await port.write(`ATDT${SERVER}\r`);
    const failed = await b.tap.waitFor((e) => e.event === 'lock-failed', 15_000, 'lock-failed');
    expect(String(failed.err)).toMatch(/is a FIFO, not a regular file/);
    expect(
      b.exchange.events.some((e) => e.type === 'command' && e.modem === SERVER && e.line === 'ATA'),
    ).toBe(false);
    rmSync(lockFile(b));
    await b.tap.waitForCount((e) => e.event === 'line-ready', 2, 20_000);
    await port.write('ATH0\r');
    await dialIn(port);
  });

  it('a full lock directory (ENOSPC): a logged line failure, never a crash; the line comes back when space returns', async (ctx) => {
    bench = await startBench();
    const b = bench;
    const dir = lockDir(b);
    // A tiny tmpfs over the lock directory (root only, as CI runs; skipped elsewhere).
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', dir], { encoding: 'utf8' });
    if (mounted.status !== 0) ctx.skip(`cannot mount a tmpfs here: ${mounted.stderr.trim()}`);
    unmount.push(dir);
    const fill = join(dir, 'fill');
    try {
      writeFileSync(fill, Buffer.alloc(1 << 20));
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    const port = await b.openCaller();
    await port.write(`ATDT${SERVER}\r`);
    const failed = await b.tap.waitFor((e) => e.event === 'lock-failed', 15_000, 'lock-failed');
    expect(String(failed.err)).toMatch(/ENOSPC|no space/i);
    rmSync(fill);
    await b.tap.waitForCount((e) => e.event === 'line-ready', 2, 20_000);
    await port.write('ATH0\r');
    await dialIn(port);
  });
});
