import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FAST_TIMING } from '../../src/timing.js';
import { HUPCL_LOW_MIN_MS } from '../../src/modem/modem.js';
import { res, scripted, settle } from './modem-helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('answer', () => {
  it('goes online on CONNECT, with speed; bytes in the same chunk reach onData', async () => {
    const { modem, commands } = scripted((c) =>
      c === 'ATA' ? `${res('CONNECT 33600/ARQ')}hello` : undefined,
    );
    const r = await modem.answer();
    expect(r).toEqual({ kind: 'connect', speed: 33600, text: 'CONNECT 33600/ARQ' });
    expect(commands).toEqual(['ATA']);
    expect(modem.online).toBe(true);
    const got: string[] = [];
    modem.onData((b) => got.push(b.toString('latin1')));
    await vi.advanceTimersByTimeAsync(0);
    expect(got.join('')).toBe('hello');
  });

  it.each([
    ['NO CARRIER', 'no-carrier'],
    ['ERROR', 'error'],
  ])('%s -> %s', async (reply, kind) => {
    const { modem } = scripted(() => res(reply));
    expect(await modem.answer()).toEqual({ kind });
    expect(modem.online).toBe(false);
  });

  it('times out after answerMs', async () => {
    const { modem } = scripted(() => undefined);
    const p = modem.answer();
    let done = false;
    void p.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(FAST_TIMING.answerMs - 1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await p).toEqual({ kind: 'timeout' });
  });
});

describe('dial', () => {
  it('uses the configured prefix and connects', async () => {
    const { t, modem } = scripted(() => res('CONNECT 28800'));
    const m2 = new (modem.constructor as typeof import('../../src/modem/index.js').Modem)(t, {
      timing: FAST_TIMING,
      log: (await import('../../src/log.js')).silentLogger(),
      line: 'x',
      dialPrefix: 'ATDT',
    });
    modem.dispose();
    expect(await m2.dial('0,5551234')).toEqual({ kind: 'connect', speed: 28800, text: 'CONNECT 28800' });
    expect(t.writtenText).toBe('ATDT0,5551234\r');
  });

  it.each([
    ['BUSY', 'busy'],
    ['NO ANSWER', 'no-answer'],
    ['NO DIALTONE', 'no-dialtone'],
    ['NO CARRIER', 'no-carrier'],
    ['ERROR', 'error'],
    ['7', 'busy'],
  ])('%s -> %s', async (reply, kind) => {
    const { modem, commands } = scripted(() => res(reply));
    expect(await modem.dial('5551234')).toEqual({ kind });
    expect(commands).toEqual(['ATD5551234']);
  });

  it('times out after dialMs', async () => {
    const { modem } = scripted(() => undefined);
    expect(await settle(modem.dial('123'), FAST_TIMING.dialMs)).toEqual({ kind: 'timeout' });
  });

  it.each(['555;ATH', '555\r', '', '12 34', '555&F', '555"', '49+1', '555P1'])(
    'refuses %j without writing',
    async (bad) => {
      const { t, modem } = scripted(() => res('OK'));
      await expect(modem.dial(bad)).rejects.toMatchObject({ code: 'NUMBER_REJECTED' });
      expect(t.written).toHaveLength(0);
    },
  );

  it('accepts the dial modifiers , W * # + (the policy rule, dialStringProblem)', async () => {
    const { modem, commands } = scripted(() => res('BUSY'));
    await modem.dial('+49,W*31#91');
    expect(commands).toEqual(['ATD+49,W*31#91']);
  });
});

