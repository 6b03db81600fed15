import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogTap } from '../../src/log-tap.js';
import { CallerPort } from '../../src/sim/caller.js';
import { CLI, PPP_PASSWORD, startCliDaemon, type CliDaemon } from '../helpers/cli-daemon.js';

// The control socket against the built daemon on a `callbackd sim` exchange, driven by
// the CLI commands an operator types: status, line disable/enable, test-call, reload.

const run = promisify(execFile);
let d: CliDaemon;
let dir: string;
let socket: string;
let configFile: string;
let tap: LogTap;

const cli = (...args: string[]) =>
  run(process.execPath, [CLI, ...args, '--socket', socket]).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
const status = async () => {
  const r = await cli('status', '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as {
    pid: number;
    configHash: string;
    lastReload?: { ok: boolean; problems?: string[] };
    lines: { name: string; state: string; nologin: boolean; disabled: boolean }[];
  };
};
const sha256 = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

beforeAll(async () => {
  d = await startCliDaemon();
  ({ dir, configFile, tap } = d);
  socket = join(dir, 'control');
}, 60_000);

afterAll(async () => {
  await d?.close();
});

describe('the control socket', () => {
  it('is a root-only socket; status names the running config by its sha256', async () => {
    expect(statSync(socket).isSocket()).toBe(true);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    const st = await status();
    expect(st.pid).toBe(d.daemon.pid);
    expect(st.configHash).toBe(sha256(configFile));
    expect(st.lines).toMatchObject([{ name: 'ttyS1', state: 'idle', nologin: false, disabled: false }]);
    const text = await cli('status');
    expect(text.stdout).toContain(`sha256 ${sha256(configFile)}`);
  });

  it('status shows a nologin file', async () => {
    writeFileSync(join(dir, 'nologin.ttyS1'), '');
    try {
      expect((await status()).lines[0]).toMatchObject({ nologin: true });
      expect((await cli('status')).stdout).toMatch(/ttyS1 .* idle \(nologin\)/);
    } finally {
      rmSync(join(dir, 'nologin.ttyS1'));
    }
  });

  it('line disable: RINGs are not answered until line enable', async () => {
    expect((await cli('line', 'disable', 'ttyS1')).code).toBe(0);
    expect((await status()).lines[0]).toMatchObject({ disabled: true });
    const port = await CallerPort.open(d.callerTty);
    try {
      await port.write('ATE0\r');
      await port.expect('OK', 5_000);
      await port.write('ATDT5376443\r');
      await tap.waitFor((e) => e.event === 'ring-ignored', 15_000, 'ring-ignored');
      await port.write('\r'); // any key abandons the dial
      await port.expect('NO CARRIER', 10_000);
    } finally {
      await port.close();
    }
    expect(tap.events.some((e) => e.event === 'connect')).toBe(false);
    expect((await cli('line', 'enable', 'ttyS1')).code).toBe(0);
    expect((await status()).lines[0]).toMatchObject({ disabled: false });
    const unknown = await cli('line', 'disable', 'ttyS9');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no line named "ttyS9"');
  });

  it("test-call dials the entry's number now and the call is accounted", async () => {
    const port = await CallerPort.open(d.callerTty);
    try {
      const r = await cli('test-call', 'call', '--line', 'ttyS1');
      expect(r.code, r.stderr).toBe(0);
      const callId = /call (\S+)/.exec(r.stdout)![1]!;
      await port.expect('RING', 15_000);
      await port.write('ATA\r');
      await port.expect('CONNECT', 15_000);
      await port.expect('login: ', 15_000);
      await port.write('pppuser\r');
      await port.expect('Password: ', 5_000);
      await port.write(`${PPP_PASSWORD}\r`);
      await port.sendUntilAnswered('hello\n', ' hello\n');
      await port.write('BYE\n');
      const end = await tap.waitFor((e) => e.event === 'call-end' && e.callId === callId, 30_000, 'call-end');
      expect(end).toMatchObject({
        line: 'ttyS1',
        callbackNumber: '123456',
        dialAttempts: 1,
        outcome: 'ppp-ok',
      });
      const records = readFileSync(join(dir, 'accounting.jsonl'), 'utf8').trim().split('\n');
      expect(records.filter((l) => l.includes(callId))).toHaveLength(1);
    } finally {
      await port.close();
    }
    const missing = await cli('test-call', 'nobody');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no call-back entry named "nobody"');
  });

  it('reload: a broken file is refused with its problems and exit 1; a good one applied', async () => {
    writeFileSync(configFile, '[daemon]\nlock_dir = "relative"\n');
    const bad = await cli('reload');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/callbackd\.toml:2: daemon\.lock_dir/);
    const st = await status();
    expect(st.lastReload).toMatchObject({ ok: false });
    expect(st.configHash).not.toBe(sha256(configFile)); // still the old one
    expect((await cli('status')).stdout).toMatch(/last reload: .* REJECTED/);

    writeFileSync(configFile, d.config.replace('hostname = "demo"', 'hostname = "demo2"'));
    const good = await cli('reload');
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain(sha256(configFile));
    expect((await status()).configHash).toBe(sha256(configFile));
  });

  it('reload exits 3 when no daemon answers', async () => {
    const r = await run(process.execPath, [CLI, 'reload', '--socket', join(dir, 'nothing')]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((r as { code: number }).code).toBe(3);
  });
});
