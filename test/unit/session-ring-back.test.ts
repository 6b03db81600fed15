import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RING_BACK_MAX_MS, transition, type MachineContext } from '../../src/session/machine.js';
import type { Effect, Input, State } from '../../src/session/types.js';
import type { CallbackEntry, LineConfig } from '../../src/config/types.js';
import { testConfig, testEntry, testLine } from '../helpers/config.js';

// Ring-back by caller ID: a listed caller rings and hangs up; when the rings stop the
// entry's own number is called back. Time is the context's `now`, moved by the test.

const home = (over: Partial<CallbackEntry> = {}): CallbackEntry =>
  testEntry({
    name: 'home',
    number: '5376443',
    trigger: 'ring',
    callerId: ['0301234', '!all'],
    ringGapMs: 8_000,
    ...over,
  });

interface Clock {
  now: number;
  locked: string[];
  limited?: string;
  rateChecks: [string, string][];
}

function ctx(clock: Clock, line: Partial<LineConfig> = {}, entries = [testEntry(), home()]): MachineContext {
  const config = testConfig({ callbacks: entries });
  return {
    config,
    line: testLine({ rings: 2, ...line }),
    get now() {
      return clock.now;
    },
    isLocked: (keys) => keys.some((k) => clock.locked.includes(k)),
    rateCheck: (entry, number) => {
      clock.rateChecks.push([entry, number]);
      return clock.limited ? { ok: false, reason: clock.limited } : { ok: true };
    },
    answerDisabled: () => false,
  };
}

const ring = (count: number, callerId?: string): Input => ({
  type: 'ring',
  count,
  callerId,
  now: 0,
  callId: 'c1',
});

/** Feeds inputs at the given times; a `timeout` is delivered when the last timer says. */
function run(
  c: MachineContext,
  clock: Clock,
  steps: [number | 'timer', Input][],
  start: State = { tag: 'idle' },
) {
  let state = start;
  let timerAt: number | undefined;
  const effects: Effect[] = [];
  const tags: string[] = [];
  for (const [at, input] of steps) {
    clock.now = at === 'timer' ? timerAt! : at;
    const step = transition(state, input, c);
    if (step.state) {
      state = step.state;
      timerAt = undefined;
    }
    for (const e of step.effects) if (e.do === 'timer') timerAt = clock.now + e.ms;
    effects.push(...step.effects);
    tags.push(state.tag);
  }
  return { state, effects, tags, timerAt };
}

const fresh = (): Clock => ({ now: 0, locked: [], rateChecks: [] });
const did = (effects: Effect[], what: Effect['do']) => effects.filter((e) => e.do === what);
const TIMEOUT: Input = { type: 'timeout' };

