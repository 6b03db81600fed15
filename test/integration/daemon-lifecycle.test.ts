import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CALLER, SERVER, dialIn, startBench, type Bench } from '../helpers/bench.js';

// The daemon around the calls: reloads that keep calls, stopping with a call up, and
// a line another program has locked. Real ptys, the simulator's exchange.

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

const lockFile = (b: Bench) => join(b.dir, 'lock', `LCK..modem${SERVER}`);

describe('reload', () => {
  it('keeps the running config when the new file fails validation, and says why', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'callbackd-reload-')), 'callbackd.toml');
    bench = await startBench((c) => c, { configPath: file });
    writeFileSync(file, '[[lines]]\ndevice = "relative/tty"\nrings = 99\n');
    expect(await bench.daemon.reload()).toBe(false);
    const rejected = await bench.tap.waitFor((e) => e.event === 'reload-rejected', 2_000);
    expect(String(rejected.err)).toContain(`${file}:2: lines[0].device`);
    expect(String(rejected.err)).toContain(`${file}:3: lines[0].rings`);
    // The old config still answers calls.
    const port = await bench.openCaller();
    await dialIn(port);
    await port.write('call\r');
    await port.expect('Calling you back', 5_000);
    rmSync(dirname(file), { recursive: true, force: true });
  });

  it('does not drop a call in progress: the changed line restarts when the call ends', async () => {
    bench = await startBench();
    const port = await bench.openCaller();
    await dialIn(port);
    const old = bench.daemon.supervisor.currentConfig;
    const next = {
      ...old,
      login: { ...old.login, prompt: 'new login: ' },
      lines: old.lines.map((l) => ({ ...l, rings: 2 })),
    };
    bench.daemon.supervisor.reload(next);
    await bench.tap.waitFor((e) => e.event === 'reload-deferred', 2_000);
    // The call goes on under the config it started with.
    await port.write('nobody\r');
    await port.expect('Password: ', 5_000);
    await port.write('x\r');
    await port.expect('\r\nlogin: ', 5_000);
    bench.caller.dropCarrier();
    await bench.callEnd();
    const reloaded = await bench.tap.waitFor((e) => e.event === 'line-reloaded', 10_000);
    expect(reloaded.action).toBe('restart');
    await bench.tap.waitForCount((e) => e.event === 'line-ready', 2, 10_000);
    // The next call sees the new prompt (same caller port: two readers of one tty
    // would steal each other's bytes).
    await port.write(`ATDT${SERVER}\r`);
    await port.expect('new login: ', 10_000);
  });
});

describe('reload, twice in a row', () => {
  it('a line changed and changed back restarts once: one session on the tty, and it answers', async () => {
    bench = await startBench();
    const old = bench.daemon.supervisor.currentConfig;
    const changed = { ...old, lines: old.lines.map((l) => ({ ...l, rings: 2 })) };
    // The second reload arrives while the first is still stopping the line.
    bench.daemon.supervisor.reload(changed);
    bench.daemon.supervisor.reload(old);
    await bench.tap.waitFor((e) => e.event === 'line-reloaded', 10_000);
    await bench.tap.waitForCount((e) => e.event === 'line-ready', 2, 10_000);
    // The tracked session owns the line: a second one would hold the tty while the
    // tracked one failed to open it and its status stayed line-down.
    const status = () => bench!.daemon.supervisor.statuses().find((s) => s.name === 'ttyS1')?.state;
    await bench.tap.waitFor(() => status() === 'idle', 10_000, 'line idle');
    const port = await bench.openCaller();
    await dialIn(port);
    expect(status()).not.toBe('line-down');
    expect(bench.tap.events.filter((e) => e.event === 'line-reloaded')).toHaveLength(1);
    expect(bench.tap.events.filter((e) => e.event === 'line-ready')).toHaveLength(2);
  });
});

describe('stop', () => {
  it('during a dial: the dial is cut short, the call recorded, and the daemon is down in time', async () => {
    bench = await startBench((c) => ({
      ...c,
      lines: c.lines.map((l) => ({ ...l, timing: { ...l.timing, dialMs: 120_000 } })),
    }));
    const b = bench;
    const port = await b.openCaller();
    await dialIn(port);
    await port.write('call\r');
    await port.expect('NO CARRIER', 5_000);
    // The exchange would answer NO ANSWER after a few rings; a silent modem makes the
    // dial wait its whole timeout (two minutes here), as a real one can.
    await b.exchange.waitFor(
      (e) => e.type === 'command' && e.modem === SERVER && /^ATD/i.test(String(e.line)),
      10_000,
    );
    b.server.setFaults({ silent: true });
    await b.tap.waitFor((e) => e.event === 'dialing', 5_000);
    await b.daemon.stop();
    const end = await b.callEnd();
    expect(end).toMatchObject({ outcome: 'daemon-stopped', terminateCause: 'Admin-Reboot' });
    expect(existsSync(lockFile(b))).toBe(false);
  });

  it('hangs up a call in progress, records it, and leaves no lock behind', async () => {
    bench = await startBench();
    const port = await bench.openCaller();
    await dialIn(port);
    expect(existsSync(lockFile(bench))).toBe(true);
    await bench.daemon.stop();
    await port.expect('NO CARRIER', 5_000);
    expect(existsSync(lockFile(bench))).toBe(false);
    const end = await bench.callEnd();
    expect(end).toMatchObject({ outcome: 'daemon-stopped', terminateCause: 'Admin-Reboot' });
  });
});

