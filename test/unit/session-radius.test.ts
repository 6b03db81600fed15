import { describe, expect, it } from 'vitest';
import { RADIUS_UNAVAILABLE, transition, type MachineContext } from '../../src/session/machine.js';
import type { AuthResult } from '../../src/radius/auth.js';
import type { Effect, Input, State } from '../../src/session/types.js';
import { testConfig, testEntry, testLine } from '../helpers/config.js';
import { testRadiusConfig } from '../helpers/radius-config.js';

// The session machine's RADIUS path, pure: the secret step asks RADIUS ('radius-auth'),
// the answer comes back as 'radius-answer' and decide() says what it means.

function ctx(over: Partial<MachineContext> = {}, radius = testRadiusConfig()): MachineContext {
  return {
    config: testConfig({ radius, callbacks: [testEntry({ name: 'office', number: '777' })] }),
    line: testLine(),
    now: 1_000,
    isLocked: () => false,
    rateCheck: () => ({ ok: true }),
    answerDisabled: () => false,
    ...over,
  };
}

function run(inputs: Input[], c = ctx(), start: State = { tag: 'idle' }) {
  let state = start;
  const effects: Effect[] = [];
  for (const input of inputs) {
    const step = transition(state, input, c);
    state = step.state ?? state;
    effects.push(...step.effects);
  }
  return { state, effects };
}

const toSecret: Input[] = [
  { type: 'ring', count: 1, callerId: '5550000', now: 1, callId: 'c1' },
  { type: 'answered', result: { kind: 'connect', text: 'CONNECT 33600', speed: 33600 } },
  { type: 'timeout' },
  { type: 'line', text: 'alice' },
];
const answer = (result: AuthResult, localOk?: boolean): Input => ({ type: 'radius-answer', result, localOk });
const writes = (effects: Effect[]) => effects.flatMap((e) => (e.do === 'write' ? [e.text] : [])).join('');
const failures = (effects: Effect[]) => effects.filter((e) => e.do === 'failure');

