import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCallbackdError } from '../../src/errors.js';
import { Lockouts, RateLimiter } from '../../src/policy/limits.js';

const MIN = 60_000;
const lockCfg = { maxFailures: 3, windowMs: 10 * MIN, lockMs: 30 * MIN };
const rateCfg = { perEntry: 2, perNumber: 3, total: 4, windowMs: 60 * MIN };
const T0 = 1_800_000_000_000;

describe('Lockouts', () => {
  it('locks a key after maxFailures inside the window, until lockMs has passed', () => {
    const l = new Lockouts(lockCfg);
    l.failure('name:call', T0);
    l.failure('name:call', T0 + MIN);
    expect(l.check('name:call', T0 + MIN).locked).toBe(false);
    l.failure('name:call', T0 + 2 * MIN);
    expect(l.check('name:call', T0 + 2 * MIN)).toEqual({ locked: true, untilMs: T0 + 32 * MIN });
    expect(l.check('name:call', T0 + 32 * MIN - 1).locked).toBe(true);
    expect(l.check('name:call', T0 + 32 * MIN).locked).toBe(false);
    expect(l.check('cid:5551234', T0 + 2 * MIN).locked).toBe(false); // other keys untouched
  });

  it('forgets failures older than the window', () => {
    const l = new Lockouts(lockCfg);
    l.failure('k', T0);
    l.failure('k', T0 + 5 * MIN);
    l.failure('k', T0 + 10 * MIN); // the first one has left the window
    expect(l.check('k', T0 + 10 * MIN).locked).toBe(false);
    l.failure('k', T0 + 11 * MIN);
    expect(l.check('k', T0 + 11 * MIN).locked).toBe(true);
  });

  it('a success clears the count but not a lock in force', () => {
    const l = new Lockouts(lockCfg);
    l.failure('k', T0);
    l.failure('k', T0 + 1);
    l.success('k');
    l.failure('k', T0 + 2);
    expect(l.check('k', T0 + 2).locked).toBe(false);
    l.failure('k', T0 + 3);
    l.failure('k', T0 + 4);
    expect(l.check('k', T0 + 4).locked).toBe(true);
    l.success('k');
    expect(l.check('k', T0 + 5).locked).toBe(true);
  });

  it('failures during a lock do not extend it', () => {
    const l = new Lockouts({ ...lockCfg, maxFailures: 1 });
    l.failure('k', T0);
    l.failure('k', T0 + 20 * MIN);
    expect(l.check('k', T0 + 30 * MIN).locked).toBe(false);
  });

  it('never holds a lock longer than lockMs after the clock went back', () => {
    const l = new Lockouts({ ...lockCfg, maxFailures: 1 });
    l.failure('k', T0);
    const back = T0 - 24 * 60 * MIN;
    expect(l.check('k', back)).toEqual({ locked: true, untilMs: back + 30 * MIN });
    expect(l.check('k', back + 30 * MIN).locked).toBe(false);
  });

  it('stays bounded under a flood of distinct keys, keeping locked keys over unlocked ones', () => {
    const l = new Lockouts({ ...lockCfg, maxFailures: 2 }, 100);
    l.failure('name:victim-guess', T0);
    l.failure('name:victim-guess', T0);
    for (let i = 0; i < 10_000; i++) l.failure(`cid:${i}`, T0 + i);
    expect(l.size).toBeLessThanOrEqual(100);
    expect(l.check('name:victim-guess', T0 + 10_000).locked).toBe(true);
  });

  it('drops expired keys first when full', () => {
    const l = new Lockouts(lockCfg, 10);
    for (let i = 0; i < 10; i++) l.failure(`old${i}`, T0);
    l.failure('new', T0 + 11 * MIN); // every old key is out of its window now
    expect(l.size).toBe(1);
  });

  it('round-trips through JSON, and starts empty from nothing saved', () => {
    const l = new Lockouts(lockCfg);
    for (let i = 0; i < 3; i++) l.failure('a', T0 + i);
    l.failure('b', T0);
    const copy = Lockouts.fromJSON(lockCfg, JSON.parse(JSON.stringify(l.toJSON())));
    expect(copy.check('a', T0 + 10).locked).toBe(true);
    copy.failure('b', T0 + 1);
    copy.failure('b', T0 + 2);
    expect(copy.check('b', T0 + 2).locked).toBe(true);
    expect(Lockouts.fromJSON(lockCfg, undefined).size).toBe(0);
  });

  it.each([
    ['a string', 'junk'],
    ['a wrong version', { version: 99, keys: [] }],
    ['keys not a list', { version: 1, keys: {} }],
    ['bad failure times', { version: 1, keys: [['k', { failures: ['x'] }]] }],
    ['a bad lock time', { version: 1, keys: [['k', { failures: [], lockedUntil: 'soon' }]] }],
  ])('refuses saved state that is %s', (_what, data) => {
    expect(() => Lockouts.fromJSON(lockCfg, data)).toThrow(
      expect.toSatisfy((e: unknown) => isCallbackdError(e, 'STATE_INVALID')),
    );
  });

  it('refuses unusable settings with a clear error', () => {
    expect(() => new Lockouts({ ...lockCfg, maxFailures: 0 })).toThrow(/maxFailures/);
    expect(() => new Lockouts({ ...lockCfg, windowMs: 0 })).toThrow(/windowMs/);
  });
});

