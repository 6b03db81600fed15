import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../../src/daemon/daemon.js';
import { Notifier } from '../../src/daemon/notify.js';
import { createLogger } from '../../src/log.js';
import { LogTap } from '../../src/log-tap.js';
import { MemoryTransport } from '../../src/serial/memory-transport.js';
import type { LineLock } from '../../src/session/deps.js';
import { testConfig, testLine } from '../helpers/config.js';

/**
 * READY=1 tells systemd (and every unit ordered after callbackd) that the lines answer
 * calls: it must come after each line's first open and init, whether that succeeded
 * or failed, and a line that never finishes must not hold it for ever.
 */

/** A modem that answers OK to each AT command only once the test opens the gate. */
function gatedModem(device: string) {
  const t = new MemoryTransport(device, { open: false });
  let open = false;
  const held: string[] = [];
  let pending = '';
  const reply = () => queueMicrotask(() => t.peer.write('\r\nOK\r\n'));
  t.onWrite((b) => {
    pending += b.toString('latin1');
    let i: number;
    while ((i = pending.indexOf('\r')) >= 0) {
      const cmd = pending.slice(0, i).trim();
      pending = pending.slice(i + 1);
      if (!/^AT/i.test(cmd)) continue;
      if (open) reply();
      else held.push(cmd);
    }
  });
  return {
    transport: t,
    /** Commands the modem has not answered yet. */
    held,
    release: () => {
      open = true;
      for (const _ of held.splice(0)) reply();
    },
  };
}

const freeLock = (): LineLock => ({
  acquire: async () => ({ ok: true }),
  release: async () => undefined,
  handOver: async () => undefined,
  reclaim: async () => undefined,
});

const dirs: string[] = [];
const daemons: DaemonHandle[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(lines: string[]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'notify-ready-'));
  dirs.push(dir);
  const tap = new LogTap();
  const log = createLogger({ level: 'debug', destination: tap.stream });
  /** systemd-notify's argv, each with how many log events had been written by then. */
  const sent: { args: string[]; afterEvents: number }[] = [];
  const notifier = new Notifier({
    log,
    env: { NOTIFY_SOCKET: '/run/systemd/notify' },
    pid: 4242,
    runner: async (args) => {
      sent.push({ args: [...args], afterEvents: tap.events.length });
    },
  });
  const config = testConfig({
    daemon: { ...testConfig().daemon, stateDir: dir, lockDir: dir, accountingFile: path.join(dir, 'acct') },
    lines: lines.map((name) => testLine({ name, device: `/dev/${name}`, init: '"" ATZ OK' })),
  });
  const readyAt = () => sent.find((s) => s.args.includes('--ready'));
  const indexOf = (pred: (e: Record<string, unknown>) => boolean) => tap.events.findIndex(pred);
  return { dir, tap, log, notifier, config, readyAt, indexOf };
}

describe('READY=1', () => {
  it('goes out only after every line has finished its first open and init, up or failed', async () => {
    const s = setup(['ttyA', 'ttyB']);
    const modemA = gatedModem('/dev/ttyA');
    const daemon = await startDaemon({
      config: s.config,
      log: s.log,
      notifier: s.notifier,
      deps: {
        log: s.log,
        openTransport: (line) => {
          if (line.name === 'ttyA') return modemA.transport;
          const gone = new MemoryTransport(line.device, { open: false });
          gone.openError = new Error('ENOENT: no such device');
          return gone;
        },
        makeLock: () => freeLock(),
        startPpp: () => Promise.reject(new Error('no pppd in this test')),
      },
    });
    daemons.push(daemon);
    // ttyB's open failed and was logged; ttyA's modem has its ATZ and has not answered.
    await s.tap.waitFor(
      (e) => e.event === 'line-open-failed' && e.line === 'ttyB',
      5_000,
      'ttyB line-open-failed',
    );
    await expect.poll(() => modemA.held.length, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(s.readyAt()).toBeUndefined();
    expect(s.tap.events.some((e) => e.event === 'started')).toBe(false);

    modemA.release();
    await daemon.ready;
    const ready = s.readyAt();
    expect(ready?.args).toEqual(['--pid=4242', '--ready']);
    const lineReady = s.indexOf((e) => e.event === 'line-ready' && e.line === 'ttyA');
    expect(lineReady).toBeGreaterThanOrEqual(0);
    expect(ready!.afterEvents).toBeGreaterThan(lineReady);
    expect(s.indexOf((e) => e.event === 'started')).toBeGreaterThan(lineReady);
  });

  it('goes out after the bound when a line never finishes (its lock held by another program)', async () => {
    const s = setup(['ttyA']);
    const daemon = await startDaemon({
      config: s.config,
      log: s.log,
      notifier: s.notifier,
      readyBoundMs: 300,
      deps: {
        log: s.log,
        openTransport: () => gatedModem('/dev/ttyA').transport,
        makeLock: () => ({ ...freeLock(), acquire: async () => ({ ok: false, heldBy: 1 }) }),
        startPpp: () => Promise.reject(new Error('no pppd in this test')),
      },
    });
    daemons.push(daemon);
    await daemon.ready;
    expect(s.readyAt()?.args).toEqual(['--pid=4242', '--ready']);
    const late = s.tap.events.find((e) => e.event === 'lines-not-ready');
    expect(late?.lines).toEqual(['ttyA']);
    expect(s.tap.events.find((e) => e.event === 'started')?.notReady).toEqual(['ttyA']);
  });
});
