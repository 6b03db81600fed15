import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isCallbackdError } from '../../src/errors.js';
import { MAX_LINE, type RingEvent } from '../../src/modem/index.js';
import { FAST_TIMING } from '../../src/timing.js';
import { res, scripted, settle } from './modem-helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('command', () => {
  it('returns the final result and info lines, skipping the echo', async () => {
    const { modem, commands } = scripted((c) =>
      c === 'ATI3' ? `ATI3\r${res('56000 Modem')}${res('OK')}` : undefined,
    );
    const r = await modem.command('ATI3');
    expect(r).toEqual({ result: 'OK', lines: ['56000 Modem'], text: 'OK' });
    expect(commands).toEqual(['ATI3']);
  });

  it('works with echo off and numeric (V0) results', async () => {
    const { modem } = scripted((c) => (c === 'ATV0' ? '0\r' : c === 'ATX' ? '4\r' : undefined));
    expect((await modem.command('ATV0')).result).toBe('OK');
    expect((await modem.command('ATX')).result).toBe('ERROR');
  });

  it('returns ERROR as a result, not an exception', async () => {
    const { modem } = scripted(() => res('ERROR'));
    expect((await modem.command('AT&Q99')).result).toBe('ERROR');
  });

  it('throws MODEM_TIMEOUT when no result comes', async () => {
    const { modem } = scripted(() => undefined);
    const err = await settle(modem.command('AT', { timeoutMs: 500 }), 501);
    expect(isCallbackdError(err, 'MODEM_TIMEOUT')).toBe(true);
    expect((err as Error).message).toMatch(/AT/);
  });

  it('runs one command at a time: the second is written only after the first result', async () => {
    const { t, modem, commands } = scripted(() => undefined);
    const first = modem.command('ATA1');
    const second = modem.command('ATB2');
    await vi.advanceTimersByTimeAsync(10);
    expect(commands).toEqual(['ATA1']);
    t.peer.write(res('OK'));
    await vi.advanceTimersByTimeAsync(0);
    expect(commands).toEqual(['ATA1', 'ATB2']);
    t.peer.write(res('ERROR'));
    expect((await first).result).toBe('OK');
    expect((await second).result).toBe('ERROR');
  });

  it('a failed command does not block the queue', async () => {
    const { modem } = scripted((c) => (c === 'AT' ? res('OK') : undefined));
    const dead = settle(modem.command('ATDEAD', { timeoutMs: 100 }), 200);
    expect(isCallbackdError(await dead, 'MODEM_TIMEOUT')).toBe(true);
    expect((await modem.command('AT')).result).toBe('OK');
  });

  it('keeps unsolicited RING out of a command result', async () => {
    const { t, modem } = scripted(() => undefined);
    const rings: RingEvent[] = [];
    modem.onRing((r) => rings.push(r));
    const p = modem.command('AT');
    await vi.advanceTimersByTimeAsync(0);
    t.peer.write(res('RING'));
    t.peer.write(res('OK'));
    expect((await p).result).toBe('OK');
    expect(rings).toHaveLength(1);
  });

  it('rejects the pending command when the device goes away or the modem is disposed', async () => {
    const a = scripted(() => undefined);
    const p = a.modem.command('AT').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(0);
    a.t.simulateGone();
    expect(isCallbackdError(await p, 'DEVICE_GONE')).toBe(true);

    const b = scripted(() => undefined);
    const q = b.modem.command('AT').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(0);
    b.modem.dispose();
    expect(isCallbackdError(await q, 'LINE_CLOSED')).toBe(true);
    await expect(b.modem.command('AT')).rejects.toMatchObject({ code: 'LINE_CLOSED' });
  });
});

