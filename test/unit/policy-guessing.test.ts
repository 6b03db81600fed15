import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SharedPolicyState } from '../../src/daemon/policy-state.js';
import { silentLogger } from '../../src/log.js';
import { Lockouts } from '../../src/policy/limits.js';
import { testConfig } from '../helpers/config.js';

const MIN = 60_000;
const lockout = { maxFailures: 3, windowMs: 10 * MIN, lockMs: 30 * MIN, dailyMaxFailures: 9 };
const security = { ...testConfig().security, lockout };
let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'callbackd-guess-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('guessing (issue 8 item 10)', () => {
  it('each lock of a key lasts twice as long as the one before', () => {
    const l = new Lockouts(lockout);
    let now = 0;
    const lengths: number[] = [];
    for (let lock = 0; lock < 4; lock++) {
      for (let i = 0; i < 3; i++) l.failure('k', ++now);
      const s = l.check('k', now);
      expect(s.locked).toBe(true);
      const until = s.locked ? s.untilMs : 0;
      lengths.push(until - now);
      now = until + 1;
    }
    expect(lengths).toEqual([30 * MIN, 60 * MIN, 120 * MIN, 240 * MIN]);
  });

  it('the growth survives a restart', () => {
    const l = new Lockouts(lockout);
    for (let i = 1; i <= 3; i++) l.failure('k', i);
    const again = Lockouts.fromJSON(lockout, JSON.parse(JSON.stringify(l.toJSON())));
    const t = 30 * MIN + 10;
    for (let i = 1; i <= 3; i++) again.failure('k', t + i);
    const s = again.check('k', t + 3);
    expect(s.locked && s.untilMs - (t + 3)).toBe(60 * MIN);
  });

  it('a caller who withholds the caller ID cannot lock out a user who shows it', () => {
    const p = new SharedPolicyState(security, dir, silentLogger());
    let now = 0;
    // Withheld caller guesses at `call` for a whole day.
    for (let i = 0; i < 200; i++) {
      now += MIN;
      if (!p.isLocked(['name:call'], now)) p.failure(['name:call'], now);
    }
    expect(p.isLocked(['name:call'], now)).toBe(true);
    // The real user calls from home and is not locked.
    expect(p.isLocked(['name:call', 'cid:5551234'], now)).toBe(false);
  });

  it('a modem reporting the number as withheld (P, O, PRIVATE) counts as withheld, not as a number', () => {
    const p = new SharedPolicyState(security, dir, silentLogger());
    let now = 0;
    for (let i = 0; i < 200; i++) {
      now += MIN;
      const keys = ['name:call', `cid:${['P', 'O', 'PRIVATE'][i % 3]}`];
      if (!p.isLocked(keys, now)) p.failure(keys, now);
    }
    expect(p.isLocked(['name:call', 'cid:5551234'], now)).toBe(false);
  });

  it('caps the guesses at one name per day, whatever the caller IDs', () => {
    const p = new SharedPolicyState(security, dir, silentLogger());
    let guesses = 0;
    let now = 0;
    // A new caller ID for every guess: only the daily cap stops it.
    for (let i = 0; i < 1000; i++) {
      now += 10_000;
      const keys = ['name:call', `cid:${1000 + i}`];
      if (p.isLocked(keys, now)) continue;
      p.failure(keys, now);
      guesses++;
    }
    expect(now).toBeLessThan(24 * 60 * MIN);
    expect(guesses).toBeLessThanOrEqual(lockout.dailyMaxFailures);
  });
});
