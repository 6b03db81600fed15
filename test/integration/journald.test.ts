import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogTap } from '../../src/log-tap.js';
import { hashSecret } from '../../src/policy/index.js';
import { Terminal } from '../../src/sim/terminal.js';
import { CLI, simDemoConfig, startSim } from '../helpers/cli-daemon.js';
import { Journald } from '../helpers/journald.js';

// The built daemon with its stdout connected to a real systemd-journald, as systemd
// runs it: JOURNAL_STREAM names that stream, so the daemon writes `<N>` priority
// prefixes and `journalctl -p warning` selects by what happened. The scenario: a wrong
// password (a notice), the HOWTO's call-back, the PPP user's login, a pppd that cannot work (the stand-in exits 4, as
// pppd does on a kernel without PPP: an error), and a reload with a broken file (an
// error). Exactly those two errors, and nothing else, are at warning or above.

const PASSWORD = 'password_for_pppuser';
const ID = 'callbackd-test';

let dir: string;
let journald: Journald;
let sim: ChildProcess;
let daemon: ChildProcess;
let follow: ChildProcess;
const tap = new LogTap();

/** The JSON part of a stored message: everything from its first brace. */
function fields(message: string): Record<string, unknown> {
  return JSON.parse(message.slice(message.indexOf('{'))) as Record<string, unknown>;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'callbackd-journal-'));
  journald = await Journald.start();
  sim = await startSim(dir);
  writeFileSync(
    join(dir, 'callbackd.toml'),
    simDemoConfig(dir, await hashSecret(PASSWORD)),
    // As an operator keeps a file with hashes: else the daemon warns about it (rightly).
    { mode: 0o600 },
  );
  // What journalctl shows is what the test waits on.
  follow = journald.follow(ID);
  follow.stdout!.pipe(tap.stream);
  const stream = await journald.connectStream(ID);
  daemon = spawn(
    process.execPath,
    [CLI, 'run', '--config', join(dir, 'callbackd.toml'), '--log-level', 'debug'],
    {
      stdio: ['ignore', stream, 'inherit'],
      env: { ...process.env, JOURNAL_STREAM: stream.journalStream },
    },
  );
  stream.destroy(); // the daemon has its own copy
  await tap.waitFor((e) => e.event === 'line-ready', 20_000, 'line-ready');
});

afterAll(async () => {
  daemon?.kill('SIGKILL');
  follow?.kill('SIGTERM');
  sim?.kill('SIGTERM');
  if (sim) await new Promise((r) => (sim.exitCode !== null ? r(null) : sim.on('exit', r)));
  await journald?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('logs in the journal', () => {
  it("stores each line at the priority of what happened; -p warning is the scenario's errors", async () => {
    const port = await Terminal.open(join(dir, 'modem123456'), { hupcl: false });
    try {
      await port.write('ATE0\r');
      await port.expect('OK', 5_000);
      await port.write('ATDT5376443\r');
      await port.expect('CONNECT', 15_000);
      await port.expect('login: ', 15_000);
      await port.write('pppuser\r');
      await port.expect('Password: ', 5_000);
      await port.write('wrong-password\r');
      await port.expect('Login incorrect', 10_000);
      await port.expect('login: ', 5_000);
      await port.write('call\r');
      await port.expect('NO CARRIER', 15_000);
      await port.expect('RING', 20_000);
      await port.write('ATA\r');
      await port.expect('CONNECT', 15_000);
      await port.expect('login: ', 15_000);
      await port.write('pppuser\r');
      await port.expect('Password: ', 5_000);
      await port.write(`${PASSWORD}\r`);
      await port.sendUntilAnswered('hello\n', ' hello\n');
      await port.write('BYE 4\n'); // pppd's "no kernel PPP" exit
      await tap.waitFor((e) => e.event === 'call-end', 20_000, 'call-end');
    } catch (err) {
      // The daemon's log as journalctl showed it, for whoever reads the failure.
      throw new Error(`${(err as Error).message}\n${tap.events.map((e) => JSON.stringify(e)).join('\n')}`);
    } finally {
      await port.close();
    }
    writeFileSync(join(dir, 'callbackd.toml'), '[daemon]\nlock_dir = "relative"\n');
    daemon.kill('SIGHUP');
    await tap.waitFor((e) => e.event === 'reload-rejected', 10_000, 'reload-rejected');

    const warnings = await journald.entries(ID, 'warning');
    expect(warnings.map((w) => [w.PRIORITY, fields(w.MESSAGE!).event])).toEqual([
      ['3', 'ppp-exit'],
      ['3', 'reload-rejected'],
    ]);
    expect(fields(warnings[0]!.MESSAGE!)).toMatchObject({ outcome: 'ppp-no-kernel-ppp', code: 4 });
    // Readable text first: the event and the line.
    expect(warnings[0]!.MESSAGE).toMatch(/^ppp-exit \[ttyS1\] \{/);

    const all = await journald.entries(ID);
    const priorityOf = (event: string) =>
      all.filter((e) => fields(e.MESSAGE!).event === event).map((e) => e.PRIORITY);
    expect(priorityOf('login-refused')).toEqual(['5']);
    expect(priorityOf('call-end')).toEqual(['6']);
    expect(priorityOf('line-ready')).toContain('6');
    expect(priorityOf('state').every((p) => p === '7')).toBe(true);
    expect(priorityOf('state').length).toBeGreaterThan(3);
    // No message repeats a key (a child logger's `line` and the event's own).
    // A repeated key would be lost by parsing: the text written is the text re-serialised.
    for (const e of all) {
      const json = e.MESSAGE!.slice(e.MESSAGE!.indexOf('{'));
      expect(JSON.stringify(JSON.parse(json))).toBe(json);
    }
    // The secret was never stored, not even its wrong guess.
    expect(JSON.stringify(all)).not.toContain('wrong-password');
    expect(JSON.stringify(all)).not.toContain(PASSWORD);
  });
});
