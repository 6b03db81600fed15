import { describe, expect, it } from 'vitest';
import { SETTLE_BOUND_EXTRA_MS, transition, type MachineContext } from '../../src/session/machine.js';
import type { DialFailure } from '../../src/call-end.js';
import type { DialResult, Effect, Input, State } from '../../src/session/types.js';
import { testConfig, testEntry, testLine, testUser } from '../helpers/config.js';

const HASH = 'scrypt$16384$8$1$c2FsdA==$aGFzaA=='; // never verified here: verification is an effect

function ctx(over: Partial<MachineContext> = {}): MachineContext {
  const config = testConfig({ pppUsers: [testUser(HASH)] });
  return {
    config,
    line: testLine(),
    now: 1_000,
    isLocked: () => false,
    rateCheck: () => ({ ok: true }),
    answerDisabled: () => false,
    ...over,
  };
}

/** Runs inputs through the machine, collecting every effect. */
function run(inputs: Input[], c = ctx(), start: State = { tag: 'idle' }) {
  let state = start;
  const effects: Effect[] = [];
  const tags: string[] = [];
  for (const input of inputs) {
    const step = transition(state, input, c);
    state = step.state ?? state;
    effects.push(...step.effects);
    tags.push(state.tag);
  }
  return { state, effects, tags };
}

const ring = (count = 1, callerId?: string): Input => ({
  type: 'ring',
  count,
  callerId,
  now: 1,
  callId: 'c1',
});
const connect: Input = { type: 'answered', result: { kind: 'connect', text: 'CONNECT 33600', speed: 33600 } };
const dialed = (kind: DialFailure | 'connect'): Input =>
  kind === 'connect'
    ? { type: 'dialed', result: { kind: 'connect', text: 'CONNECT 33600', speed: 33600 } }
    : { type: 'dialed', result: { kind } as DialResult };
const line = (text: string): Input => ({ type: 'line', text });
const writes = (effects: Effect[]) => effects.flatMap((e) => (e.do === 'write' ? [e.text] : [])).join('');
const toFirstPrompt: Input[] = [ring(), connect, { type: 'timeout' }];

describe('session machine: the seed scenario', () => {
  it('answers, takes `call`, hangs up, waits, dials back, logs in pppuser and starts pppd', () => {
    const inputs: Input[] = [
      ...toFirstPrompt,
      line('call'),
      { type: 'timeout' }, // announce done
      { type: 'hung-up' },
      { type: 'timeout' }, // call-back delay
      dialed('connect'),
      { type: 'timeout' }, // settle
      line('pppuser'),
      line('secret'),
      { type: 'verified', ok: true },
    ];
    const r = run(inputs);
    expect(r.tags).toEqual([
      'answering',
      'settling',
      'login',
      'announcing',
      'dropping',
      'callback-wait',
      'dialing',
      'settling',
      'login',
      'login',
      'verifying',
      'ppp',
    ]);
    expect(writes(r.effects)).toContain('Calling you back at 123456');
    expect(r.effects).toContainEqual({ do: 'dial', number: '123456' });
    expect(r.effects).toContainEqual({ do: 'record-callback', entry: 'call', number: '123456' });
    const ppp = r.effects.find((e) => e.do === 'ppp');
    expect(ppp).toMatchObject({ autoPpp: false, user: { name: 'pppuser' } });
    // The password prompt turns echo off; the secret is only in the verify effect.
    expect(r.effects).toContainEqual({ do: 'reader', echo: false, detectPpp: false });
    expect(JSON.stringify(r.effects.filter((e) => e.do !== 'verify'))).not.toContain('secret"');
  });

  it('does not answer before the configured ring count', () => {
    const c = ctx({ line: testLine({ rings: 3 }) });
    expect(run([ring(1), ring(2)], c).state.tag).toBe('idle');
    expect(run([ring(3)], c).state.tag).toBe('answering');
  });

  it('counts RINGs but does not answer while a nologin file switches the line off', () => {
    const r = run([ring(1), ring(2)], ctx({ answerDisabled: () => true }));
    expect(r.state.tag).toBe('idle');
    expect(r.effects.filter((e) => e.do === 'log' && e.event === 'ring-ignored')).toHaveLength(2);
    expect(r.effects.some((e) => e.do === 'answer')).toBe(false);
  });

  it('does not answer a locked-out caller ID', () => {
    const c = ctx({ isLocked: (keys) => keys.includes('cid:5551234') });
    expect(run([ring(1, '5551234')], c).state.tag).toBe('idle');
    expect(run([ring(1, '5550000')], c).state.tag).toBe('answering');
  });

  it('accepts AutoPPP frames after the call-back and starts pppd with PAP', () => {
    const r = run([{ type: 'ppp-frame' }], ctx(), {
      tag: 'login',
      call: { callId: 'c', startedAt: 0, logins: [] },
      phase: 2,
      step: 'name',
      failures: 0,
      clock: { deadline: 1_000_000, warned: false },
    });
    expect(r.state.tag).toBe('ppp');
    expect(r.effects).toContainEqual({ do: 'ppp', user: undefined, autoPpp: true });
  });

  it('ignores PPP frames on the first call unless allowed', () => {
    const r = run([...toFirstPrompt, { type: 'ppp-frame' }]);
    expect(r.state.tag).toBe('login');
    expect(r.effects.some((e) => e.do === 'ppp')).toBe(false);
  });
});

