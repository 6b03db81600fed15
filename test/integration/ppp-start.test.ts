import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { startPppd } from '../../src/ppp/start.js';
import { createSerialTransport } from '../../src/serial/serial-transport.js';
import { testConfig, testLine } from '../helpers/config.js';
import { writeStandin } from '../helpers/standin.js';

// startPppd on a real pty with the pppd stand-in: who sets the tty up as a modem line.
// Real pppd clears CLOCAL and sets HUPCL itself (its set_up_tty, with the default
// `modem`), so callbackd runs no stty process for a program named pppd; any other
// program gets the line from stty. serialport opens the tty with CLOCAL on, so the
// flag tells which way was taken.

const pty = createRequire(import.meta.url)('node-pty') as {
  open(o: { encoding: null }): {
    ptsName: string;
    master: NodeJS.ReadWriteStream & { destroy(): void };
    slave: { destroy(): void };
  };
};

let work: string;
let standin: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'callbackd-ppp-start-'));
  standin = writeStandin(work);
  // The stand-in under the name pppd: node itself, through a link called pppd.
  symlinkSync(process.execPath, join(work, 'pppd'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function start(program: string) {
  const t = pty.open({ encoding: null });
  t.slave.destroy();
  cleanups.push(() => t.master.destroy());
  let fromLine = '';
  t.master.on('data', (b: Buffer) => (fromLine += b.toString('latin1')));
  const log = silentLogger();
  const transport = createSerialTransport({ path: t.ptsName, baudRate: 115200, flowControl: 'none', log });
  await transport.open();
  cleanups.push(() => transport.close());
  const line = testLine({ device: t.ptsName });
  const config = testConfig({
    lines: [line],
    pppd: { ...testConfig().pppd, path: program, prefixArgs: [standin] },
  });
  const run = await startPppd({ line, config, autoPpp: false, closeLine: () => transport.close(), log });
  cleanups.push(() => run.stop(1_000));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error('no greeting from the stand-in')), 20_000);
    const check = () => {
      if (!fromLine.includes('STANDIN-HELLO')) return;
      clearTimeout(timer);
      res();
    };
    t.master.on('data', check);
    check();
  });
  const flags = spawnSync('stty', ['-a', '-F', t.ptsName], { encoding: 'utf8' }).stdout;
  const stat = readFileSync(`/proc/${run.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { flags, ttyNr: Number(fields[4]), session: Number(fields[3]), pid: run.pid };
}

describe('startPppd', () => {
  it('runs stty for a program that is not pppd: CLOCAL off, HUPCL on', async () => {
    const r = await start(process.execPath);
    expect(r.flags).toMatch(/(^|\s)-clocal(\s|$)/);
    expect(r.flags).toMatch(/(^|\s)hupcl(\s|$)/);
    expect(r.ttyNr).not.toBe(0);
    expect(r.session).toBe(r.pid);
  });

  it('leaves the termios to pppd itself (no stty), and still makes the line its controlling tty', async () => {
    const r = await start(join(work, 'pppd'));
    // The stand-in does not do what pppd does, so serialport's CLOCAL is still there.
    expect(r.flags).toMatch(/(^|\s)clocal(\s|$)/);
    expect(r.ttyNr).not.toBe(0);
    expect(r.session).toBe(r.pid);
  });
});