describe('online', () => {
  async function online() {
    const s = scripted((c) =>
      c === 'ATA' ? res('CONNECT 9600') : c === 'AT' ? res('OK') : c === 'ATH0' ? res('OK') : undefined,
    );
    await s.modem.answer();
    return s;
  }

  it('passes raw bytes through and writes raw bytes', async () => {
    const { t, modem } = await online();
    const got: Buffer[] = [];
    modem.onData((b) => got.push(b));
    t.peer.write(Buffer.from([0x7e, 0xff, 0x03, 0xc0, 0x21]));
    expect(Buffer.concat(got)).toEqual(Buffer.from([0x7e, 0xff, 0x03, 0xc0, 0x21]));
    t.clearWritten();
    await modem.write('login: ');
    expect(t.writtenText).toBe('login: ');
  });

  it('sees NO CARRIER in the data stream, even split across chunks', async () => {
    const { t, modem } = await online();
    const lost = vi.fn();
    modem.onCarrierLost(lost);
    t.peer.write('user\r\nNO CAR');
    expect(lost).not.toHaveBeenCalled();
    t.peer.write('RIER\r\n');
    expect(lost).toHaveBeenCalledOnce();
    expect(modem.online).toBe(false);
  });

  it('does not mistake typed text for NO CARRIER', async () => {
    const { t, modem } = await online();
    const lost = vi.fn();
    modem.onCarrierLost(lost);
    t.peer.write('my name is NO CARRIER\r');
    expect(lost).not.toHaveBeenCalled();
  });

  it('sees a DCD drop when the transport reports it', async () => {
    const { t, modem } = await online();
    t.carrier = true;
    const lost = vi.fn();
    modem.onCarrierLost(lost);
    t.carrier = false;
    expect(lost).toHaveBeenCalledOnce();
  });

  it('reads DCD during a call on a line that does not report it, and only then', async () => {
    const s = scripted((c) => (c === 'ATA' ? res('CONNECT 9600') : undefined));
    s.t.carrierEvents = false;
    s.t.carrier = true;
    const reads = vi.spyOn(s.t, 'getCarrier');
    await vi.advanceTimersByTimeAsync(FAST_TIMING.carrierPollMs * 5);
    expect(reads).not.toHaveBeenCalled(); // idle: no timer at all
    const lost = vi.fn();
    s.modem.onCarrierLost(lost);
    await s.modem.answer();
    await vi.advanceTimersByTimeAsync(FAST_TIMING.carrierPollMs * 3);
    expect(reads.mock.calls.length).toBeGreaterThanOrEqual(2);
    expect(lost).not.toHaveBeenCalled();
    s.t.carrier = false;
    await vi.advanceTimersByTimeAsync(FAST_TIMING.carrierPollMs);
    expect(lost).toHaveBeenCalledOnce();
    const after = reads.mock.calls.length;
    await vi.advanceTimersByTimeAsync(FAST_TIMING.carrierPollMs * 5);
    expect(reads.mock.calls.length).toBe(after); // offline again: polling stopped
  });

  it('stops reading DCD on a line that cannot tell', async () => {
    const s = scripted((c) => (c === 'ATA' ? res('CONNECT 9600') : undefined));
    s.t.carrierEvents = false;
    s.t.carrierKnown = false;
    const reads = vi.spyOn(s.t, 'getCarrier');
    await s.modem.answer();
    await vi.advanceTimersByTimeAsync(FAST_TIMING.carrierPollMs * 5);
    expect(reads).toHaveBeenCalledOnce();
    expect(s.modem.online).toBe(true);
  });

  it('refuses AT commands while online', async () => {
    const { modem } = await online();
    await expect(modem.command('AT')).rejects.toMatchObject({ code: 'MODEM_BUSY' });
  });
});