describe('ring-back: a listed caller ID', () => {
  it('is never answered; each RING restarts the gap; then the entry number is dialled', () => {
    const clock = fresh();
    const c = ctx(clock);
    const r = run(c, clock, [
      [0, ring(1)], // no caller ID yet: fewer than `rings`, nothing happens
      [3_000, ring(2, '0301234')],
      [9_000, ring(3, '0301234')],
      ['timer', TIMEOUT], // 8 s after the last RING
      ['timer', TIMEOUT], // the entry's delay
    ]);
    expect(r.tags).toEqual(['idle', 'ring-back', 'ring-back', 'callback-wait', 'dialing']);
    expect(did(r.effects, 'answer')).toHaveLength(0);
    // The gap runs from the last RING: the wait ended at 9 s + 8 s.
    expect(clock.now).toBe(17_000 + 200);
    expect(did(r.effects, 'dial')).toEqual([{ do: 'dial', number: '5376443' }]);
    expect(did(r.effects, 'record-callback')).toEqual([
      { do: 'record-callback', entry: 'home', number: '5376443' },
    ]);
    expect(clock.rateChecks).toEqual([['home', '5376443']]);
    expect(r.state).toMatchObject({
      tag: 'dialing',
      call: { callId: 'c1', callerId: '0301234', logins: [], callback: { entry: 'home', number: '5376443' } },
    });
  });

  it('goes on to the second leg exactly as a login call-back does', () => {
    const clock = fresh();
    const c = ctx(clock);
    const r = run(c, clock, [
      [0, ring(1, '0301234')],
      ['timer', TIMEOUT],
      ['timer', TIMEOUT],
      [20_000, { type: 'dialed', result: { kind: 'connect', text: 'CONNECT 33600', speed: 33600 } }],
      ['timer', TIMEOUT],
    ]);
    expect(r.tags).toEqual(['ring-back', 'callback-wait', 'dialing', 'settling', 'login']);
    expect(r.state).toMatchObject({ tag: 'login', phase: 2 });
  });

  it('matches caller IDs in normal form (separators, +, the own country code)', () => {
    const clock = fresh();
    const entry = home({
      callerId: ['+49 30 1234', '!all'],
      rules: { ...testEntry().rules, countryCode: '49' },
    });
    const c = ctx(clock, {}, [entry]);
    for (const cid of ['0301234', '+49301234', '0049 30-1234', '030 1234 5']) {
      expect(run(c, clock, [[0, ring(2, cid)]]).state.tag, cid).toBe('ring-back');
    }
    for (const cid of ['0311234', '+44301234', 'PRIVATE', '', '030;ATD0900']) {
      expect(run(c, clock, [[0, ring(2, cid)]]).state.tag, cid).not.toBe('ring-back');
    }
  });

  it('dials the entry number whatever the caller ID says', () => {
    const clock = fresh();
    const c = ctx(clock, {}, [home({ callerId: ['030', '!all'] })]);
    const r = run(c, clock, [
      [0, ring(2, '0301234')],
      ['timer', TIMEOUT],
      ['timer', TIMEOUT],
    ]);
    expect(did(r.effects, 'dial')).toEqual([{ do: 'dial', number: '5376443' }]);
  });

  it('is refused when the entry or the caller ID is locked out: no dial, one record', () => {
    for (const key of ['name:home', 'cid:0301234']) {
      const clock = { ...fresh(), locked: [key] };
      const r = run(ctx(clock), clock, [
        [0, ring(2, '0301234')],
        ['timer', TIMEOUT],
      ]);
      expect(r.state.tag).toBe('idle');
      expect(did(r.effects, 'dial')).toHaveLength(0);
      expect(did(r.effects, 'record-callback')).toHaveLength(0);
      expect(did(r.effects, 'finish')).toEqual([
        expect.objectContaining({
          outcome: 'ring-back-refused',
          terminateCause: 'Service-Unavailable',
          detail: 'locked out',
          call: expect.objectContaining({ callId: 'c1', callerId: '0301234' }),
        }),
      ]);
    }
  });

  it('is refused when the rate limit says no', () => {
    const clock = { ...fresh(), limited: 'entry home: 6 call-backs in the window' };
    const r = run(ctx(clock), clock, [
      [0, ring(2, '0301234')],
      ['timer', TIMEOUT],
    ]);
    expect(did(r.effects, 'dial')).toHaveLength(0);
    expect(did(r.effects, 'finish')).toEqual([
      expect.objectContaining({
        outcome: 'ring-back-refused',
        detail: 'entry home: 6 call-backs in the window',
      }),
    ]);
  });

  it('has a deadline even when the rings never stop', () => {
    const clock = fresh();
    const c = ctx(clock);
    const steps: [number | 'timer', Input][] = [];
    for (let t = 0; t <= RING_BACK_MAX_MS; t += 5_000) steps.push([t, ring(2, '0301234')]);
    steps.push(['timer', TIMEOUT]);
    const r = run(c, clock, steps);
    expect(clock.now).toBe(RING_BACK_MAX_MS);
    expect(r.state.tag).toBe('idle');
    expect(did(r.effects, 'dial')).toHaveLength(0);
    expect(did(r.effects, 'finish')).toEqual([
      expect.objectContaining({ outcome: 'ring-back-refused', detail: 'the rings did not stop' }),
    ]);
  });

  it('ends with one record when the daemon stops while waiting', () => {
    const clock = fresh();
    const r = run(ctx(clock), clock, [
      [0, ring(2, '0301234')],
      [1, { type: 'stop' }],
    ]);
    expect(r.tags).toEqual(['ring-back', 'stopped']);
    expect(did(r.effects, 'finish')).toEqual([expect.objectContaining({ outcome: 'daemon-stopped' })]);
  });

  it('hands the dial to the entry dial_lines when this line is not one of them', () => {
    const clock = fresh();
    const c = ctx(clock, {}, [home({ dialLines: ['ttyS2'] })]);
    const r = run(c, clock, [
      [0, ring(2, '0301234')],
      ['timer', TIMEOUT],
    ]);
    expect(r.state.tag).toBe('transferring');
    expect(did(r.effects, 'transfer')).toEqual([expect.objectContaining({ number: '5376443' })]);
  });

  it('is not a login name: typing `home` at the prompt gets no call-back, even from a listed caller ID', () => {
    const clock = fresh();
    const c = ctx(clock, { rings: 1 });
    // A listed caller ID at a login prompt cannot come from a ring (it is rung back),
    // so the test starts there: the name alone must not be a call-back.
    const login: State = {
      tag: 'login',
      call: { callId: 'c1', startedAt: 0, callerId: '0301234', logins: [] },
      phase: 1,
      step: 'name',
      failures: 0,
      clock: { deadline: 600_000, warned: false },
    };
    const r = run(c, clock, [[3, { type: 'line', text: 'home' }]], login);
    expect(r.state).toMatchObject({ tag: 'login', step: 'secret', claim: { kind: 'unknown' } });
    expect(did(r.effects, 'record-callback')).toHaveLength(0);
  });
});