describe('session machine: no transition is explicit', () => {
  it('an ignored RING, a stray input and a stop of a stopped line are no transition', () => {
    const idle: State = { tag: 'idle' };
    expect(transition(idle, ring(1), ctx({ line: { ...testLine(), rings: 2 } })).state).toBeUndefined();
    const answering = run([ring()]).state;
    expect(transition(answering, line('x'), ctx()).state).toBeUndefined();
    expect(transition({ tag: 'stopped' }, { type: 'stop' }, ctx())).toEqual({ effects: [] });
    expect(transition(idle, ring(1), ctx()).state?.tag).toBe('answering');
  });
});

describe('session machine: every state has a deadline', () => {
  it('answering ends when no answer result comes in time', () => {
    const r = run([ring()]);
    expect(r.state.tag).toBe('answering');
    expect(r.effects.some((e) => e.do === 'timer')).toBe(true);
    const t = run([{ type: 'timeout' }], ctx(), r.state);
    expect(t.state).toMatchObject({ tag: 'teardown', outcome: 'answer-timeout' });
    expect(t.effects).toContainEqual({ do: 'hangup' });
  });
});

describe('session machine: settling after CONNECT', () => {
  const timers = (effects: Effect[]) => effects.flatMap((e) => (e.do === 'timer' ? [e.ms] : []));

  it('waits for `settle` of quiet: what the caller sends meanwhile starts it again, up to a bound', () => {
    const c = ctx();
    const settle = c.line.timing.settleMs;
    let r = run([ring(), connect], c);
    expect(r.state).toMatchObject({ tag: 'settling', until: c.now + settle + SETTLE_BOUND_EXTRA_MS });
    expect(timers(r.effects).at(-1)).toBe(settle);
    // A CR and an AT command for the caller's own modem: no prompt yet, the quiet starts again.
    const at = (ms: number) => ctx({ now: c.now + ms });
    r = run([{ type: 'noise' }], at(settle / 2), r.state);
    expect(r.state.tag).toBe('settling');
    expect(timers(r.effects)).toEqual([settle]);
    expect(writes(r.effects)).toBe('');
    // Near the bound only what is left of it; past it, nothing more: the timer runs out.
    const bound = settle + SETTLE_BOUND_EXTRA_MS;
    r = run([{ type: 'noise' }], at(bound - 10), r.state);
    expect(timers(r.effects)).toEqual([10]);
    const past = run([{ type: 'noise' }], at(bound), r.state);
    expect(past.state).toBe(r.state);
    expect(past.effects).toEqual([]);
    r = run([{ type: 'timeout' }], at(bound), r.state);
    expect(r.state).toMatchObject({ tag: 'login', step: 'name' });
    expect(writes(r.effects)).toContain('login: ');
  });
});