describe('hangup', () => {
  it('drops DTR for dtrLowMs and verifies with AT', async () => {
    const { t, modem, commands } = scripted((c) =>
      c === 'ATA' ? res('CONNECT') : c === 'AT' ? res('OK') : undefined,
    );
    await modem.answer();
    const p = modem.hangup();
    await vi.advanceTimersByTimeAsync(FAST_TIMING.dtrLowMs - 1);
    expect(t.dtrHistory).toEqual([false]);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(t.dtrHistory).toEqual([false, true]);
    expect(commands).toEqual(['ATA', 'AT']);
    expect(modem.online).toBe(false);
  });

  it('ignores the NO CARRIER of the call it just dropped', async () => {
    let first = true;
    const { modem, commands } = scripted((c) => {
      if (c === 'ATA') return res('CONNECT');
      if (c === 'AT' && first) {
        first = false;
        return res('NO CARRIER');
      }
      return res('OK');
    });
    await modem.answer();
    await settle(modem.hangup());
    expect(commands).toEqual(['ATA', 'AT', 'AT']);
  });

  /** A modem that answers, then ignores everything (DTR included) until the +++ escape. */
  const deafUntilEscaped = () => {
    let escaped = false;
    return scripted((c) => {
      if (c === 'ATA') return res('CONNECT');
      if (c === '+++') {
        escaped = true;
        return res('OK');
      }
      return escaped ? res('OK') : undefined;
    });
  };

  it('falls back to +++ with guard times and ATH0 when DTR does nothing', async () => {
    const { t, modem, commands } = deafUntilEscaped();
    await modem.answer();
    const p = modem.hangup();
    const written = () => t.writtenText;
    await vi.advanceTimersByTimeAsync(
      FAST_TIMING.dtrLowMs + FAST_TIMING.commandMs + FAST_TIMING.escapeGuardMs - 1,
    );
    expect(written()).not.toContain('+++');
    await vi.advanceTimersByTimeAsync(1);
    expect(written()).toContain('+++');
    expect(await p).toBeUndefined();
    expect(commands).toEqual(['ATA', 'AT', '+++', 'ATH0']);
  });

  it('on a line without DTR: closing the tty hangs up (HUPCL); reopened after the DTR low time, ATH0, no escape', async () => {
    // A modem that hangs up when its DTE closes the tty, and ignores commands while online.
    let online = false;
    const { t, modem, commands } = scripted((c) => {
      if (c === 'ATA') {
        online = true;
        return res('CONNECT');
      }
      return online ? undefined : res('OK');
    });
    t.onClose(() => (online = false));
    t.dtrControl = false;
    await modem.answer();
    const p = modem.hangup();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.closeCount).toBe(1);
    expect(t.isOpen).toBe(false);
    const lowMs = Math.max(FAST_TIMING.dtrLowMs, HUPCL_LOW_MIN_MS);
    await vi.advanceTimersByTimeAsync(lowMs - 1);
    expect(t.isOpen).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await p).toBeUndefined();
    expect(t.isOpen).toBe(true);
    expect(commands).toEqual(['ATA', 'ATH0']);
    expect(t.writtenText).not.toContain('+++');
    expect(t.dtrHistory).toEqual([]);
    expect(modem.online).toBe(false);
  });

  it('on a line without DTR whose modem stays online after the close: ATH0 goes unanswered, then the escape and ATH0', async () => {
    const { t, modem, commands } = deafUntilEscaped();
    t.dtrControl = false;
    await modem.answer();
    const p = modem.hangup();
    const lowMs = Math.max(FAST_TIMING.dtrLowMs, HUPCL_LOW_MIN_MS);
    await vi.advanceTimersByTimeAsync(lowMs + FAST_TIMING.commandMs + FAST_TIMING.escapeGuardMs - 1);
    expect(t.writtenText).not.toContain('+++');
    await vi.advanceTimersByTimeAsync(1);
    expect(t.writtenText).toContain('+++');
    expect(await p).toBeUndefined();
    expect(commands).toEqual(['ATA', 'ATH0', '+++', 'ATH0']);
    expect(t.closeCount).toBe(1);
    expect(t.dtrHistory).toEqual([]);
    expect(modem.online).toBe(false);
  });

  it('on a line without DTR that is not online: ATH0 only', async () => {
    const { t, modem, commands } = scripted(() => res('OK'));
    t.dtrControl = false;
    expect(await settle(modem.hangup())).toBeUndefined();
    expect(commands).toEqual(['ATH0']);
  });

  it('throws MODEM_NO_RESPONSE when nothing works', async () => {
    const { modem } = scripted((c) => (c === 'ATA' ? res('CONNECT') : undefined));
    await modem.answer();
    expect(await settle(modem.hangup())).toMatchObject({ code: 'MODEM_NO_RESPONSE' });
  });
});

describe('a tty that never takes the bytes', () => {
  it('a command whose write never completes ends with MODEM_TIMEOUT, not never', async () => {
    const { t, modem } = scripted(() => res('OK'));
    t.hangWrites = true;
    const r = await settle(modem.command('AT'), FAST_TIMING.commandMs + 10_000);
    expect(r).toMatchObject({ code: 'MODEM_TIMEOUT' });
  });
});

describe('health check', () => {
  it('AT -> OK is healthy; two silent tries are not', async () => {
    const ok = scripted(() => res('OK'));
    expect(await ok.modem.healthCheck()).toBe(true);
    const silent = scripted(() => undefined);
    expect(await settle(silent.modem.healthCheck())).toBe(false);
    expect(silent.commands).toEqual(['AT', 'AT']);
  });
});
