import { afterEach, describe, expect, it, vi } from 'vitest';
import { Supervisor } from '../../src/daemon/supervisor.js';
import { silentLogger } from '../../src/log.js';
import { FAST_TIMING } from '../../src/timing.js';
import type { MemoryTransport } from '../../src/serial/memory-transport.js';
import { testConfig, testLine } from '../helpers/config.js';
import { res, scriptedModems, startHarness, type Harness } from './session-harness.js';

// The effect loop (LineSession + LineKeeper) on a memory transport, fake lock, fake
// policy, a pppd the test ends, and fake time: no pty, no real clock.

let h: Harness | undefined;
afterEach(async () => {
  await h?.session.abandon();
  h = undefined;
  vi.useRealTimers();
});

async function toPrompt(x: Harness): Promise<void> {
  x.ring();
  await x.advance(2_000);
  expect(x.commands).toContain('ATA');
}

describe('effect loop', () => {
  it('drops a result that arrives after its state moved on', async () => {
    h = await startHarness((c) => ({ ...c, pppd: { ...c.pppd, autoPppBeforeCallback: true } }));
    h.manualVerify = true;
    // First call: the secret is being checked when the caller hangs up.
    await toPrompt(h);
    h.type('pppuser\r');
    await h.advance(100);
    h.type('wrong\r');
    await h.advance(100);
    expect(h.states.at(-1)).toBe('verifying');
    h.modem.peer.write(res('NO CARRIER'));
    await h.advance(5_000);
    expect(h.records).toHaveLength(1);
    // Second call reaches the same state; the first call's verdict comes in late.
    await toPrompt(h);
    h.type('pppuser\r');
    await h.advance(100);
    h.type('wrong again\r');
    await h.advance(100);
    expect(h.verifies).toHaveLength(2);
    h.verifies[0]!(true);
    await h.advance(100);
    expect(h.ppp.started).toBe(0);
    h.verifies[1]!(false);
    await h.advance(100);
    expect(h.ppp.started).toBe(0);
    expect(h.tap.events.filter((e) => e.event === 'login-refused')).toHaveLength(1);
  });

  it('bounds what a caller can queue: a burst of CRs costs a few prompts', async () => {
    h = await startHarness();
    await toPrompt(h);
    const before = h.modem.written.length;
    h.type(Buffer.alloc(4096, 0x0d));
    await h.advance(100);
    const prompts =
      Buffer.concat(h.modem.written.slice(before)).toString('latin1').split('login: ').length - 1;
    expect(prompts).toBeGreaterThan(0);
    expect(prompts).toBeLessThanOrEqual(5);
    expect(h.tap.events.filter((e) => e.event === 'input-dropped')).toHaveLength(1);
  });

  it('a CR right after CONNECT keeps what the caller typed after it', async () => {
    // The HOWTO's script sends CR at CONNECT; with a short settle it reaches the prompt,
    // and the name the script sends next may share its chunk (or wait behind it).
    h = await startHarness((c) => ({ ...c, pppd: { ...c.pppd, autoPppBeforeCallback: true } }));
    await toPrompt(h);
    h.type('\rppp');
    await h.advance(100);
    h.type('user\r');
    await h.advance(100);
    h.type('secret\r');
    await h.advance(100);
    expect(h.ppp.started).toBe(1);
    expect(h.tap.events.filter((e) => e.event === 'login-refused')).toHaveLength(0);
  });

  it('what the caller sends before the prompt is dropped and holds the prompt back until quiet', async () => {
    h = await startHarness();
    const settle = FAST_TIMING.settleMs;
    h.ring();
    while (h.states.at(-1) !== 'settling') await h.advance(1);
    const before = h.modem.written.length;
    // The HOWTO's script sends an AT command meant for its own modem, then a CR.
    await h.advance(settle / 2);
    h.type('AT&C1A\r');
    await h.advance(settle - 1);
    expect(Buffer.concat(h.modem.written.slice(before)).toString('latin1')).not.toContain('login: ');
    await h.advance(1);
    expect(Buffer.concat(h.modem.written.slice(before)).toString('latin1')).toContain('login: ');
    h.type('pppuser\r');
    await h.advance(100);
    expect(h.tap.events.filter((e) => e.event === 'login-refused')).toHaveLength(0);
    expect(h.states.at(-1)).toBe('login');
  });

  it('a line cut by the prompt is dropped to its end: its tail is never taken for a name', async () => {
    // The HOWTO's script sends AT&C1A at the call-back's RING, 10 ms a character: the
    // prompt can go out between AT&C and 1A, and "1A" alone would pass for a name.
    h = await startHarness((c) => ({ ...c, pppd: { ...c.pppd, autoPppBeforeCallback: true } }));
    h.ring();
    while (h.states.at(-1) !== 'settling') await h.advance(1);
    h.type('AT&C');
    await h.advance(FAST_TIMING.settleMs + 1);
    expect(h.states.at(-1)).toBe('login');
    const before = h.modem.written.length;
    h.type('1A\r');
    await h.advance(10);
    h.type('\r');
    await h.advance(10);
    h.type('pppuser\r');
    await h.advance(100);
    h.type('secret\r');
    await h.advance(100);
    expect(Buffer.concat(h.modem.written.slice(before)).toString('latin1')).not.toContain('1A');
    expect(h.tap.events.filter((e) => e.event === 'login-refused')).toHaveLength(0);
    expect(h.ppp.started).toBe(1);
  });

  it('a PPP frame cut by the prompt: the next frame still starts PPP (a flag ends the dropped line)', async () => {
    h = await startHarness((c) => ({ ...c, pppd: { ...c.pppd, autoPppBeforeCallback: true } }));
    h.ring();
    while (h.states.at(-1) !== 'settling') await h.advance(1);
    h.type(Buffer.from([0x7e, 0xff, 0x7d, 0x23, 0xc0]));
    await h.advance(FAST_TIMING.settleMs + 1);
    expect(h.states.at(-1)).toBe('login');
    h.type(Buffer.from([0x21, 0x7d, 0x21, 0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21, 0x7d, 0x21]));
    await h.advance(100);
    expect(h.ppp.started).toBe(1);
  });

  it('says a secret check is coming at the password prompt, before the password is typed', async () => {
    h = await startHarness((c) => ({ ...c, pppd: { ...c.pppd, autoPppBeforeCallback: true } }));
    await toPrompt(h);
    expect(h.prepared).toBe(0);
    h.type('pppuser\r');
    await h.advance(100);
    expect(h.prepared).toBe(1);
    expect(h.verifies).toHaveLength(0);
    h.type('secret\r');
    await h.advance(100);
    expect(h.ppp.started).toBe(1);
  });

  it('stop while pppd runs: pppd is stopped first, one record, the line is closed', async () => {
    h = await startHarness((c) => ({ ...c, pppd: { ...c.pppd, autoPppBeforeCallback: true } }));
    await toPrompt(h);
    h.type('pppuser\r');
    await h.advance(100);
    h.type('secret\r');
    await h.advance(100);
    expect(h.ppp.started).toBe(1);
    expect(h.states.at(-1)).toBe('ppp');
    const stopped = h.session.stop();
    await h.advance(30_000);
    await stopped;
    expect(h.records).toHaveLength(1);
    expect(h.records[0]).toMatchObject({ outcome: 'ppp-stopped', pppExitCode: 5 });
    expect(h.states.at(-1)).toBe('stopped');
    expect(h.modem.isOpen).toBe(false);
  });

  it('a lock that cannot be taken back after pppd still ends the call with its record', async () => {
    h = await startHarness((c) => ({ ...c, pppd: { ...c.pppd, autoPppBeforeCallback: true } }));
    await toPrompt(h);
    h.type('pppuser\r');
    await h.advance(100);
    h.type('secret\r');
    await h.advance(100);
    h.lock.fail = 'reclaim';
    h.ppp.exit(16, 'Modem hangup\nSent 10 bytes, received 20 bytes.\n');
    await h.advance(10_000);
    expect(h.records).toHaveLength(1);
    expect(h.records[0]).toMatchObject({ outcome: 'ppp-hangup', traffic: { bytesIn: 20, bytesOut: 10 } });
    expect(h.tap.events.some((e) => e.event === 'lock-reclaim-failed')).toBe(true);
    expect(h.states.at(-1)).toBe('idle');
  });
});

describe('supervisor on memory transports', () => {
  it('two reloads that change a line and change it back open the line once more, not twice', async () => {
    vi.useFakeTimers();
    const transports: MemoryTransport[] = [];
    const base = testConfig();
    const config = { ...base, lines: [testLine({ name: 'ttyS1', device: '/dev/ttyMEM1' })] };
    const sup = new Supervisor(config, {
      log: silentLogger(),
      openTransport: scriptedModems(transports, [], {}),
      makeLock: () => ({
        acquire: async () => ({ ok: true }),
        release: () => undefined,
        handOver: () => undefined,
        reclaim: () => undefined,
      }),
      startPpp: () => Promise.reject(new Error('no pppd here')),
      accounting: { write: async () => undefined },
    });
    sup.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(transports).toHaveLength(1);
    const changed = { ...config, lines: config.lines.map((l) => ({ ...l, rings: 3 })) };
    sup.reload(changed);
    sup.reload(config);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(transports).toHaveLength(2);
    expect(transports.filter((t) => t.isOpen)).toHaveLength(1);
    expect(sup.statuses().map((s) => s.state)).toEqual(['idle']);
    const stopped = sup.stop();
    await vi.advanceTimersByTimeAsync(20_000);
    await stopped;
  });
});
