import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Notifier, execFileRunner } from '../../src/daemon/notify.js';
import { createLogger, silentLogger } from '../../src/log.js';

function recorder(fail = false) {
  const calls: string[][] = [];
  const runner = async (args: readonly string[]) => {
    calls.push([...args]);
    if (fail) throw new Error('no socket');
  };
  return { calls, runner };
}

function captureLogger() {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _e, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ level: 'info', destination });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: number; msg: string });
  return { log, lines };
}

const env = { NOTIFY_SOCKET: '/run/systemd/notify' };

afterEach(() => {
  vi.useRealTimers();
});

describe('Notifier', () => {
  it('does nothing when NOTIFY_SOCKET is unset', async () => {
    const { calls, runner } = recorder();
    const n = new Notifier({ log: silentLogger(), env: { WATCHDOG_USEC: '1000000' }, runner, pid: 42 });
    await n.ready();
    await n.status('idle');
    await n.stopping();
    expect(n.enabled).toBe(false);
    expect(n.watchdogMs).toBe(0);
    expect(calls).toEqual([]);
  });

  it('sends ready, status and stopping with the daemon pid as sender', async () => {
    const { calls, runner } = recorder();
    const n = new Notifier({ log: silentLogger(), env, runner, pid: 4242 });
    await n.ready();
    await n.status('2 lines idle\nsecond line');
    await n.stopping();
    expect(calls).toEqual([
      ['--pid=4242', '--ready'],
      ['--pid=4242', '--status=2 lines idle second line'],
      ['--pid=4242', 'STOPPING=1'],
    ]);
  });

  it('logs a failing notify once and never throws', async () => {
    const { calls, runner } = recorder(true);
    const { log, lines } = captureLogger();
    const n = new Notifier({ log, env, runner, pid: 1 });
    await expect(n.ready()).resolves.toBeUndefined();
    await expect(n.status('x')).resolves.toBeUndefined();
    expect(calls).toHaveLength(2);
    expect(lines().filter((l) => l.msg.includes('systemd notify failed'))).toHaveLength(1);
  });

  it('pings the watchdog at half WATCHDOG_USEC while healthy', async () => {
    vi.useFakeTimers();
    const { calls, runner } = recorder();
    const n = new Notifier({
      log: silentLogger(),
      env: { ...env, WATCHDOG_USEC: '20000000' },
      runner,
      pid: 7,
    });
    expect(n.watchdogMs).toBe(10_000);
    let healthy = true;
    n.startWatchdog(() => healthy);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([['--pid=7', 'WATCHDOG=1']]);
    healthy = false;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(calls).toHaveLength(1);
    healthy = true;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(2);
    n.close();
    await vi.advanceTimersByTimeAsync(100_000);
    expect(calls).toHaveLength(2);
    await n.ready();
    expect(calls).toHaveLength(2);
  });

  it('treats a throwing health check as unhealthy', async () => {
    vi.useFakeTimers();
    const { calls, runner } = recorder();
    const n = new Notifier({ log: silentLogger(), env: { ...env, WATCHDOG_USEC: '2000' }, runner, pid: 7 });
    n.startWatchdog(() => {
      throw new Error('boom');
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(calls).toEqual([]);
    n.close();
  });

  it('ignores a watchdog meant for another pid or a malformed WATCHDOG_USEC', () => {
    const log = silentLogger();
    const runner = recorder().runner;
    expect(
      new Notifier({ log, runner, pid: 5, env: { ...env, WATCHDOG_USEC: '1000000', WATCHDOG_PID: '6' } })
        .watchdogMs,
    ).toBe(0);
    expect(
      new Notifier({ log, runner, pid: 5, env: { ...env, WATCHDOG_USEC: '1000000', WATCHDOG_PID: '5' } })
        .watchdogMs,
    ).toBe(500);
    expect(new Notifier({ log, runner, pid: 5, env: { ...env, WATCHDOG_USEC: 'soon' } }).watchdogMs).toBe(0);
    expect(new Notifier({ log, runner, pid: 5, env: { ...env, WATCHDOG_USEC: '-3' } }).watchdogMs).toBe(0);
  });

  it('execFileRunner passes text as one argv element, never through a shell', async () => {
    // node -e checks that the argument arrived byte for byte: a shell would have expanded it.
    const text = 'status=$(touch /tmp/pwned); `id` > x';
    const check = `if (process.argv[1] !== ${JSON.stringify(text)}) process.exit(1)`;
    await expect(execFileRunner(process.execPath)(['-e', check, text])).resolves.toBeUndefined();
    await expect(execFileRunner(process.execPath)(['-e', check, 'other'])).rejects.toThrow(/failed/);
    await expect(execFileRunner('/bin/false')([])).rejects.toThrow(/\/bin\/false failed/);
    await expect(execFileRunner('/nonexistent/systemd-notify')([])).rejects.toThrow(/failed/);
  });
});

/**
 * The real systemd-notify against a datagram socket standing in for systemd's: a small
 * python listener (python3 is part of the base system) prints each message as JSON
 * and closes any fd it is sent, which is how systemd answers BARRIER=1.
 */
const LISTENER = `
import socket, sys, os, json, array
p = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(p)
print(json.dumps("listening"), flush=True)
while True:
    msg, anc, _f, _a = s.recvmsg(4096, socket.CMSG_SPACE(64))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i"); fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
            for fd in fds: os.close(fd)
    print(json.dumps(msg.decode()), flush=True)
`;

describe.skipIf(!existsSync('/usr/bin/systemd-notify') || !existsSync('/usr/bin/python3'))(
  'Notifier with systemd-notify',
  () => {
    it('delivers READY=1 with MAINPID, STATUS and WATCHDOG to the notify socket', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'notify-'));
      const sock = path.join(dir, 'notify.sock');
      const listener = spawn('/usr/bin/python3', ['-c', LISTENER, sock], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        const received: string[] = [];
        const waiters: Array<() => void> = [];
        createInterface({ input: listener.stdout }).on('line', (l) => {
          received.push(JSON.parse(l) as string);
          waiters.splice(0).forEach((w) => w());
        });
        // Bounded, so that a lost message fails the test and `finally` still stops the listener.
        const waitFor = (pred: () => boolean) =>
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error(`no such message; got ${JSON.stringify(received)}`)),
              4_000,
            );
            const check = () => {
              if (!pred()) return void waiters.push(check);
              clearTimeout(timer);
              resolve();
            };
            check();
          });
        await waitFor(() => received.includes('listening'));
        const n = new Notifier({
          log: silentLogger(),
          env: { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '100000' },
        });
        await n.ready();
        await n.status('1 line idle');
        await waitFor(() => received.some((m) => m.includes('STATUS=')));
        expect(received).toContain(`READY=1\nMAINPID=${process.pid}`);
        expect(received.find((m) => m.includes('STATUS='))).toContain('STATUS=1 line idle');
        n.startWatchdog(() => true);
        await waitFor(() => received.some((m) => m.includes('WATCHDOG=1')));
        n.close();
      } finally {
        listener.kill();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