describe('chat and init', () => {
  const MGETTY_INIT = '"" \\dATQ0V1H0 OK ATS0=0Q0&D3&C1 OK';

  it('runs the mgetty default init, pausing for \\d first', async () => {
    const { t, modem, commands } = scripted((c) => `${c}\r${res('OK')}`);
    const p = modem.init(MGETTY_INIT);
    await vi.advanceTimersByTimeAsync(FAST_TIMING.chatPauseMs - 1);
    expect(t.written).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(commands).toEqual(['ATQ0V1H0', 'ATS0=0Q0&D3&C1']);
  });

  it('names the failing step on ERROR', async () => {
    const { modem } = scripted((c) => (c.startsWith('ATS0') ? res('ERROR') : res('OK')));
    const err = await settle(modem.runChat(MGETTY_INIT));
    expect(err).toMatchObject({ code: 'MODEM_ERROR' });
    expect((err as Error).message).toMatch(/expected OK after ATS0=0Q0&D3&C1, modem said ERROR/);
  });

  it('names the failing step on timeout', async () => {
    const { modem } = scripted((c) => (c.startsWith('ATS0') ? undefined : res('OK')));
    const err = await settle(modem.runChat(MGETTY_INIT));
    expect(err).toMatchObject({ code: 'MODEM_TIMEOUT' });
    expect((err as Error).message).toMatch(/no OK after ATS0=0Q0&D3&C1/);
  });

  it('recovers a modem stuck in data mode: DLE ETX, +++, ATQ0V1H0, script again', async () => {
    let awake = false;
    const { t, modem, commands } = scripted((c) => {
      if (c === '+++') {
        awake = true;
        return res('OK');
      }
      return awake ? res('OK') : undefined;
    });
    await settle(modem.init(MGETTY_INIT));
    expect(t.writtenText).toContain('ATQ0V1H0\r\x10\x03+++');
    // First try, the escape, the quiet-mode reset, then the whole script again.
    expect(commands).toEqual(['ATQ0V1H0', '+++', 'ATQ0V1H0', 'ATQ0V1H0', 'ATS0=0Q0&D3&C1']);
  });

  it('gives MODEM_NO_RESPONSE when the modem stays silent', async () => {
    const { modem } = scripted(() => undefined);
    const err = await settle(modem.init(MGETTY_INIT));
    expect(err).toMatchObject({ code: 'MODEM_NO_RESPONSE' });
  });

  it('passes MODEM_ERROR through without the fallback (the modem answers; the script is wrong)', async () => {
    const { t, modem } = scripted(() => res('ERROR'));
    const err = await settle(modem.init('"" AT&BOGUS OK'));
    expect(err).toMatchObject({ code: 'MODEM_ERROR' });
    expect(t.writtenText).not.toContain('+++');
  });

  it('reset holds DTR low for dtrLowMs, then runs init', async () => {
    const { t, modem, commands } = scripted(() => res('OK'));
    const p = modem.reset('"" ATZ OK');
    await vi.advanceTimersByTimeAsync(0);
    expect(t.dtrHistory).toEqual([false]);
    expect(commands).toEqual([]);
    await vi.advanceTimersByTimeAsync(FAST_TIMING.dtrLowMs);
    await p;
    expect(t.dtrHistory).toEqual([false, true]);
    expect(commands).toEqual(['ATZ']);
  });

  it('leaves no timer running while idle after init', async () => {
    const { modem } = scripted(() => res('OK'));
    await settle(modem.init('"" ATZ OK'));
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('idle line: RING, caller ID, junk', () => {
  it('counts RINGs of one call and starts again after ringGapMs', async () => {
    const { t, modem } = scripted(() => undefined);
    const rings: RingEvent[] = [];
    modem.onRing((r) => rings.push(r));
    t.peer.write(res('RING'));
    await vi.advanceTimersByTimeAsync(FAST_TIMING.ringGapMs - 100);
    t.peer.write(res('RING'));
    await vi.advanceTimersByTimeAsync(FAST_TIMING.ringGapMs + 1);
    t.peer.write(res('RING'));
    expect(rings.map((r) => r.count)).toEqual([1, 2, 1]);
  });

  it('reports caller ID sent between RINGs, and forgets it for the next call', async () => {
    const { t, modem } = scripted(() => undefined);
    const rings: RingEvent[] = [];
    modem.onRing((r) => rings.push(r));
    t.peer.write(
      res('RING') + res('DATE = 1124') + res('TIME = 1030') + res('NMBR = 5551234') + res('NAME = ALICE'),
    );
    t.peer.write(res('RING'));
    await vi.advanceTimersByTimeAsync(FAST_TIMING.ringGapMs + 1);
    t.peer.write(res('RING'));
    expect(rings).toEqual([
      { count: 1 },
      { count: 2, callerId: '5551234', callerName: 'ALICE' },
      { count: 1 },
    ]);
  });

  it('takes the number from RING;<number> and +CLIP, and marks withheld numbers', () => {
    const { t, modem } = scripted(() => undefined);
    const rings: RingEvent[] = [];
    modem.onRing((r) => rings.push(r));
    t.peer.write(res('RING;0891234;'));
    expect(rings.at(-1)).toEqual({ count: 1, callerId: '0891234' });
    t.peer.write(res('+CLIP: "5550000",129') + res('RING'));
    expect(rings.at(-1)).toEqual({ count: 2, callerId: '5550000' });
    const b = scripted(() => undefined);
    const r2: RingEvent[] = [];
    b.modem.onRing((r) => r2.push(r));
    b.t.peer.write(res('NMBR = P') + res('RING'));
    expect(r2).toEqual([{ count: 1, callerIdWithheld: 'private' }]);
  });

  it('counts numeric RINGs (V0)', () => {
    const { t, modem } = scripted(() => undefined);
    const rings: RingEvent[] = [];
    modem.onRing((r) => rings.push(r));
    t.peer.write('2\r2\r');
    expect(rings.map((r) => r.count)).toEqual([1, 2]);
  });

  it('reports junk on an idle line and caps overlong lines', () => {
    const { t, modem } = scripted(() => undefined);
    const junk: string[] = [];
    modem.onJunk((l) => junk.push(l));
    t.peer.write('\r\nhello there\r\n');
    t.peer.write('x'.repeat(10_000));
    t.peer.write('y'.repeat(10_000) + '\r\nOK\r\n');
    expect(junk[0]).toBe('hello there');
    expect(junk).toHaveLength(3); // the overlong line once (start only), then a stray OK
    expect(junk[1]!.length).toBeLessThanOrEqual(MAX_LINE + 1);
    expect(junk[2]).toBe('OK');
  });

  it('does not treat CID or blank lines as junk', () => {
    const { t, modem } = scripted(() => undefined);
    const junk: string[] = [];
    modem.onJunk((l) => junk.push(l));
    t.peer.write('\r\n\r\nNMBR = 123\r\nDATE = 0101\r\n');
    expect(junk).toEqual([]);
  });

  it('takes the NO CARRIER that follows a hang-up as the end of the call, not junk', () => {
    const { t, modem } = scripted(() => undefined);
    const junk: string[] = [];
    modem.onJunk((l) => junk.push(l));
    t.peer.write('\r\nNO CARRIER\r\n3\r');
    expect(junk).toEqual([]);
  });
});