describe('ring-back: other callers', () => {
  it('an unlisted caller ID on an answering line is an ordinary call', () => {
    const clock = fresh();
    const r = run(ctx(clock), clock, [
      [0, ring(1)],
      [3_000, ring(2, '0401234')],
    ]);
    expect(r.tags).toEqual(['idle', 'answering']);
    expect(did(r.effects, 'answer')).toHaveLength(1);
  });

  it('a line that does not answer records an unlisted ring once, when the rings stop', () => {
    const clock = fresh();
    const c = ctx(clock, { answer: false });
    const r = run(c, clock, [
      [0, ring(1)],
      [3_000, ring(2, '0401234')],
      [6_000, ring(3, '0401234')],
      ['timer', TIMEOUT],
    ]);
    expect(r.tags).toEqual(['ring-back', 'ring-back', 'ring-back', 'idle']);
    expect(clock.now).toBe(6_000 + c.line.timing.ringGapMs);
    expect(did(r.effects, 'answer')).toHaveLength(0);
    expect(did(r.effects, 'dial')).toHaveLength(0);
    expect(did(r.effects, 'finish')).toEqual([
      expect.objectContaining({
        outcome: 'ring-not-listed',
        terminateCause: 'Service-Unavailable',
        call: expect.objectContaining({ callerId: '0401234' }),
      }),
    ]);
  });

  it('a line that does not answer rings back a listed caller whose ID came with the second RING', () => {
    const clock = fresh();
    const c = ctx(clock, { answer: false });
    const r = run(c, clock, [
      [0, ring(1)],
      [3_000, ring(2, '0301234')],
      ['timer', TIMEOUT],
    ]);
    expect(r.tags).toEqual(['ring-back', 'ring-back', 'callback-wait']);
    expect(r.state).toMatchObject({ entry: { name: 'home' }, number: '5376443' });
  });

  it('without ring-back entries nothing changes: a line that does not answer ignores rings', () => {
    const clock = fresh();
    const c = ctx(clock, { answer: false }, [testEntry()]);
    const r = run(c, clock, [[0, ring(3, '0301234')]]);
    expect(r.state.tag).toBe('idle');
    expect(r.effects).toEqual([]);
  });

  it('a caller ID that matches a login entry screening list is no ring-back', () => {
    const clock = fresh();
    const c = ctx(clock, {}, [testEntry({ callerId: ['0301234', '!all'] })]);
    expect(run(c, clock, [[0, ring(2, '0301234')]]).state.tag).toBe('answering');
  });
});

describe('ring-back: any order of events (property)', () => {
  const input = fc.oneof(
    fc.record({
      type: fc.constant('ring' as const),
      count: fc.integer({ min: 1, max: 6 }),
      callerId: fc.constantFrom('0301234', '0401234', '+49301234', 'PRIVATE', undefined),
      now: fc.constant(0),
      callId: fc.uuid(),
    }),
    fc.constantFrom<Input>(
      { type: 'timeout' },
      { type: 'carrier-lost' },
      { type: 'hung-up' },
      { type: 'dialed', result: { kind: 'no-answer' } },
      { type: 'stop' },
    ),
  );

  it('dials only the entry number, never answers a listed caller, always has a timer, one record a call', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(input, fc.integer({ min: 0, max: 20_000 })), { maxLength: 40 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (steps, answer, locked, limited) => {
          const clock: Clock = { ...fresh(), locked: locked ? ['name:home'] : [] };
          if (limited) clock.limited = 'limit';
          const c = ctx(clock, { answer }, [testEntry(), home()]);
          let state: State = { tag: 'idle' };
          const finishes = new Map<string, number>();
          for (const [inp, dt] of steps) {
            clock.now += dt;
            const step = transition(state, inp, c);
            for (const e of step.effects) {
              if (e.do === 'dial') expect(e.number).toBe('5376443');
              if (e.do === 'dial') expect(locked || limited).toBe(false);
              if (e.do === 'answer') expect(inp).not.toMatchObject({ callerId: '0301234' });
              if (e.do === 'answer') expect(state.tag).toBe('idle');
              if (e.do === 'finish' && e.call) {
                finishes.set(e.call.callId, (finishes.get(e.call.callId) ?? 0) + 1);
              }
            }
            if (step.state?.tag === 'ring-back') {
              expect(step.effects.some((e) => e.do === 'timer')).toBe(true);
            }
            state = step.state ?? state;
          }
          for (const n of finishes.values()) expect(n).toBe(1);
        },
      ),
      { numRuns: 500 },
    );
  });
});
