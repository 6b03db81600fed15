import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../src/log.js';
import { LogTap } from '../../src/log-tap.js';
import { handOverToPppd, pppdOutcome, type PppRun } from '../../src/ppp/index.js';
import { createSerialTransport } from '../../src/serial/serial-transport.js';
import { parseLockPid, pidAlive, UucpLock } from '../../src/serial/lock.js';
import { isCallbackdError } from '../../src/errors.js';

// Real pty, real serialport, real child process: the hand-over as the daemon does it,
// with the pppd stand-in (this kernel has no PPP; real pppd is tested in test/e2e).

interface PtyPair {
  ptsName: string;
  master: NodeJS.ReadWriteStream & { destroy(): void };
}
// node-pty's open() exists at run time but not in its typings (see docs/testing.md).
const pty = createRequire(import.meta.url)('node-pty') as {
  open(o: { encoding: null }): PtyPair & { slave: { destroy(): void } };
};

let work: string;
let standin: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'callbackd-ppp-'));
  // The stand-in is self-contained TypeScript; transpile it to run without a build.
  const src = readFileSync(new URL('../../src/demo/pppd-standin.ts', import.meta.url), 'utf8');
  const out = ts.transpileModule(src, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  standin = join(work, 'pppd-standin.mjs');
  writeFileSync(standin, out.outputText);
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function openPair(): PtyPair {
  const t = pty.open({ encoding: null });
  t.slave.destroy(); // its resumed stream would steal bytes; node-pty keeps a slave fd open
  cleanups.push(() => t.master.destroy());
  return t;
}

/** Resolves when `pred` holds, checked on every chunk from `stream`. */
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

async function lineAndLock(ptsName: string) {
  const log = silentLogger();
  const transport = createSerialTransport({ path: ptsName, baudRate: 115200, flowControl: 'none', log });
  await transport.open();
  cleanups.push(() => transport.close());
  const lock = new UucpLock(ptsName, { dir: work, log });
  expect(await lock.acquire()).toEqual({ ok: true });
  cleanups.push(() => lock.release());
  return { transport, lock, log };
}

/**
 * A line handed to the stand-in (with test-mode arguments, on the worker thread when
 * `offLoop`), its log tapped; resolves once the stand-in has greeted the caller's side.
 */
async function handOverStandin(args: string[], offLoop?: 'always') {
  const { ptsName, master } = openPair();
  const { transport, lock } = await lineAndLock(ptsName);
  const tap = new LogTap();
  const log = createLogger({ level: 'debug', destination: tap.stream });
  let fromLine = '';
  master.on('data', (b: Buffer) => (fromLine += b.toString('latin1')));
  const run = await handOverToPppd({
    ttyPath: ptsName,
    closeLine: () => transport.close(),
    file: process.execPath,
    args: [standin, ...args],
    lock,
    log,
    ...(offLoop ? { offLoop } : {}),
  });
  cleanups.push(async () => {
    await run.stop(1_000);
  });
  await until(master, () => fromLine.includes('STANDIN-HELLO'), 'greeting');
  return { run, master, tap, ptsName, transport, lock };
}

describe('handing the line to a pppd stand-in', () => {
  it('streams 800 numbered lines across the hand-over: none lost, none duplicated; lock names the child', async () => {
    const { ptsName, master } = openPair();
    const { transport, lock, log } = await lineAndLock(ptsName);
    let before = '';
    let reached200: () => void = () => {};
    const seen200 = new Promise<void>((res) => (reached200 = res));
    transport.onData((b) => {
      before += b.toString('latin1');
      if (before.includes('N0200\n')) reached200();
    });
    let fromLine = '';
    master.on('data', (b: Buffer) => (fromLine += b.toString('latin1')));

    const lines = Array.from({ length: 800 }, (_, i) => `N${String(i).padStart(4, '0')}`);
    let sent = 0;
    let writing = true;
    const writer = (async () => {
      // Small batches keep the stream flowing during the hand-over, not before or after it.
      while (sent < lines.length && writing) {
        const batch = lines.slice(sent, sent + 8);
        master.write(Buffer.from(batch.map((l) => `${l}\n`).join(''), 'latin1'));
        sent += batch.length;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    cleanups.push(() => void (writing = false));

    await seen200;
    const run: PppRun = await handOverToPppd({
      ttyPath: ptsName,
      closeLine: () => transport.close(),
      file: process.execPath,
      args: [standin, 'standin-exit', '16'],
      lock,
      log,
    });
    cleanups.push(() => run.stop(1_000));
    expect(parseLockPid(readFileSync(lock.path))).toBe(run.pid);
    expect(run.pid).not.toBe(process.pid);

    await writer;
    expect(sent).toBe(800);
    master.write('BYE\n');
    const ended = await run.exited;
    expect(ended).toEqual({ code: 0, signal: null });
    expect(pppdOutcome(ended.code, ended.signal).outcome).toBe('ok');
    const counted = /exiting 0 after (\d+) lines/.exec(run.stderrTail());
    expect(run.stderrTail()).toContain('pppd stand-in: this is not pppd');
    expect(counted).not.toBeNull();
    const got = Number(counted?.[1]);
    const acks = () => [...fromLine.matchAll(/^STANDIN-ACK (\d+) (.*)$/gm)];
    await until(master, () => acks().length >= got, `${got} acks`);

    expect(fromLine.startsWith('STANDIN-HELLO\n')).toBe(true);
    const acked = acks().map((m) => m[2]);
    // Both sides must have had part of the stream, or this proved nothing.
    expect(before.length).toBeGreaterThan(200 * 6);
    expect(acked.length).toBeGreaterThan(0);
    // Byte-exact: what callbackd read, then what the stand-in read, is what was sent.
    // A line cut by the hand-over shows as a tail in `before` and a head in the stand-in.
    expect(before + acked.map((l) => `${l}\n`).join('')).toBe(lines.map((l) => `${l}\n`).join(''));
  });

  it('stop() ends the child with SIGTERM: exit 5, the stand-in plays pppd', async () => {
    const { run, transport } = await handOverStandin([]);
    await run.stop(5_000);
    expect(await run.exited).toEqual({ code: 5, signal: null });
    expect(pppdOutcome(5, null).outcome).toBe('stopped');
    expect(transport.isOpen).toBe(false);
  });

  it('a missing program is a PPP_SPAWN error, and the line was released for the caller to reclaim', async () => {
    const { ptsName } = openPair();
    const { transport, lock, log } = await lineAndLock(ptsName);
    const err = await handOverToPppd({
      ttyPath: ptsName,
      closeLine: () => transport.close(),
      file: join(work, 'no-such-pppd'),
      args: [],
      lock,
      log,
    }).catch((e: unknown) => e);
    expect(isCallbackdError(err, 'PPP_SPAWN')).toBe(true);
    expect(String(err)).toContain('no-such-pppd');
    expect(parseLockPid(readFileSync(lock.path))).toBe(process.pid);
    // The tty is free again: the transport reopens it.
    await transport.open();
    expect(transport.isOpen).toBe(true);
  });

  async function leftChild(tap: LogTap): Promise<number> {
    const e = await tap.waitFor(
      (e) => e.event === 'pppd' && /left child \d+/.test(String(e.msg)),
      20_000,
      'the stand-in naming its child',
    );
    const pid = Number(/left child (\d+)/.exec(String(e.msg))![1]);
    await tap.waitFor(
      (e) => e.event === 'pppd' && String(e.msg).includes('child: ready'),
      20_000,
      'the child ready (its SIGHUP handler in place)',
    );
    cleanups.push(() => {
      if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    });
    return pid;
  }

  /** Resolves once pid is gone (polled: a process not our child has no exit event). */
  async function gone(pid: number): Promise<void> {
    for (let i = 0; i < 2_000 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 10));
    expect(pidAlive(pid)).toBe(false);
  }

  it("pppd's exit ends the call although a child it left holds its stderr; the leftover is ended", async () => {
    const { run, master, tap } = await handOverStandin(['standin-leave-child']);
    const child = await leftChild(tap);
    master.write('BYE 0\n');
    // The status is pppd's own, while its child still lives (it would for 1e6 s).
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(tap.events.some((e) => e.event === 'pppd-leftover')).toBe(true);
    await gone(child);
  });

  it("stop() signals pppd's process group: pppd and the child it left both end", async () => {
    const { run, tap } = await handOverStandin(['standin-leave-child']);
    const child = await leftChild(tap);
    await run.stop(5_000);
    expect(await run.exited).toEqual({ code: 5, signal: null });
    await gone(child);
  });

  it('hangup() on a child that ignores SIGHUP and SIGTERM escalates to SIGKILL', async () => {
    const { run, tap } = await handOverStandin(['standin-ignore-hup', 'standin-ignore-term']);
    run.hangup();
    expect(await run.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const steps = tap.events.filter((e) => e.event === 'pppd-ignores-hangup').map((e) => e.signal);
    expect(steps).toEqual(['SIGTERM', 'SIGKILL']);
    expect(tap.events.some((e) => e.event === 'pppd' && String(e.msg).includes('SIGHUP ignored'))).toBe(true);
  });

  it('the child gets the tty as a modem line: CLOCAL off, HUPCL on, and as its controlling tty', async () => {
    const { run, ptsName } = await handOverStandin([]);
    const stty = spawnSync('stty', ['-a', '-F', ptsName], { encoding: 'utf8' });
    expect(stty.stdout).toMatch(/(^|\s)-clocal(\s|$)/);
    expect(stty.stdout).toMatch(/(^|\s)hupcl(\s|$)/);
    // The controlling tty of the child's session is the line (field 7 of /proc/PID/stat).
    const stat = readFileSync(`/proc/${run.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    expect(Number(fields[4])).not.toBe(0); // tty_nr
    expect(Number(fields[3])).toBe(run.pid); // session id: the child leads its own session
  });

  describe('spawned by the worker thread (as with many lines busy)', () => {
    it('the stand-in gets the line, its stderr and exit status come back, the lock names it', async () => {
      const { run, master, tap, transport, lock } = await handOverStandin(['standin-exit', '16'], 'always');
      expect(parseLockPid(readFileSync(lock.path))).toBe(run.pid);
      master.write('line one\nBYE 3\n');
      expect(await run.exited).toEqual({ code: 3, signal: null });
      expect(run.stderrTail()).toContain('pppd stand-in: this is not pppd');
      expect(tap.events.some((e) => e.event === 'pppd' && String(e.msg).includes('this is not pppd'))).toBe(
        true,
      );
      expect(transport.isOpen).toBe(false);
    });

    it("stop() signals the worker's child by its process group: SIGTERM, exit 5", async () => {
      const { run } = await handOverStandin([], 'always');
      await run.stop(5_000);
      expect(await run.exited).toEqual({ code: 5, signal: null });
    });

    it('a missing program is a PPP_SPAWN error', async () => {
      const { ptsName } = openPair();
      const { transport, lock, log } = await lineAndLock(ptsName);
      const err = await handOverToPppd({
        ttyPath: ptsName,
        closeLine: () => transport.close(),
        file: join(work, 'no-such-pppd'),
        args: [],
        lock,
        log,
        modemLine: false,
        offLoop: 'always',
      }).catch((e: unknown) => e);
      expect(isCallbackdError(err, 'PPP_SPAWN')).toBe(true);
      expect(String(err)).toContain('no-such-pppd');
      expect(parseLockPid(readFileSync(lock.path))).toBe(process.pid);
    });
  });
});
