import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  isPidAlive,
  readStatus,
  StatusFile,
  type LineStatus,
  type StatusSnapshot,
} from '../../src/daemon/status.js';
import { age, EXIT_NOT_RUNNING, formatStatus, runStatus } from '../../src/daemon/status-command.js';
import { silentLogger } from '../../src/log.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'status-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function clock(start = Date.parse('2024-05-01T10:00:00.000Z')) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms) };
}

function readFile(): StatusSnapshot {
  return JSON.parse(readFileSync(path.join(dir, 'state', 'status.json'), 'utf8')) as StatusSnapshot;
}

function line(name: string, state: string, since: string, extra: Partial<LineStatus> = {}): LineStatus {
  return { name, device: `/dev/${name}`, state, since, ...extra };
}

describe('StatusFile', () => {
  it('writes pid, start time, config source and every line', async () => {
    const c = clock();
    const f = new StatusFile(path.join(dir, 'state'), {
      configSource: '/etc/callbackd/callbackd.toml',
      log: silentLogger(),
      pid: 1234,
      now: c.now,
    });
    c.advance(5_000);
    const l1 = line('ttyS1', 'login', '2024-05-01T10:00:05.000Z', {
      callId: 'c1',
      callerId: '5551234',
      lastError: undefined,
    });
    await f.update([l1, line('ttyS2', 'idle', '2024-05-01T10:00:01.000Z')]);
    const s = readFile();
    expect(s.pid).toBe(1234);
    expect(s.startedAt).toBe('2024-05-01T10:00:00.000Z');
    expect(s.updatedAt).toBe('2024-05-01T10:00:05.000Z');
    expect(s.configSource).toBe('/etc/callbackd/callbackd.toml');
    expect(s.lines).toEqual([
      {
        name: 'ttyS1',
        device: '/dev/ttyS1',
        state: 'login',
        since: '2024-05-01T10:00:05.000Z',
        callId: 'c1',
        callerId: '5551234',
      },
      { name: 'ttyS2', device: '/dev/ttyS2', state: 'idle', since: '2024-05-01T10:00:01.000Z' },
    ]);
    expect(f.current()).toEqual(s);

    // The caller keeps mutating its own objects; the file changes only on update().
    l1.state = 'ppp';
    await f.setConfigSource('/tmp/other.toml');
    expect(readFile().lines[0]?.state).toBe('login');
    expect(readFile().configSource).toBe('/tmp/other.toml');
  });

  it('coalesces a burst of updates and ends with the latest state; leaves no temp files', async () => {
    const f = new StatusFile(path.join(dir, 'state'), { configSource: 'x', log: silentLogger() });
    const states = [
      'idle',
      'answering',
      'settling',
      'login',
      'verifying',
      'announcing',
      'dropping',
      'callback-wait',
    ];
    await Promise.all(states.map((state) => f.update([line('ttyS2', state, 'now')])));
    expect(readFile().lines[0]?.state).toBe('callback-wait');
    expect(readdirSync(path.join(dir, 'state'))).toEqual(['status.json']);
  });

  it('never writes through a symlink planted at its temp name or its file', async () => {
    const state = path.join(dir, 'state');
    mkdirSync(state, { mode: 0o700 });
    const victim = path.join(dir, 'victim');
    writeFileSync(victim, 'untouched');
    // The old code wrote to status.json.<pid>.tmp: a name anyone could predict.
    symlinkSync(victim, path.join(state, `status.json.${process.pid}.tmp`));
    symlinkSync(victim, path.join(state, 'status.json'));
    const f = new StatusFile(state, { configSource: '/etc/c.toml', log: silentLogger() });
    await f.update([line('ttyS1', 'idle', '2024-05-01T10:00:00.000Z')]);
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(lstatSync(path.join(state, 'status.json')).isSymbolicLink()).toBe(false);
    expect(readFile().lines).toHaveLength(1);
  });

  it('refuses a state directory others can write', async () => {
    const state = path.join(dir, 'state');
    mkdirSync(state);
    chmodSync(state, 0o777);
    const f = new StatusFile(state, { configSource: '/etc/c.toml', log: silentLogger() });
    await f.update([]);
    expect(existsSync(path.join(state, 'status.json'))).toBe(false);
  });

  it('survives an unwritable state dir, and removes its file at shutdown', async () => {
    writeFileSync(path.join(dir, 'blocker'), '');
    const bad = new StatusFile(path.join(dir, 'blocker', 'state'), {
      configSource: 'x',
      log: silentLogger(),
    });
    await expect(bad.update([line('ttyS1', 'idle', 'now')])).resolves.toBeUndefined();
    await expect(bad.remove()).resolves.toBeUndefined();

    const f = new StatusFile(path.join(dir, 'state'), { configSource: 'x', log: silentLogger() });
    await f.flush();
    expect(existsSync(f.file)).toBe(true);
    await f.remove();
    expect(existsSync(f.file)).toBe(false);
  });
});

