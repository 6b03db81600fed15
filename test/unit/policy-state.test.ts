import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SharedPolicyState } from '../../src/daemon/policy-state.js';
import { silentLogger } from '../../src/log.js';
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

  it('starts afresh on a damaged file, and keeps the file aside', () => {
    writeFileSync(join(dir, 'limits.json'), '{"lockouts": [[1, 2, 3]], "rates": "nonsense"');
    const state = new SharedPolicyState(security, dir, silentLogger());
    expect(state.isLocked(['cid:1'], 0)).toBe(false);
    expect(readFileSync(join(dir, 'limits.json.bad'), 'utf8')).toContain('nonsense');
    state.failure(['cid:1'], 0);
    expect(existsSync(join(dir, 'limits.json'))).toBe(true);
  });
});