describe('UUCP lock', () => {
  it('keeps retrying a line whose lock directory is missing, without crashing', async () => {
    let lockDir = '';
    bench = await startBench(
      (c) => {
        lockDir = join(c.daemon.lockDir, 'not-yet');
        return { ...c, daemon: { ...c.daemon, lockDir } };
      },
      { waitReady: false },
    );
    const failed = await bench.tap.waitFor((e) => e.event === 'lock-failed', 5_000);
    expect(String(failed.err)).toContain('not-yet');
    mkdirSync(lockDir);
    await bench.tap.waitFor((e) => e.event === 'line-ready', 10_000);
  });

  it('leaves a line alone while another program holds its lock, and takes it after', async () => {
    bench = await startBench();
    const b = bench;
    // Another program (minicom, say) takes the line while callbackd waits for calls.
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    writeFileSync(lockFile(b), `${String(other.pid).padStart(10)}\n`);
    const port = await b.openCaller();
    await port.write(`ATDT${SERVER}\r`);
    const ignored = await b.tap.waitFor((e) => e.event === 'call-ignored', 10_000);
    expect(ignored.heldBy).toBe(other.pid);
    expect(readdirSync(join(b.dir, 'lock'))).toEqual([`LCK..modem${SERVER}`]);
    // Not answered, and the tty was closed: nothing of the other program's session is read.
    expect(
      b.exchange.events.some((e) => e.type === 'command' && e.modem === SERVER && e.line === 'ATA'),
    ).toBe(false);
    await b.exchange.waitFor((e) => e.type === 'close' && e.modem === SERVER, 5_000);
    await b.exchange.waitFor(
      (e) => e.type === 'result' && e.modem === CALLER && /NO /.test(String(e.text)),
      15_000,
    );
    other.kill();
    await new Promise((r) => other.on('exit', r));
    // The lock is stale now: callbackd reopens the line, and the next call is answered.
    await b.tap.waitForCount((e) => e.event === 'line-ready', 2, 10_000);
    await dialIn(port);
  });
});

describe('device trouble', () => {
  it('a modem unplugged mid-call ends the call; the line waits for it and comes back', async () => {
    bench = await startBench();
    const b = bench;
    const port = await b.openCaller();
    await dialIn(port);
    await b.exchange.unplug(SERVER);
    await port.expect('NO CARRIER', 5_000);
    expect(await b.callEnd()).toMatchObject({ outcome: 'carrier-lost' });
    await b.tap.waitFor((e) => e.event === 'device-gone', 5_000);
    // Missing for a while: the line retries with backoff and nothing else is affected.
    await b.tap.waitFor((e) => e.event === 'line-open-failed' && e.code === 'DEVICE_MISSING', 10_000);
    await b.exchange.addModem({ number: SERVER, callerId: true, link: b.config.lines[0]!.device });
    await b.tap.waitForCount((e) => e.event === 'line-ready', 2, 10_000);
    await dialIn(port);
  });
});

describe('nologin file', () => {
  it('a line with a nologin file counts RINGs but does not answer, and answers once it is gone', async () => {
    bench = await startBench((c) => ({ ...c, daemon: { ...c.daemon, nologinDir: c.daemon.stateDir } }));
    const b = bench;
    const file = join(b.dir, 'nologin.ttyS1');
    writeFileSync(file, 'maintenance\n');
    const port = await b.openCaller();
    await port.write(`ATDT${SERVER}\r`);
    await b.tap.waitForCount((e) => e.event === 'ring-ignored', 2, 5_000);
    expect(
      b.exchange.events.some((e) => e.type === 'command' && e.modem === SERVER && e.line === 'ATA'),
    ).toBe(false);
    rmSync(file);
    await port.expect('login: ', 10_000);
  });
});

describe('modem trouble', () => {
  it('a modem that answers ERROR to its init is retried, and used once it stops', async () => {
    bench = await startBench((c) => c, { waitReady: false, serverFaults: { errorOn: /&D3/ } });
    const failed = await bench.tap.waitFor((e) => e.event === 'line-open-failed', 10_000);
    expect(failed.code).toBe('MODEM_ERROR');
    bench.server.setFaults({ errorOn: undefined });
    await bench.tap.waitFor((e) => e.event === 'line-ready', 10_000);
    const port = await bench.openCaller();
    await dialIn(port);
  });
});

describe('idle health check', () => {
  it('takes a line down when the modem stops answering AT, and brings it back', async () => {
    bench = await startBench((c) => ({
      ...c,
      lines: c.lines.map((l) => ({ ...l, timing: { ...l.timing, healthCheckMs: 200, commandMs: 300 } })),
    }));
    const b = bench;
    await b.exchange.waitFor((e) => e.type === 'command' && e.modem === SERVER && e.line === 'AT', 5_000);
    b.server.setFaults({ silent: true });
    await b.tap.waitFor((e) => e.event === 'health-check-failed', 5_000);
    await b.tap.waitFor((e) => e.event === 'line-open-failed', 10_000);
    b.server.setFaults({ silent: false });
    await b.tap.waitForCount((e) => e.event === 'line-ready', 2, 10_000);
    const port = await b.openCaller();
    await dialIn(port);
  });
});
