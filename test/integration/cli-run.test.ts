import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogTap } from '../../src/log-tap.js';
import { CLI, simDemoConfig, startSim } from '../helpers/cli-daemon.js';

// The built program as systemd runs it: `callbackd run` in its own process, on lines
// of a `callbackd sim` exchange in another, driven by real signals. npm test builds
// dist/ first.

const run = promisify(execFile);
let dir: string;
let sim: ChildProcess;
let daemon: ChildProcess;
const tap = new LogTap();
let exitCode: Promise<number | null>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'callbackd-cli-'));
  sim = await startSim(dir);
  writeFileSync(
    join(dir, 'callbackd.toml'),
    simDemoConfig(
      dir,
      'scrypt$16384$8$1$prTiTSzmkTUQcOCVAlFOIg==$rGhrZBikqVMuOAV2uFu17IPHXn1rRoLfKVwabzQ5wow=',
    ),
  );
  daemon = spawn(process.execPath, [CLI, 'run', '--config', join(dir, 'callbackd.toml')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  daemon.stdout!.pipe(tap.stream);
  exitCode = new Promise((resolve) => daemon.on('exit', (code) => resolve(code)));
  await tap.waitFor((e) => e.event === 'line-ready', 15_000, 'line-ready');
});

afterAll(async () => {
  daemon?.kill('SIGKILL');
  sim?.kill('SIGTERM');
  await new Promise((r) => (sim.exitCode !== null ? r(null) : sim.on('exit', r)));
  rmSync(dir, { recursive: true, force: true });
});

describe('callbackd run', () => {
  it('reports its lines to `callbackd status`', async () => {
    // `started` (READY=1) comes after the lines' first init and the status file's write.
    await tap.waitFor((e) => e.event === 'started', 15_000);
    const { stdout } = await run(process.execPath, [CLI, 'status', '--state-dir', dir, '--json']);
    const status = JSON.parse(stdout) as { pid: number; lines: { name: string; state: string }[] };
    expect(status.pid).toBe(daemon.pid);
    expect(status.lines).toMatchObject([{ name: 'ttyS1', state: 'idle' }]);
  });

  it('keeps running on SIGHUP with a config that fails validation, and logs why', async () => {
    writeFileSync(join(dir, 'callbackd.toml'), '[daemon]\nlock_dir = "relative"\n');
    daemon.kill('SIGHUP');
    const rejected = await tap.waitFor((e) => e.event === 'reload-rejected', 5_000);
    expect(String(rejected.err)).toMatch(/callbackd\.toml:2: daemon\.lock_dir/);
    expect(daemon.exitCode).toBeNull();
  });

  it('stops on SIGTERM: exit 0, no lock, no status file', async () => {
    daemon.kill('SIGTERM');
    expect(await exitCode).toBe(0);
    expect(tap.events.some((e) => e.event === 'stopped')).toBe(true);
    expect(readdirSync(dir).filter((f) => f.startsWith('LCK..'))).toEqual([]);
    expect(existsSync(join(dir, 'status.json'))).toBe(false);
    await expect(run(process.execPath, [CLI, 'status', '--state-dir', dir])).rejects.toMatchObject({
      code: 3,
    });
  });
});

describe('callbackd demo (the README command)', () => {
  it.each(['auto', 'builtin'])(
    'goes through the whole call-back with --chat %s and exits 0',
    async (chat) => {
      // On a failure, the demo's own transcript says which step did not come.
      const { stdout } = await run(process.execPath, [CLI, 'demo', '--ring-ms', '200', '--chat', chat], {
        timeout: 60_000,
      }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(
          `${e.message}\n${String(e.stdout ?? '').slice(-3_000)}\n${String(e.stderr ?? '').slice(-1_000)}`,
        );
      });
      expect(stdout).toContain('callback-accepted');
      expect(stdout).toContain('ATDT123456');
      expect(stdout).toMatch(/accounting record: .*"callbackNumber":"123456"/);
      expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/demo passed: called back 123456/);
    },
  );
});
