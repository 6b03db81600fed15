import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Accounting, recordOf, type AccountingRecord } from '../../src/daemon/accounting.js';
import { createLogger, silentLogger } from '../../src/log.js';

function record(n: number, extra: Partial<AccountingRecord> = {}): AccountingRecord {
  return {
    callId: `call-${n}`,
    line: 'ttyS1',
    startedAt: '2024-05-01T10:00:00.000Z',
    endedAt: '2024-05-01T10:05:00.000Z',
    durationMs: 300_000,
    kind: 'callback',
    callbackNumber: '0123456789',
    dialAttempts: 1,
    login: ['call', 'pppuser'],
    pppUser: 'pppuser',
    pppExitCode: 16,
    outcome: 'ppp-hangup',
    terminateCause: 'Lost-Carrier',
    ...extra,
  };
}

function readLines(file: string): AccountingRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AccountingRecord);
}

function captureLogger(): { log: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ level: 'info', destination });
  return {
    log,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'acct-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('Accounting', () => {
  it('creates the directory 0750 and appends one JSON line per record', async () => {
    const file = path.join(dir, 'sub', 'dir', 'accounting.jsonl');
    const acct = new Accounting(file, silentLogger());
    await acct.write(record(1));
    await acct.write(record(2, { kind: 'refused', outcome: 'login-refused', terminateCause: 'User-Error' }));
    const recs = readLines(file);
    expect(recs.map((r) => r.callId)).toEqual(['call-1', 'call-2']);
    expect(recs[1]?.kind).toBe('refused');
    expect(recs[0]).toEqual(record(1));
    expect(statSync(path.join(dir, 'sub')).mode & 0o777).toBe(0o750);
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });

  it('keeps lines whole and in order when many calls end at once', async () => {
    const file = path.join(dir, 'acct.jsonl');
    const acct = new Accounting(file, silentLogger());
    await Promise.all(Array.from({ length: 50 }, (_, i) => acct.write(record(i))));
    expect(readLines(file).map((r) => r.callId)).toEqual(Array.from({ length: 50 }, (_, i) => `call-${i}`));
  });

  it('appends to an existing file rather than replacing it', async () => {
    const file = path.join(dir, 'acct.jsonl');
    writeFileSync(file, JSON.stringify(record(0)) + '\n');
    await new Accounting(file, silentLogger()).write(record(1));
    expect(readLines(file).map((r) => r.callId)).toEqual(['call-0', 'call-1']);
  });

  it('never throws on a write error, logs once, and retries the record with the next write', async () => {
    // A file where the directory should be: fails even for root, unlike chmod.
    const blocker = path.join(dir, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const file = path.join(blocker, 'acct.jsonl'); // parent is a file: mkdir fails with ENOTDIR/EEXIST
    const { log, lines } = captureLogger();
    const acct = new Accounting(file, log);
    await expect(acct.write(record(1))).resolves.toBeUndefined();
    await expect(acct.write(record(2))).resolves.toBeUndefined();
    expect(acct.pendingCount).toBe(2);
    const errors = lines().filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toMatch(/cannot write accounting record/);

    // The path becomes usable: the next write flushes the backlog first, in order.
    rmSync(blocker);
    await acct.write(record(3));
    expect(readLines(file).map((r) => r.callId)).toEqual(['call-1', 'call-2', 'call-3']);
    expect(acct.pendingCount).toBe(0);
    expect(lines().some((l) => l.msg === 'accounting file writable again')).toBe(true);
  });

  it('bounds the retry queue, dropping the oldest records', async () => {
    const blocker = path.join(dir, 'blocker');
    writeFileSync(blocker, 'x');
    const file = path.join(blocker, 'acct.jsonl');
    const { log, lines } = captureLogger();
    const acct = new Accounting(file, log, { maxPending: 3 });
    for (let i = 1; i <= 5; i++) await acct.write(record(i));
    expect(acct.pendingCount).toBe(3);
    rmSync(blocker);
    await acct.write(record(6));
    expect(readLines(file).map((r) => r.callId)).toEqual(['call-4', 'call-5', 'call-6']);
    expect(lines().find((l) => l.msg === 'accounting file writable again')?.dropped).toBe(3);
  });

  it('rejects a nonsensical queue bound', () => {
    expect(() => new Accounting('/x', silentLogger(), { maxPending: 0 })).toThrow(/maxPending/);
  });

  it('makes the record from the typed end of the call, with its kind', () => {
    const call = {
      callId: 'c',
      startedAt: 0,
      logins: ['call'],
      callback: { entry: 'call', number: '1', attempts: 3 },
    };
    const base = { call, line: 'ttyS1', endedAt: 1_000 };
    const failed = recordOf({ ...base, outcome: 'callback-failed-busy', terminateCause: 'Callback' });
    expect(failed).toMatchObject({
      kind: 'failed',
      terminateCause: 'Callback',
      durationMs: 1_000,
      dialAttempts: 3,
    });
    const ppp = recordOf({
      ...base,
      call: { ...call, pppUser: 'pppuser' },
      outcome: 'ppp-ok',
      terminateCause: 'User-Request',
      pppExitCode: 0,
      traffic: { bytesIn: 10, bytesOut: 20 },
    });
    expect(ppp).toMatchObject({ kind: 'callback', bytesIn: 10, bytesOut: 20, pppExitCode: 0 });
    const refused = recordOf({
      ...base,
      call: { ...call, callback: undefined },
      outcome: 'login-refused',
      terminateCause: 'User-Error',
    });
    expect(refused.kind).toBe('refused');
  });
});
