import { describe, expect, it } from 'vitest';
import type { CallbackEntry, PppUser } from '../../src/config/types.js';
import { asksSecret, identify, nameClashes, secretHashFor } from '../../src/policy/identify.js';

const rules = { allow: [], deny: [], minLength: 3, maxLength: 15, modifiers: '' };
function entry(name: string, extra: Partial<CallbackEntry> = {}): CallbackEntry {
  return {
    name,
    callerSupplies: false,
    number: '5551234',
    rules,
    callerId: [],
    delayMs: 1000,
    attempts: 3,
    retryDelayMs: 1000,
    dialLines: [],
    ...extra,
  };
}
const alice: PppUser = { name: 'alice', passwordHash: 'scrypt$alice' };
const cfg = {
  callbacks: [entry('call'), entry('callpin', { pinHash: 'scrypt$pin' })],
  pppUsers: [alice],
};

describe('identify', () => {
  it('finds call-back entries, PPP users, and reports unknown names', () => {
    expect(identify(cfg, 'call')).toEqual({ kind: 'callback', entry: cfg.callbacks[0] });
    expect(identify(cfg, 'alice')).toEqual({ kind: 'ppp', user: alice });
    expect(identify(cfg, 'mallory')).toEqual({ kind: 'unknown', name: 'mallory' });
  });

  it('compares names exactly', () => {
    expect(identify(cfg, 'Alice').kind).toBe('unknown');
    expect(identify(cfg, 'call ').kind).toBe('unknown');
    expect(identify(cfg, '').kind).toBe('unknown');
  });

  it('prefers the call-back entry when a name is both', () => {
    const both = { callbacks: [entry('alice')], pppUsers: [alice] };
    expect(identify(both, 'alice').kind).toBe('callback');
    expect(nameClashes(both)).toEqual(['alice']);
    expect(nameClashes(cfg)).toEqual([]);
  });
});

describe('secretHashFor / asksSecret', () => {
  it('gives the PIN hash, the password hash, or nothing for unknown names', () => {
    expect(secretHashFor(identify(cfg, 'callpin'))).toBe('scrypt$pin');
    expect(secretHashFor(identify(cfg, 'call'))).toBeUndefined();
    expect(secretHashFor(identify(cfg, 'alice'))).toBe('scrypt$alice');
    expect(secretHashFor(identify(cfg, 'nobody'))).toBeUndefined();
  });

  it('asks unknown names for a secret too, and skips it only for PIN-less call-back entries', () => {
    expect(asksSecret(identify(cfg, 'nobody'))).toBe(true);
    expect(asksSecret(identify(cfg, 'alice'))).toBe(true);
    expect(asksSecret(identify(cfg, 'callpin'))).toBe(true);
    expect(asksSecret(identify(cfg, 'call'))).toBe(false);
  });
});
