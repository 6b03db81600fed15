import { describe, expect, it } from 'vitest';
import { cleanReplyMessage, decide, radiusEntry, type DecideContext } from '../../src/radius/decide.js';
import { testEntry } from '../helpers/config.js';

const roam = testEntry({
  name: 'roam',
  number: undefined,
  callerSupplies: true,
  rules: { allow: ['0'], deny: [], minLength: 3, maxLength: 20, modifiers: '' },
});
const office = testEntry({ name: 'office', number: '5550001', delayMs: 5000, dialLines: ['out'] });
const ctx: DecideContext = {
  leg: 1,
  name: 'alice',
  callbacks: [roam, office],
  localFallback: 'never',
  pppOnFirstLeg: false,
};

describe('decide: what a RADIUS answer means for the login', () => {
  it('calls back a Callback-Number with default delays, under the login name', () => {
    expect(
      decide(
        { kind: 'accept', serviceType: 'callback-framed', callbackNumber: '123456', replyMessage: 'Hi' },
        ctx,
      ),
    ).toEqual({
      kind: 'callback',
      entry: radiusEntry('alice', '123456'),
      number: '123456',
      replyMessage: 'Hi',
    });
  });

  it('uses a Callback-Id entry: its number, or the caller types one under its rules', () => {
    expect(decide({ kind: 'accept', serviceType: 'callback-framed', callbackId: 'office' }, ctx)).toEqual({
      kind: 'callback',
      entry: office,
      number: '5550001',
    });
    expect(decide({ kind: 'accept', serviceType: 'callback-framed', callbackId: 'roam' }, ctx)).toEqual({
      kind: 'callback',
      entry: roam,
    });
    // Callback-Number with Callback-Id: the number from RADIUS, delays and lines from the entry.
    const both = decide(
      { kind: 'accept', serviceType: 'callback-framed', callbackId: 'office', callbackNumber: '777' },
      ctx,
    );
    expect(both).toMatchObject({
      kind: 'callback',
      number: '777',
      entry: { delayMs: 5000, dialLines: ['out'], number: '777' },
    });
    expect(
      decide({ kind: 'accept', serviceType: 'callback-framed', callbackId: 'nowhere' }, ctx),
    ).toMatchObject({
      kind: 'refuse',
      countFailure: false,
    });
  });

  it('refuses without counting a failure when the answer is unusable or nobody answered', () => {
    expect(decide({ kind: 'accept', serviceType: 'callback-framed' }, ctx)).toMatchObject({
      kind: 'refuse',
      countFailure: false,
    });
    expect(decide({ kind: 'accept', serviceType: 'framed' }, ctx)).toMatchObject({
      kind: 'refuse',
      countFailure: false,
    });
    expect(decide({ kind: 'unavailable' }, ctx)).toMatchObject({ kind: 'refuse', countFailure: false });
    expect(decide({ kind: 'unavailable' }, { ...ctx, localFallback: 'unavailable' })).toEqual({
      kind: 'local',
    });
  });

  it('counts a Reject as a failed login, even with local fallback on', () => {
    const d = decide(
      { kind: 'reject', replyMessage: 'bad\u0007 pin\r\n' },
      { ...ctx, localFallback: 'unavailable' },
    );
    expect(d).toEqual({
      kind: 'refuse',
      countFailure: true,
      reason: 'Access-Reject',
      replyMessage: 'bad pin\n',
    });
  });

  it('starts PPP on the second leg with Framed-IP, maxconnect and idle', () => {
    expect(
      decide(
        {
          kind: 'accept',
          serviceType: 'framed',
          framedIp: '10.0.0.9',
          sessionTimeout: 3600,
          idleTimeout: 600,
        },
        { ...ctx, leg: 2, name: 'pppuser' },
      ),
    ).toEqual({
      kind: 'ppp',
      user: { name: 'pppuser', passwordHash: '', remoteAddress: '10.0.0.9' },
      pppdOptions: ['maxconnect', '3600', 'idle', '600'],
    });
  });

  it('keeps Reply-Message printable and bounded', () => {
    expect(cleanReplyMessage('\u001b[2Jx')).toBe('[2Jx');
    expect(cleanReplyMessage('a'.repeat(1000))).toHaveLength(500);
    expect(cleanReplyMessage('\u0000')).toBeUndefined();
  });
});