describe('session machine: the login deadline', () => {
  const timers = (effects: Effect[]) => effects.flatMap((e) => (e.do === 'timer' ? [e.ms] : []));

  it('is per leg: ^U and a refusal re-prompt with what is left of it, Enter keeps the running timer', () => {
    const c = ctx();
    const loginMs = c.line.timing.loginMs;
    let r = run(toFirstPrompt, c);
    expect(timers(r.effects).at(-1)).toBe(loginMs);
    // Later inputs arrive as the clock moves on; every new prompt gets the rest only.
    const later = (ms: number) => ctx({ now: c.now + ms });
    const q = Math.floor(loginMs / 4);
    // Enter shows the prompt again and leaves the state (its reader, its timer) as it is.
    const before = r.state;
    r = run([line('')], later(q), r.state);
    expect(timers(r.effects)).toEqual([]);
    expect(writes(r.effects)).toContain('login: ');
    expect(r.state).toBe(before);
    r = run([{ type: 'cancel' }], later(2 * q), r.state);
    expect(timers(r.effects)).toEqual([loginMs - 2 * q]);
    r = run([line('mallory'), line('x'), { type: 'verified', ok: false }], later(3 * q), r.state);
    expect(timers(r.effects).length).toBeGreaterThan(0);
    expect(timers(r.effects).every((ms) => ms === loginMs - 3 * q)).toBe(true);
  });

  it('warns once, and Enter after the warning does not buy more time', () => {
    const c = ctx();
    const grace = c.line.timing.loginGraceMs;
    let r = run(toFirstPrompt, c);
    const at = (ms: number) => ctx({ now: c.now + ms });
    r = run([{ type: 'timeout' }], at(c.line.timing.loginMs), r.state);
    expect(writes(r.effects)).toContain('Login timeout soon');
    const q = Math.floor(grace / 2);
    r = run([line('')], at(c.line.timing.loginMs + q), r.state);
    expect(timers(r.effects)).toEqual([]);
    r = run([{ type: 'timeout' }], at(c.line.timing.loginMs + grace), r.state);
    expect(r.state).toMatchObject({ tag: 'teardown', outcome: 'login-timeout' });
  });
});

describe('session machine: refusals', () => {
  it('keeps a configured name in the failure keys and the log', () => {
    const r = run(
      [ring(1, '5551234'), connect, { type: 'timeout' }, line('call')],
      ctx({ config: testConfig({ callbacks: [testEntry({ pinHash: HASH })] }) }),
    );
    const r2 = run([line('x'), { type: 'verified', ok: false }], ctx(), r.state);
    expect(r2.effects).toContainEqual({ do: 'failure', keys: ['name:call', 'cid:5551234'] });
  });

  it('answers an unknown user exactly like a wrong password', () => {
    const unknown = run([...toFirstPrompt, line('mallory'), line('x'), { type: 'verified', ok: false }]);
    const c2 = ctx({
      config: { ...ctx().config, pppd: { ...ctx().config.pppd, autoPppBeforeCallback: true } },
    });
    const wrong = run([...toFirstPrompt, line('pppuser'), line('x'), { type: 'verified', ok: false }], c2);
    const tail = (e: Effect[]) => writes(e.slice(e.findIndex((x) => x.do === 'verify')));
    expect(tail(unknown.effects)).toBe(tail(wrong.effects));
    expect(unknown.effects.find((e) => e.do === 'verify')).toEqual({
      do: 'verify',
      hash: undefined,
      secret: 'x',
    });
  });

  it('hangs up after maxAttempts failures and reports the failures for lockout', () => {
    const bad = [line('bob'), line('x'), { type: 'verified', ok: false } as Input];
    const r = run([ring(1, '5551234'), connect, { type: 'timeout' }, ...bad, ...bad, ...bad]);
    expect(r.state.tag).toBe('teardown');
    expect(r.state).toMatchObject({ outcome: 'login-refused' });
    expect(r.effects.filter((e) => e.do === 'failure')).toHaveLength(3);
    // An unknown name may be a password typed too early: never logged, no lockout key.
    expect(r.effects).toContainEqual({ do: 'failure', keys: ['cid:5551234'] });
    expect(JSON.stringify(r.effects)).not.toContain('bob');
    // The goodbye gets out before DTR drops: hang-up on the state timer.
    expect(r.effects.some((e) => e.do === 'hangup')).toBe(false);
    expect(r.effects.at(-1)).toEqual({ do: 'timer', ms: ctx().line.timing.announceMs });
    expect(transition(r.state, { type: 'timeout' }, ctx()).effects).toEqual([{ do: 'hangup' }]);
  });

  it('takes a line no name can be (a leading dash, an AT command) for noise: prompt again, nothing asked or counted', () => {
    for (const text of ['-froot', 'AT&C1A', 'john smith']) {
      const prompt = run(toFirstPrompt);
      const r = run([line(text)], ctx(), prompt.state);
      expect(r.state).toBe(prompt.state);
      expect(writes(r.effects)).toContain('login: ');
      expect(r.effects.some((e) => e.do === 'verify' || e.do === 'failure' || e.do === 'reader')).toBe(false);
      expect(r.effects).toContainEqual({
        do: 'log',
        level: 'info',
        event: 'login-noise',
        fields: { length: text.length },
      });
    }
  });

  it('does not accept the call-back pseudo-user on the second leg', () => {
    const r = run([line('call')], ctx(), {
      tag: 'login',
      call: { callId: 'c', startedAt: 0, logins: [] },
      phase: 2,
      step: 'name',
      failures: 0,
      clock: { deadline: 1_000_000, warned: false },
    });
    expect(r.state).toMatchObject({ tag: 'login', step: 'secret', claim: { kind: 'unknown' } });
  });

  it('refuses a call-back entry whose caller-ID screening fails', () => {
    const config = testConfig({ callbacks: [testEntry({ callerId: ['555', '!all'] })] });
    const r = run([ring(1, '4441234'), connect, { type: 'timeout' }, line('call')], ctx({ config }));
    expect(r.state).toMatchObject({ tag: 'login', step: 'secret', claim: { kind: 'unknown' } });
  });

  it('stops at the rate limit with a clear message and no dial', () => {
    const c = ctx({ rateCheck: () => ({ ok: false, reason: 'entry call: 10 call-backs in 1h' }) });
    const r = run([...toFirstPrompt, line('call')], c);
    expect(r.state).toMatchObject({ tag: 'teardown', outcome: 'rate-limited' });
    expect(writes(r.effects)).toContain('Call-back not available now');
    expect(r.effects.some((e) => e.do === 'dial' || e.do === 'record-callback')).toBe(false);
  });

  it('warns on login timeout, then hangs up', () => {
    const r = run([...toFirstPrompt, { type: 'timeout' }, { type: 'timeout' }]);
    expect(writes(r.effects)).toContain('Login timeout soon');
    expect(r.state).toMatchObject({ tag: 'teardown', outcome: 'login-timeout' });
  });
});