describe('RateLimiter', () => {
  const k = (entry: string, number: string) => ({ entry, number });

  it('limits call-backs per entry inside the sliding window', () => {
    const r = new RateLimiter(rateCfg);
    r.record(k('call', '111'), T0);
    r.record(k('call', '222'), T0 + 10 * MIN);
    const no = r.check(k('call', '333'), T0 + 20 * MIN);
    expect(no.ok).toBe(false);
    expect(no.ok ? '' : no.reason).toMatch(/entry/);
    expect(r.check(k('other', '333'), T0 + 20 * MIN).ok).toBe(true);
    expect(r.check(k('call', '333'), T0 + 60 * MIN).ok).toBe(true); // first one left the window
  });

  it('limits call-backs per number across entries, pauses ignored', () => {
    const r = new RateLimiter({ ...rateCfg, perEntry: 10, total: 10 });
    r.record(k('a', '5551234'), T0);
    r.record(k('b', '555,1234'), T0);
    r.record(k('c', '555W1234'), T0);
    const no = r.check(k('d', '5551234'), T0 + 1);
    expect(no.ok ? '' : no.reason).toMatch(/number/);
    expect(r.check(k('d', '5559999'), T0 + 1).ok).toBe(true);
  });

  it('limits call-backs in all', () => {
    const r = new RateLimiter({ ...rateCfg, perEntry: 10, perNumber: 10 });
    for (let i = 0; i < 4; i++) r.record(k(`e${i}`, `n${i}`), T0 + i);
    const no = r.check(k('fresh', 'fresh'), T0 + 5);
    expect(no.ok ? '' : no.reason).toMatch(/overall/);
  });

  it('a limit of 0 refuses every call-back', () => {
    const r = new RateLimiter({ ...rateCfg, perNumber: 0 });
    expect(r.check(k('a', '1'), T0).ok).toBe(false);
  });

  it('round-trips through JSON', () => {
    const r = new RateLimiter(rateCfg);
    r.record(k('call', '111'), T0);
    r.record(k('call', '111'), T0 + 1);
    const copy = RateLimiter.fromJSON(rateCfg, JSON.parse(JSON.stringify(r.toJSON())));
    expect(copy.check(k('call', '222'), T0 + 2).ok).toBe(false);
    expect(copy.check(k('x', '222'), T0 + 2).ok).toBe(true);
    expect(RateLimiter.fromJSON(rateCfg, null).size).toBe(0);
    expect(() => RateLimiter.fromJSON(rateCfg, { version: 1, entries: 3 })).toThrow(/entries/);
  });

  it('uses Maps, so a caller-typed "__proto__" is just another key', () => {
    const r = new RateLimiter(rateCfg);
    r.record(k('__proto__', '__proto__'), T0);
    const copy = RateLimiter.fromJSON(rateCfg, JSON.parse(JSON.stringify(r.toJSON())));
    expect(copy.size).toBe(2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('property: memory stays bounded whatever is recorded', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ maxLength: 4 }), fc.string({ maxLength: 6 }), fc.nat(10 * MIN)), {
          maxLength: 300,
        }),
        (events) => {
          const r = new RateLimiter(rateCfg, 50);
          let now = T0;
          for (const [entry, number, dt] of events) {
            now += dt;
            r.record(k(entry, number), now);
          }
          expect(r.size).toBeLessThanOrEqual(100);
          const saved = r.toJSON() as {
            entries: [string, number[]][];
            numbers: [string, number[]][];
            all: number[];
          };
          expect(saved.all.length).toBeLessThanOrEqual(rateCfg.total);
          for (const [, t] of saved.entries) expect(t.length).toBeLessThanOrEqual(rateCfg.perEntry);
          for (const [, t] of saved.numbers) expect(t.length).toBeLessThanOrEqual(rateCfg.perNumber);
        },
      ),
    );
  });

  it('property: check agrees with a plain count of the last window', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.nat(30 * MIN)), { maxLength: 40 }),
        (events) => {
          const cfg = { perEntry: 3, perNumber: 100, total: 100, windowMs: 60 * MIN };
          const r = new RateLimiter(cfg);
          const log: { entry: string; at: number }[] = [];
          let now = T0;
          for (const [entry, dt] of events) {
            now += dt;
            const expected = log.filter((e) => e.entry === entry && e.at > now - cfg.windowMs).length < 3;
            expect(r.check(k(entry, 'n'), now).ok).toBe(expected);
            if (expected) {
              r.record(k(entry, `n${now}`), now);
              log.push({ entry, at: now });
            }
          }
        },
      ),
    );
  });
});
