import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCallbackdError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { Modem } from '../../src/modem/index.js';
import { createSerialTransport, formatLockPid, openWithRetry, UucpLock } from '../../src/serial/index.js';
import type { Transport } from '../../src/serial/transport.js';
import { stdioWithoutMasters, type Exchange } from '../../src/sim/index.js';
import { fastExchange, next, TIMING } from './modem-helpers.js';

/**
 * Device trouble with real ptys: the simulator's pty vanishing under an open line and
 * coming back, and another program holding the UUCP lock.
 */
const INIT = '"" ATZ OK';
const log = silentLogger();

let dir: string;
const cleanup: (() => Promise<void> | void)[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'callbackd-serial-'));
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

async function exchangeWithModem(link: string): Promise<Exchange> {
  const ex = await fastExchange();
  cleanup.push(() => ex.close());
  await ex.addModem({ number: '100', link });
  return ex;
}

/** Opens the tty behind `link` and inits the modem: what a line does to come up. */
function bringUp(link: string) {
  return async () => {
    const t = createSerialTransport({ path: link, baudRate: 115200, flowControl: 'none', log });
    await t.open();
    const modem = new Modem(t, { timing: TIMING, log, line: 'sim0' });
    try {
      await modem.init(INIT);
    } catch (e) {
      modem.dispose();
      await t.close();
      throw e;
    }
    cleanup.push(async () => {
      modem.dispose();
      await t.close();
    });
    return { t, modem };
  };
}

describe('line on a simulated device', () => {
  it('reports DEVICE_GONE when the device vanishes, waits while it is missing, reopens when it is back', async () => {
    const link = join(dir, 'ttySIM0');
    const first = await exchangeWithModem(link);
    const { t } = await bringUp(link)();

    const gone = next<Error>((fn) => (t as Transport).onUnexpectedClose(fn));
    await first.close(); // the pty and its link disappear, as an unplugged USB modem does
    const err = await gone;
    expect(isCallbackdError(err, 'DEVICE_GONE')).toBe(true);
    expect(t.isOpen).toBe(false);
    await expect(t.write('AT\r')).rejects.toMatchObject({ code: 'LINE_CLOSED' });

    const failures: string[] = [];
    let second: Exchange | undefined;
    const reopened = openWithRetry({
      line: 'sim0',
      timing: TIMING,
      log,
      open: bringUp(link),
      onFailure: (e) => {
        failures.push((e as { code?: string }).code ?? e.message);
        // The device comes back after two failed attempts.
        if (failures.length === 2) void exchangeWithModem(link).then((x) => (second = x));
      },
    });
    const { modem } = await reopened;
    expect(failures).toEqual(['DEVICE_MISSING', 'DEVICE_MISSING']);
    expect((await modem.command('AT')).result).toBe('OK');
    expect(second!.events.some((e) => e.type === 'command' && e.line === 'ATZ')).toBe(true);
  });

  it('waits without touching the modem while another program holds the UUCP lock', async () => {
    const link = join(dir, 'ttySIM1');
    const ex = await exchangeWithModem(link);
    const holder: ChildProcess = spawn('sleep', ['30'], { stdio: 'ignore' });
    cleanup.push(() => void holder.kill('SIGKILL'));
    const lockPath = join(dir, 'LCK..ttySIM1');
    writeFileSync(lockPath, formatLockPid(holder.pid!), { mode: 0o644 });
    const lock = new UucpLock(link, { dir, log });
    cleanup.push(() => lock.release());

    const seen: number[] = [];
    let recheck: () => void = () => undefined;
    const twoChecks = new Promise<void>((resolve) => (recheck = resolve));
    const up = openWithRetry({
      line: 'sim1',
      timing: TIMING,
      log,
      lock,
      open: bringUp(link),
      onLocked: (pid) => {
        seen.push(pid);
        if (seen.length === 2) recheck();
      },
    });
    await twoChecks;
    expect(seen).toEqual([holder.pid, holder.pid]);
    expect(ex.events.filter((e) => e.type === 'open' || e.type === 'command')).toEqual([]);

    const exited = new Promise((resolve) => holder.once('exit', resolve));
    holder.kill('SIGTERM');
    await exited;
    const { modem } = await up;
    expect(readFileSync(lockPath, 'latin1')).toBe(formatLockPid(process.pid));
    expect((await modem.command('AT')).result).toBe('OK');
    await lock.release();
    expect(() => readFileSync(lockPath)).toThrow(/ENOENT/);
  });

  it('a second open of the same tty fails with DEVICE_BUSY (flock)', async () => {
    const link = join(dir, 'ttySIM2');
    await exchangeWithModem(link);
    await bringUp(link)();
    const t2 = createSerialTransport({ path: link, baudRate: 115200, flowControl: 'none', log });
    await expect(t2.open()).rejects.toMatchObject({ code: 'DEVICE_BUSY' });
  });
});

describe("children of the simulator's process", () => {
  /** The fds of a child that point at a pty master. */
  function mastersOf(pid: number): string[] {
    const fds = readdirSync(`/proc/${pid}/fd`);
    return fds.filter((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === '/dev/ptmx';
      } catch {
        return false;
      }
    });
  }

  function sleeper(stdio: StdioOptions): ChildProcess {
    const child = spawn('sleep', ['30'], { stdio });
    cleanup.push(() => void child.kill('SIGKILL'));
    return child;
  }

  it('hold no modem master, so an unplug reaches the program on the line', async () => {
    await exchangeWithModem(join(dir, 'ttySIM2'));
    // A plain spawn inherits the master (node-pty leaves close-on-exec off): the case this guards.
    expect(mastersOf(sleeper(['ignore', 'ignore', 'ignore']).pid!).length).toBeGreaterThan(0);
    expect(mastersOf(sleeper(stdioWithoutMasters(['ignore', 'ignore', 'ignore'])).pid!)).toEqual([]);
  });
});