describe('session machine: caller-supplied numbers', () => {
  const entry = testEntry({
    name: 'roam',
    number: undefined,
    callerSupplies: true,
    rules: { allow: ['0049'], deny: ['00499'], minLength: 6, maxLength: 15, modifiers: '' },
  });
  const c = ctx({ config: testConfig({ callbacks: [entry] }) });

  it('dials a number that passes the rules', () => {
    const r = run([...toFirstPrompt, line('roam'), line('0049 30 1234567')], c);
    expect(r.state).toMatchObject({ tag: 'announcing', number: '0049301234567' });
  });

  it('refuses a denied number and never dials it', () => {
    const r = run([...toFirstPrompt, line('roam'), line('00499001234')], c);
    expect(r.state).toMatchObject({ tag: 'login', failures: 1 });
    expect(writes(r.effects)).toContain('Number not allowed');
    expect(r.effects.some((e) => e.do === 'dial')).toBe(false);
  });

  it('refuses AT command text typed as a number', () => {
    const r = run([...toFirstPrompt, line('roam'), line('0049301234;ATH')], c);
    expect(r.effects.some((e) => e.do === 'dial' || e.do === 'record-callback')).toBe(false);
  });
});

describe('session machine: dialling back', () => {
  const start: State = {
    tag: 'callback-wait',
    call: { callId: 'c', startedAt: 0, logins: ['call'] },
    entry: testEntry({ attempts: 3 }),
    number: '123456',
    attempt: 1,
  };

  it('retries after BUSY and connects on the second attempt', () => {
    const r = run(
      [{ type: 'timeout' }, dialed('busy'), { type: 'timeout' }, dialed('connect')],
      ctx(),
      start,
    );
    expect(r.tags).toEqual(['dialing', 'callback-wait', 'dialing', 'settling']);
    expect(r.effects.filter((e) => e.do === 'dial')).toHaveLength(2);
  });

  it('gives up after NO ANSWER on every attempt and says why', () => {
    const tries = [1, 2, 3].flatMap(() => [{ type: 'timeout' } as Input, dialed('no-answer')]);
    const r = run(tries, ctx(), start);
    expect(r.state).toMatchObject({
      tag: 'teardown',
      outcome: 'callback-failed-no-answer',
      terminateCause: 'Callback',
    });
    expect(r.effects.filter((e) => e.do === 'dial')).toHaveLength(3);
  });

  it('does not retry when the modem refuses the dial command', () => {
    const r = run([{ type: 'timeout' }, dialed('error')], ctx(), start);
    expect(r.state).toMatchObject({ tag: 'teardown', outcome: 'callback-failed-error' });
  });

  it('treats a dial that never returns as a timeout outcome', () => {
    const r = run([{ type: 'timeout' }, { type: 'timeout' }], ctx(), start);
    expect(r.state).toMatchObject({ tag: 'callback-wait', attempt: 2 });
  });
});

