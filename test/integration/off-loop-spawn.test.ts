import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OffLoopSpawner } from '../../src/ppp/off-loop-spawn.js';

// The worker thread that spawns pppd while other lines' pppd run: what pppd writes to
// stderr must reach the daemon whole, whenever it comes (pppd's last line, the link's
// byte counts, is what accounting reads).

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'callbackd-offloop-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('OffLoopSpawner', () => {
  it("never keeps the process alive: the worker is unref'd once its listeners are on", async () => {
    // First in the file: no other test's thread is still ending.
    const ports = () =>
      process.getActiveResourcesInfo().filter((r) => r === 'MessagePort' || r === 'Worker').length;
    const before = ports();
    const spawner = new OffLoopSpawner(0, 60_000);
    await spawner.whenReady();
    expect(ports()).toBe(before);
    spawner.close();
  });

  it("relays stderr that arrives after the child's exit, then its end", async () => {
    const spawner = new OffLoopSpawner(0, 60_000);
    await spawner.whenReady();
    const fifo = join(work, 'after-exit');
    execFileSync('mkfifo', [fifo]);
    const devnull = openSync('/dev/null', 'r+');
    // The child exits at once; a process it leaves behind holds stderr and writes only
    // when told to, which the test does after it has seen the exit.
    const child = await spawner.spawn({
      file: '/bin/sh',
      args: ['-c', `(read x < ${fifo}; echo "late: $x" >&2) & exit 0`],
      fd: devnull,
      env: process.env,
      detached: true,
    });
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    const ended = new Promise<void>((res) => child.stderr!.once('end', res));
    const code = await new Promise<number | null>((res) => child.once('exit', res));
    expect(code).toBe(0);
    const w = openSync(fifo, 'w');
    writeSync(w, 'Sent 1 bytes, received 2 bytes.\n');
    closeSync(w);
    await ended;
    expect(err).toBe('late: Sent 1 bytes, received 2 bytes.\n');
    closeSync(devnull);
    spawner.close();
  });
});
