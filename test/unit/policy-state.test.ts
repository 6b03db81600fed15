import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SharedPolicyState } from '../../src/daemon/policy-state.js';
import { createLogger, silentLogger, type Logger } from '../../src/log.js';
import { testConfig } from '../helpers/config.js';

const security = {
  ...testConfig().security,
  lockout: { maxFailures: 2, windowMs: 60_000, lockMs: 600_000 },
  rateLimit: { perEntry: 1, perNumber: 5, total: 10, windowMs: 3_600_000 },
};
let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'callbackd-limits-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('SharedPolicyState', () => {
  it('keeps lockouts and call-back counts across a restart', () => {
    const first = new SharedPolicyState(security, dir, silentLogger());
    first.failure(['cid:5551234'], 1_000);
    first.failure(['cid:5551234'], 2_000);
    first.record('call', '123456', 3_000);
    expect(first.isLocked(['cid:5551234'], 3_000)).toBe(true);

    const again = new SharedPolicyState(security, dir, silentLogger());
    expect(again.isLocked(['cid:5551234'], 4_000)).toBe(true);
    expect(again.rateCheck('call', '123456', 4_000).ok).toBe(false);
    expect(again.isLocked(['cid:5551234'], 2_000 + 600_001)).toBe(false);
  });

  it('a right secret writes the file only when it clears something', () => {
    const state = new SharedPolicyState(security, dir, silentLogger());
    const file = join(dir, 'limits.json');
    state.success(['name:pppuser', 'cid:5551234']);
    expect(existsSync(file)).toBe(false);
    state.failure(['name:pppuser', 'cid:5551234'], 1_000);
    const afterFailure = readFileSync(file, 'utf8');
    state.success(['name:pppuser', 'cid:5551234']);
    const afterSuccess = readFileSync(file, 'utf8');
    expect(afterSuccess).not.toBe(afterFailure);
    // Nothing left to clear: the file stays as it is (not rewritten, no .prev rotation).
    rmSync(join(dir, 'limits.json.prev'), { force: true });
    state.success(['name:pppuser', 'cid:5551234']);
    expect(existsSync(join(dir, 'limits.json.prev'))).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe(afterSuccess);
  });

  it('a damaged file with no good copy fails closed for call-backs, logged at error with how to clear it', () => {
    writeFileSync(join(dir, 'limits.json'), '{"lockouts": [[1, 2, 3]], "rates": "nonsense"');
    const log = capture();
    const state = new SharedPolicyState(security, dir, log.logger);
    const refused = state.rateCheck('call', '123456', 0);
    expect(refused.ok).toBe(false);
    expect(refused.ok ? '' : refused.reason).toMatch(/limits\.json/);
    const err = log.lines.find((l) => l.event === 'limits-damaged');
    expect(err?.level).toBe(50);
    expect(String(err?.clear)).toContain(join(dir, 'limits.json'));
    // Nothing counted meanwhile overwrites the evidence.
    state.failure(['cid:1'], 0);
    expect(readFileSync(join(dir, 'limits.json'), 'utf8')).toContain('nonsense');
    // The operator clears it as the log says: counting starts again, from the operator's decision.
    rmSync(join(dir, 'limits.json'), { force: true });
    rmSync(join(dir, 'limits.json.prev'), { force: true });
    expect(state.rateCheck('call', '123456', 0).ok).toBe(true);
    expect(log.lines.some((l) => l.event === 'limits-cleared')).toBe(true);
  });

  it('a damaged file is replaced by the last good copy, never by zero', () => {
    const first = new SharedPolicyState(security, dir, silentLogger());
    first.record('call', '123456', 1_000); // perEntry is 1: the entry is used up
    first.failure(['cid:9'], 1_000); // a second save: limits.json.prev now holds the call-back
    writeFileSync(join(dir, 'limits.json'), '{"lockouts": tor');
    const log = capture();
    const again = new SharedPolicyState(security, dir, log.logger);
    expect(again.rateCheck('call', '123456', 2_000).ok).toBe(false);
    expect(log.lines.find((l) => l.event === 'limits-restored')?.level).toBe(50);
    expect(readFileSync(join(dir, 'limits.json.bad'), 'utf8')).toContain('tor');
  });

  it('never writes through a symlink, and refuses a directory others can write', () => {
    const elsewhere = join(dir, 'elsewhere');
    writeFileSync(elsewhere, 'untouched');
    const state = join(dir, 'state');
    mkdirSync(state, { mode: 0o700 });
    const s = new SharedPolicyState(security, state, silentLogger());
    symlinkSync(elsewhere, join(state, 'limits.json'));
    s.record('call', '1', 0);
    expect(readFileSync(elsewhere, 'utf8')).toBe('untouched');
    expect(lstatSync(join(state, 'limits.json')).isSymbolicLink()).toBe(false);
    // A symlink found at start is not read through either: it counts as damaged.
    rmSync(join(state, 'limits.json.prev'), { force: true });
    rmSync(join(state, 'limits.json'));
    symlinkSync(elsewhere, join(state, 'limits.json'));
    expect(new SharedPolicyState(security, state, silentLogger()).rateCheck('call', '2', 0).ok).toBe(false);

    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const log = capture();
    new SharedPolicyState(security, open, log.logger).record('call', '1', 0);
    expect(existsSync(join(open, 'limits.json'))).toBe(false);
    expect(
      log.lines.some((l) => l.event === 'limits-not-saved' && /others can write/.test(String(l.err))),
    ).toBe(true);
  });
});

function capture(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: createLogger({ level: 'debug', destination: stream }), lines };
}