describe('session machine: logins decided by RADIUS', () => {
  it('asks RADIUS at the secret step, with a deadline for the answer', () => {
    const { state, effects } = run([...toSecret, { type: 'line', text: '1234' }]);
    expect(state.tag).toBe('verifying');
    expect(effects).toContainEqual({
      do: 'radius-auth',
      name: 'alice',
      secret: '1234',
      leg: 1,
      hash: undefined,
    });
    // one server, 2 retries of 2 s, and a second to spare
    expect(effects.at(-1)).toEqual({ do: 'timer', ms: 7_000 });
    expect(effects.some((e) => e.do === 'verify')).toBe(false);
  });

  it('asks a secret even for a PIN-less local entry: RADIUS decides', () => {
    const { state } = run([...toSecret.slice(0, 3), { type: 'line', text: 'office' }]);
    expect(state).toMatchObject({ tag: 'login', step: 'secret' });
  });

  it('calls back the Callback-Number of an Access-Accept, showing its Reply-Message', () => {
    const accept: AuthResult = {
      kind: 'accept',
      serviceType: 'callback-framed',
      callbackNumber: '0301234567',
      replyMessage: 'hello',
    };
    const { state, effects } = run([...toSecret, { type: 'line', text: '1234' }, answer(accept)]);
    expect(state).toMatchObject({ tag: 'announcing', number: '0301234567' });
    expect(state.tag === 'announcing' && state.call.logins).toEqual(['alice']);
    expect(state.tag === 'announcing' && state.call.radiusUser).toBe('alice');
    expect(writes(effects)).toContain('hello');
    expect(effects).toContainEqual({ do: 'success', keys: ['name:alice', 'cid:5550000'] });
  });

  it('calls back as the local entry a Callback-Id names', () => {
    const accept: AuthResult = { kind: 'accept', serviceType: 'callback-framed', callbackId: 'office' };
    const { state } = run([...toSecret, { type: 'line', text: '1234' }, answer(accept)]);
    expect(state).toMatchObject({ tag: 'announcing', number: '777', entry: { name: 'office' } });
  });

  it('starts pppd with Framed-IP-Address, Session-Timeout and Idle-Timeout on the second leg', () => {
    const leg2: State = {
      tag: 'login',
      call: {
        callId: 'c1',
        startedAt: 1,
        logins: ['alice'],
        callback: { entry: 'x', number: '1', attempts: 1 },
      },
      phase: 2,
      step: 'name',
      failures: 0,
      clock: { deadline: 60_000, warned: false },
    };
    const accept: AuthResult = {
      kind: 'accept',
      serviceType: 'framed',
      framedIp: '192.168.1.20',
      sessionTimeout: 3600,
      idleTimeout: 900,
    };
    const { state, effects } = run(
      [{ type: 'line', text: 'bob' }, { type: 'line', text: 'pw' }, answer(accept)],
      ctx(),
      leg2,
    );
    expect(effects).toContainEqual(expect.objectContaining({ do: 'radius-auth', leg: 2, name: 'bob' }));
    expect(state.tag).toBe('ppp');
    expect(effects).toContainEqual({
      do: 'ppp',
      user: { name: 'bob', passwordHash: '', remoteAddress: '192.168.1.20' },
      autoPpp: false,
      pppdOptions: ['maxconnect', '3600', 'idle', '900'],
    });
  });

  it('refuses an Access-Reject like a wrong local secret: same words, counted', () => {
    const local = run(
      [...toSecret, { type: 'line', text: '1234' }, { type: 'verified', ok: false }],
      ctx({}, undefined as never),
    );
    const { effects } = run([...toSecret, { type: 'line', text: '1234' }, answer({ kind: 'reject' })]);
    expect(writes(effects.slice(-6))).toContain('Login incorrect');
    expect(failures(effects)).toEqual(failures(local.effects));
    expect(failures(effects)).toHaveLength(1);
    expect(writes(effects).split('Password: ').at(-1)).toBe(writes(local.effects).split('Password: ').at(-1));
  });

  it('refuses without counting when no server answered, with words that say so', () => {
    const { state, effects } = run([
      ...toSecret,
      { type: 'line', text: '1234' },
      answer({ kind: 'unavailable' }),
    ]);
    expect(state).toMatchObject({ tag: 'login', step: 'name', failures: 1 });
    expect(writes(effects)).toContain(RADIUS_UNAVAILABLE);
    expect(failures(effects)).toHaveLength(0);
  });

  it('refuses when the answer is overdue (the state keeps a deadline)', () => {
    const { state, effects } = run([...toSecret, { type: 'line', text: '1234' }, { type: 'timeout' }]);
    expect(state).toMatchObject({ tag: 'login', step: 'name' });
    expect(writes(effects)).toContain(RADIUS_UNAVAILABLE);
  });

  it('lets the local check decide when no server answered and local_fallback = "unavailable"', () => {
    const c = ctx({}, testRadiusConfig({ localFallback: 'unavailable' }));
    const ok = run(
      [
        ...toSecret.slice(0, 3),
        { type: 'line', text: 'office' },
        { type: 'line', text: 'x' },
        answer({ kind: 'unavailable' }, true),
      ],
      c,
    );
    expect(ok.state).toMatchObject({ tag: 'announcing', number: '777' });
    // An Access-Reject is final even then.
    const rej = run(
      [
        ...toSecret.slice(0, 3),
        { type: 'line', text: 'office' },
        { type: 'line', text: 'x' },
        answer({ kind: 'reject' }, true),
      ],
      c,
    );
    expect(rej.state).toMatchObject({ tag: 'login', step: 'name' });
  });

  it('does not ask RADIUS for a locked-out caller', () => {
    // Locked once the name was typed (the ring from a locked caller is not even answered).
    const atSecret = run(toSecret).state;
    const { effects } = run([{ type: 'line', text: '1234' }], ctx({ isLocked: () => true }), atSecret);
    expect(effects.some((e) => e.do === 'radius-auth')).toBe(false);
    expect(effects).toContainEqual({ do: 'verify', hash: undefined, secret: '1234' });
  });
});