describe('session machine: carrier loss and teardown', () => {
  const call = { callId: 'c', startedAt: 0, logins: [] };
  const clock = { deadline: 1_000_000, warned: false };
  const states: State[] = [
    { tag: 'settling', call, phase: 1, until: 2_000 },
    { tag: 'login', call, phase: 1, step: 'name', failures: 0, clock },
    { tag: 'login', call, phase: 2, step: 'secret', failures: 0, clock },
    { tag: 'verifying', call, phase: 2, failures: 0, claim: { kind: 'unknown', name: 'x' }, clock },
  ];
  it.each(states.map((s) => [`${s.tag}`, s] as const))('carrier lost in %s ends the call', (_n, s) => {
    const r = run([{ type: 'carrier-lost' }], ctx(), s);
    expect(r.state).toMatchObject({
      tag: 'teardown',
      outcome: 'carrier-lost',
      terminateCause: 'Lost-Carrier',
    });
    expect(r.effects).toContainEqual({ do: 'hangup' });
  });

  it('carrier lost while announcing still calls back', () => {
    const s: State = { tag: 'announcing', call, entry: testEntry(), number: '123456' };
    expect(run([{ type: 'carrier-lost' }], ctx(), s).state.tag).toBe('dropping');
  });

  it('maps pppd exit to the call outcome and writes one record after the hang-up', () => {
    const s: State = { tag: 'ppp', call, autoPpp: false };
    const exit: Input = {
      type: 'ppp-exit',
      code: 11,
      outcome: 'ppp-peer-auth-failed',
      terminateCause: 'Service-Unavailable',
      description: 'peer failed to authenticate',
    };
    const r = run([exit, { type: 'hung-up' }], ctx(), s);
    expect(r.state.tag).toBe('idle');
    const finishes = r.effects.filter((e) => e.do === 'finish');
    expect(finishes).toHaveLength(1);
    expect(finishes[0]).toMatchObject({
      outcome: 'ppp-peer-auth-failed',
      terminateCause: 'Service-Unavailable',
    });
  });

  it('stop during pppd asks pppd to stop; stop elsewhere finishes the call', () => {
    expect(run([{ type: 'stop' }], ctx(), { tag: 'ppp', call, autoPpp: true }).effects).toEqual([
      { do: 'stop-ppp' },
    ]);
    const r = run([{ type: 'stop' }], ctx(), { tag: 'settling', call, phase: 1, until: 2_000 });
    expect(r.state.tag).toBe('stopped');
    expect(r.effects[0]).toMatchObject({ do: 'finish', outcome: 'daemon-stopped' });
  });
});

describe('session machine: call-back on another line', () => {
  const call = { callId: 'c', startedAt: 0, logins: ['call'] };
  const entry = testEntry({ dialLines: ['ttyS2'] });
  const dropping: State = { tag: 'dropping', call, entry, number: '123456' };

  it('hands the call-back to a dial-out line and goes idle without a record', () => {
    const r = run([{ type: 'hung-up' }, { type: 'transferred', ok: true, line: 'ttyS2' }], ctx(), dropping);
    expect(r.effects).toContainEqual({ do: 'transfer', call, entry, number: '123456' });
    expect(r.state.tag).toBe('idle');
    expect(r.effects.some((e) => e.do === 'finish' || e.do === 'dial')).toBe(false);
  });

  it('fails the call-back when no dial-out line is free', () => {
    const r = run([{ type: 'hung-up' }, { type: 'transferred', ok: false }], ctx(), dropping);
    expect(r.state).toMatchObject({ tag: 'teardown', outcome: 'callback-failed-no-line' });
  });

  it('dials itself when it is one of the dial lines', () => {
    const c = ctx({ line: testLine({ name: 'ttyS2' }) });
    expect(run([{ type: 'hung-up' }], c, dropping).state.tag).toBe('callback-wait');
  });

  it('an idle line takes over a call-back and dials after the delay', () => {
    const r = run([{ type: 'callback', call, entry, number: '123456' }, { type: 'timeout' }]);
    expect(r.tags).toEqual(['callback-wait', 'dialing']);
    expect(r.effects).toContainEqual({ do: 'dial', number: '123456' });
  });
});
