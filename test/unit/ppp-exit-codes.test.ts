import { describe, expect, it } from 'vitest';
import { pppdOutcome, PPPD_EXIT_CODES } from '../../src/ppp/exit-codes.js';

describe('pppdOutcome', () => {
  it('knows every pppd exit code 0..21', () => {
    expect([...PPPD_EXIT_CODES].sort((a, b) => a - b)).toEqual(Array.from({ length: 22 }, (_, i) => i));
    const outcomes = PPPD_EXIT_CODES.map((c) => pppdOutcome(c, null).outcome);
    expect(new Set(outcomes).size).toBe(outcomes.length);
    expect(outcomes).not.toContain('unknown-exit');
  });

  it.each([
    [0, 'ok', 'User-Request'],
    [5, 'stopped', 'User-Request'],
    [6, 'lock-failed', 'Port-Error'],
    [4, 'no-kernel-ppp', 'NAS-Error'],
    [8, 'connect-failed', 'Lost-Carrier'],
    [10, 'negotiation-failed', 'Service-Unavailable'],
    [11, 'peer-auth-failed', 'Service-Unavailable'],
    [12, 'idle-timeout', 'Idle-Timeout'],
    [13, 'connect-time-limit', 'Session-Timeout'],
    [14, 'callback', 'Callback'],
    [15, 'peer-dead', 'Lost-Carrier'],
    [16, 'hangup', 'Lost-Carrier'],
    [19, 'auth-to-peer-failed', 'Service-Unavailable'],
  ])('code %i is %s / %s (as the RADIUS plugin maps it)', (code, outcome, cause) => {
    const o = pppdOutcome(code, null);
    expect(o.outcome).toBe(outcome);
    expect(o.terminateCause).toBe(cause);
    expect(o.description.length).toBeGreaterThan(5);
  });

  it('maps signals and unknown codes without throwing', () => {
    expect(pppdOutcome(null, 'SIGKILL')).toMatchObject({ outcome: 'killed', terminateCause: 'Admin-Reset' });
    expect(pppdOutcome(null, 'SIGSEGV')).toMatchObject({ outcome: 'crashed', terminateCause: 'NAS-Error' });
    expect(pppdOutcome(99, null)).toMatchObject({ outcome: 'unknown-exit', terminateCause: 'NAS-Error' });
    expect(pppdOutcome(99, null).description).toContain('99');
  });

  it("follows pppd's log when a hang-up overwrote the peer-auth-failed status", () => {
    const log =
      'rcvd [PAP AuthReq id=0x1 user="pppuser" password=<hidden>]\nPAP peer authentication failed for pppuser\nModem hangup\n';
    expect(pppdOutcome(16, null, log)).toMatchObject({
      outcome: 'peer-auth-failed',
      terminateCause: 'Service-Unavailable',
    });
    expect(pppdOutcome(16, null, log).description).toContain('exited 16');
    expect(pppdOutcome(5, null, 'Peer "bob" failed CHAP authentication').outcome).toBe('peer-auth-failed');
    // Only 5 and 16 are refined; other codes and clean logs keep their own meaning.
    expect(pppdOutcome(16, null, 'Modem hangup').outcome).toBe('hangup');
    expect(pppdOutcome(0, null, log).outcome).toBe('ok');
    expect(pppdOutcome(16, null).outcome).toBe('hangup');
  });

  it('returns a copy, so callers cannot change the table', () => {
    const o = pppdOutcome(0, null);
    o.outcome = 'crashed';
    expect(pppdOutcome(0, null).outcome).toBe('ok');
  });
});
