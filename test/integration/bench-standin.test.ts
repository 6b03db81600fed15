import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { buildPppdArgv, handOverToPppd, pppdOutcome, pppdTraffic, type PppRun } from '../../src/ppp/index.js';
import { createSerialTransport } from '../../src/serial/serial-transport.js';
import { parseLockPid, UucpLock } from '../../src/serial/lock.js';
import { readFileSync } from 'node:fs';

// The scale benchmark's light pppd stand-in (tools/bench/pppd-standin.sh, run by dash)
// must be, for callbackd, what pppd is: started through a link named pppd with pppd's
// argv, handed the line, ended with pppd's exit codes, its byte counts read for
// accounting. Real pty, real serialport, the daemon's own hand-over.

interface PtyPair {
  ptsName: string;
  master: NodeJS.ReadWriteStream & { destroy(): void };
}
const pty = createRequire(import.meta.url)('node-pty') as {
  open(o: { encoding: null }): PtyPair & { slave: { destroy(): void } };
};
const SCRIPT = new URL('../../tools/bench/pppd-standin.sh', import.meta.url).pathname;

let work: string;
let pppd: string;
const cleanups: (() => Promise<void> | void)[] = [];
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'callbackd-sh-standin-'));
  pppd = join(work, 'pppd');
  symlinkSync(SCRIPT, pppd);
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function until(stream: NodeJS.ReadableStream, pred: () => boolean, what: string): Promise<void> {
  return new Promise((res, rej) => {
    if (pred()) return res();
    const timer = setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), 20_000);
    const on = () => {
      if (!pred()) return;
      clearTimeout(timer);
      stream.off('data', on);
      res();
    };
    stream.on('data', on);
  });
}

/** A line handed to the sh stand-in exactly as the daemon hands it to pppd. */
async function handOver() {
  const t = pty.open({ encoding: null });
  t.slave.destroy();
  cleanups.push(() => t.master.destroy());
  const log = silentLogger();
  const transport = createSerialTransport({ path: t.ptsName, baudRate: 115200, flowControl: 'none', log });
  await transport.open();
  cleanups.push(() => transport.close());
  const lock = new UucpLock(t.ptsName, { dir: work, log });
  expect(await lock.acquire()).toEqual({ ok: true });
  cleanups.push(() => lock.release());
  const { file, args } = buildPppdArgv(
    {
      path: pppd,
      prefixArgs: [],
      options: ['noauth'],
      localAddress: '192.168.1.1',
      remoteAddress: '192.168.1.2',
    } as never,
    { autoPpp: true, lineName: 'L0' },
  );
  expect(args).toEqual([
    'noauth',
    '192.168.1.1:192.168.1.2',
    'logfd',
    '2',
    'linkname',
    'L0',
    'require-pap',
    'nodetach',
  ]);
  let fromLine = '';
  t.master.on('data', (b: Buffer) => (fromLine += b.toString('latin1')));
  const run: PppRun = await handOverToPppd({
    ttyPath: t.ptsName,
    closeLine: () => transport.close(),
    file,
    args,
    lock,
    log,
    stty: false, // as for pppd (start.ts): it sets the line up itself
  });
  cleanups.push(() => run.stop(1_000));
  expect(parseLockPid(readFileSync(lock.path))).toBe(run.pid);
  await until(
    t.master,
    () => fromLine.includes('STANDIN-HELLO\r\n') || fromLine.includes('STANDIN-HELLO\n'),
    'greeting',
  );
  return { run, master: t.master, text: () => fromLine };
}

describe('the sh pppd stand-in of the scale benchmark, as callbackd runs pppd', () => {
  it("answers lines, ends on BYE <code> with that code, and leaves pppd's byte counts for accounting", async () => {
    const { run, master, text } = await handOver();
    master.write('hello\r\n');
    await until(master, () => text().includes('STANDIN-ACK 1 hello'), 'the ack');
    master.write('BYE 19\n');
    expect(await run.exited).toEqual({ code: 19, signal: null });
    // What it wrote: the greeting (14 bytes) and the ack (20); what it read: both lines.
    expect(pppdTraffic(run.stderrTail())).toEqual({ bytesOut: 14 + 20, bytesIn: 7 + 7 });
    expect(run.stderrTail()).toContain('this is not pppd');
  });

  it('BYE alone is exit 0, a clean link', async () => {
    const { run, master } = await handOver();
    master.write('BYE\n');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(pppdOutcome(0, null).outcome).toBe('ok');
  });

  it('the kernel\'s hang-up (SIGHUP to its group) is exit 16, pppd\'s "modem hung up"', async () => {
    const { run } = await handOver();
    run.hangup();
    expect(await run.exited).toEqual({ code: 16, signal: null });
    expect(pppdTraffic(run.stderrTail())).toEqual({ bytesOut: 14, bytesIn: 0 });
  });

  it('stop() (SIGTERM) is exit 5, as pppd', async () => {
    const { run } = await handOver();
    await run.stop(5_000);
    expect(await run.exited).toEqual({ code: 5, signal: null });
  });
});