describe('callbackd status', () => {
  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, deps: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
  }

  it('exits 3 when the file is missing, damaged, or its pid is gone', async () => {
    const c = capture();
    expect(await runStatus(dir, false, c.deps)).toBe(EXIT_NOT_RUNNING);
    expect(c.err.join('')).toMatch(/not running \(no .*status\.json\)/);

    writeFileSync(path.join(dir, 'status.json'), '{"pid":');
    expect(await runStatus(dir, false, c.deps)).toBe(EXIT_NOT_RUNNING);
    expect(c.err.join('')).toMatch(/unreadable: not JSON/);

    // A pid that surely exited: a child we started and waited for.
    const child = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => child.once('exit', r));
    const f = new StatusFile(dir, { configSource: 'x', log: silentLogger(), pid: child.pid! });
    await f.flush();
    expect(await runStatus(dir, false, c.deps)).toBe(EXIT_NOT_RUNNING);
    expect(c.err.join('')).toMatch(new RegExp(`pid ${child.pid} .* is gone`));
  });

  it('prints a table for a live daemon and exits 0', async () => {
    const c = clock();
    const f = new StatusFile(dir, {
      configSource: '/etc/cb.toml',
      log: silentLogger(),
      pid: process.pid,
      now: c.now,
    });
    const at = c.now().toISOString();
    await f.update([
      line('ttyS1', 'idle', at),
      line('ttyS2', 'dialing', at, { callId: 'c42', callerId: '555\x1b[2J', lastError: 'BUSY' }),
    ]);
    const cap = capture();
    expect(
      await runStatus(dir, false, { ...cap.deps, now: () => new Date(c.now().getTime() + 125_000) }),
    ).toBe(0);
    const text = cap.out.join('');
    expect(text).toContain(`callbackd running, pid ${process.pid}, up 2m5s`);
    expect(text).toContain('config: /etc/cb.toml');
    const rows = text.split('\n').filter((l) => l.startsWith('tty') || l.startsWith('LINE'));
    expect(rows[0]).toMatch(/^LINE\s+DEVICE\s+STATE\s+FOR\s+CALL\s+CALLER\s+LAST ERROR$/);
    expect(rows[1]).toMatch(/^ttyS1\s+\/dev\/ttyS1\s+idle\s+2m5s\s+-\s+-\s+-$/);
    expect(rows[2]).toMatch(/^ttyS2\s+\/dev\/ttyS2\s+dialing\s+2m5s\s+c42\s+555\?\[2J\s+BUSY$/);
    expect(text).not.toContain('\x1b');

    const json = capture();
    expect(await runStatus(dir, true, json.deps)).toBe(0);
    expect((JSON.parse(json.out.join('')) as StatusSnapshot).lines[1]?.callId).toBe('c42');
  });

  it('formats ages and an empty line list', () => {
    const now = new Date('2024-05-02T12:00:00Z');
    expect(age('2024-05-02T11:59:59Z', now)).toBe('1s');
    expect(age('2024-05-02T10:58:00Z', now)).toBe('1h2m');
    expect(age('2024-04-30T10:00:00Z', now)).toBe('2d2h');
    expect(age('garbage', now)).toBe('?');
    const s: StatusSnapshot = {
      pid: 1,
      startedAt: now.toISOString(),
      configSource: 'c',
      updatedAt: '',
      lines: [],
    };
    expect(formatStatus(s, now)).toContain('no lines configured');
  });

  it('reads a status file written by hand that lacks fields as invalid', async () => {
    writeFileSync(
      path.join(dir, 'status.json'),
      JSON.stringify({ pid: 1, startedAt: 'x', lines: [{ name: 'a' }] }),
    );
    expect(await readStatus(dir)).toEqual({ kind: 'invalid', reason: 'a line lacks name, state or since' });
    expect(isPidAlive(process.pid)).toBe(true);
    expect(isPidAlive(0)).toBe(false);
    expect(isPidAlive(-5)).toBe(false);
  });
});

describe('StatusFile write coalescing', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes a burst of changes once, after the debounce, with the latest state', async () => {
    vi.useFakeTimers();
    const f = new StatusFile(path.join(dir, 'state'), {
      configSource: 'x',
      log: silentLogger(),
      debounceMs: 200,
    });
    const writes: Promise<void>[] = [];
    for (const state of ['answering', 'settling', 'login', 'verifying', 'ppp'])
      writes.push(f.update([line('ttyS1', state, 'now')]));
    await vi.advanceTimersByTimeAsync(199);
    expect(existsSync(f.file)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all(writes);
    expect(readFile().lines[0]?.state).toBe('ppp');
    // The next change waits for its own debounce; the file keeps the last write until then.
    const idle = f.update([line('ttyS1', 'idle', 'now')]);
    await vi.advanceTimersByTimeAsync(100);
    expect(readFile().lines[0]?.state).toBe('ppp');
    await vi.advanceTimersByTimeAsync(100);
    // The write itself runs off the event loop: the update resolves once the file holds it.
    await idle;
    expect(readFile().lines[0]?.state).toBe('idle');
  });

  it('writes one after the other: the file ends with the latest state, and remove() waits for a write on its way', async () => {
    const f = new StatusFile(path.join(dir, 'state'), {
      configSource: 'x',
      log: silentLogger(),
      debounceMs: 10_000,
    });
    const writes: Promise<void>[] = [];
    for (const state of ['answering', 'login', 'verifying', 'ppp', 'idle']) {
      void f.update([line('ttyS1', state, 'now')]);
      writes.push(f.flush());
    }
    await Promise.all(writes);
    expect(readFile().lines[0]?.state).toBe('idle');
    expect(readdirSync(path.join(dir, 'state'))).toEqual(['status.json']);
    // A write started and not awaited, then remove(): no file afterwards.
    void f.update([line('ttyS1', 'dialing', 'now')]);
    void f.flush();
    await f.remove();
    expect(existsSync(f.file)).toBe(false);
    expect(readdirSync(path.join(dir, 'state'))).toEqual([]);
  });

  it('flush writes what is pending at once, and nothing is left for the timer', async () => {
    vi.useFakeTimers();
    const f = new StatusFile(path.join(dir, 'state'), {
      configSource: 'x',
      log: silentLogger(),
      debounceMs: 10_000,
    });
    void f.update([line('ttyS1', 'dialing', 'now')]);
    await f.flush();
    expect(readFile().lines[0]?.state).toBe('dialing');
    expect(vi.getTimerCount()).toBe(0);
  });
});
