import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { Modem, type RingEvent } from '../../src/modem/index.js';
import { createSerialTransport } from '../../src/serial/index.js';
import { connectSimSignals, serveControl, type Exchange } from '../../src/sim/index.js';
import { drive, fastExchange, next, TIMING, type Driven } from './modem-helpers.js';

/**
 * The Hayes driver against the simulator's virtual modems, through real serialport on
 * pseudo-terminals. Each test gets a fresh exchange; the events it logs show what the
 * modem was told.
 */
const MGETTY_INIT = '"" \\dATQ0V1H0 OK ATS0=0Q0&D3&C1 OK';

let ex: Exchange;
const open: Driven[] = [];
beforeEach(async () => {
  ex = await fastExchange();
});
afterEach(async () => {
  for (const d of open.splice(0)) await d.close();
  await ex.close();
});

async function line(number: string, opts: Parameters<typeof drive>[1] & { callerId?: boolean } = {}) {
  const sim = await ex.addModem({ number, callerId: opts.callerId ?? false });
  const d = await drive(sim, opts);
  open.push(d);
  await d.modem.init(MGETTY_INIT);
  return { sim, ...d };
}

const commandsOf = (modem: string) =>
  ex.events.filter((e) => e.modem === modem && e.type === 'command').map((e) => e.line);

describe('modem driver on the simulator', () => {
  it('runs the mgetty init chat', async () => {
    await line('100');
    expect(commandsOf('100')).toEqual(['ATQ0V1H0', 'ATS0=0Q0&D3&C1']);
  });

  it('counts RINGs with caller ID, answers, passes data, hangs up by DTR', async () => {
    const a = await line('100', { dtr: true, callerId: true });
    const b = await line('200', { dtr: true });
    const rings: RingEvent[] = [];
    a.modem.onRing((r) => rings.push(r));
    const secondRing = next<RingEvent>(
      (fn) => a.modem.onRing(fn),
      (r) => r.count === 2,
    );
    const dialling = b.modem.dial('100');
    await secondRing;
    expect(rings).toEqual([{ count: 1 }, { count: 2, callerId: '200' }]);

    const answered = await a.modem.answer();
    expect(answered).toMatchObject({ kind: 'connect', speed: 33600 });
    expect(await dialling).toMatchObject({ kind: 'connect' });
    expect(a.modem.online && b.modem.online).toBe(true);

    const received = next<Buffer>(
      (fn) => b.modem.onData(fn),
      (d) => d.toString().includes('login:'),
    );
    await a.modem.write('\r\nlogin: ');
    await received;

    const farLost = next<void>((fn) => b.modem.onCarrierLost(fn));
    const from = ex.mark();
    await a.modem.hangup();
    await farLost;
    expect(a.modem.online).toBe(false);
    const mine = ex.events.slice(from).filter((e) => e.modem === '100');
    expect(mine.find((e) => e.type === 'dtr' && e.on === false)).toBeDefined();
    expect(mine.find((e) => e.type === 'hangup')).toMatchObject({ reason: 'dtr' });
    expect(a.sim.state).toBe('idle');
    expect(await a.modem.healthCheck()).toBe(true);
  });

  it('sees the far end hang up (NO CARRIER in the data stream)', async () => {
    const a = await line('100', { dtr: true });
    const b = await line('200', { dtr: true });
    const ring = next<RingEvent>((fn) => a.modem.onRing(fn));
    const dialling = b.modem.dial('100');
    await ring;
    await a.modem.answer();
    await dialling;
    const lost = next<void>((fn) => a.modem.onCarrierLost(fn));
    b.sim.dropCarrier();
    await lost;
    expect(a.modem.online).toBe(false);
  });

  it.each([
    ['BUSY', 'busy'],
    ['NO ANSWER', 'no-answer'],
    ['NO DIALTONE', 'no-dialtone'],
    ['NO CARRIER', 'no-carrier'],
    ['ERROR', 'error'],
  ] as const)('dial: %s -> %s', async (result, kind) => {
    const a = await line('100');
    a.sim.setFaults({ dialResult: result });
    expect(await a.modem.dial('5551234')).toEqual({ kind });
    expect(commandsOf('100')).toContain('ATD5551234');
    expect(await a.modem.healthCheck()).toBe(true);
  });

  it('dial: an engaged number gives busy, and dial times out on no result', async () => {
    const a = await line('100');
    await line('200');
    // Calling one's own line: the exchange finds it engaged (no fault involved).
    expect(await a.modem.dial('100')).toEqual({ kind: 'busy' });
    const slow = await line('300', { timing: { dialMs: 300 } });
    slow.sim.setFaults({ responseDelayMs: 2_000, dialResult: 'BUSY' });
    expect(await slow.modem.dial('200')).toEqual({ kind: 'timeout' });
  });

  it('hangs up by +++ and ATH0 when the line has no DTR', async () => {
    const a = await line('100'); // no simulator signals: setDtr is a no-op on a pty
    const b = await line('200', { dtr: true });
    const ring = next<RingEvent>((fn) => a.modem.onRing(fn));
    const dialling = b.modem.dial('100');
    await ring;
    await a.modem.answer();
    await dialling;
    const farLost = next<void>((fn) => b.modem.onCarrierLost(fn));
    await a.modem.hangup();
    await farLost;
    expect(commandsOf('100')).toContain('ATH0');
    expect(a.sim.state).toBe('idle');
    expect((await a.modem.command('AT')).result).toBe('OK');
  });

  it('on a line without DTR hangs up by closing the tty (HUPCL), not by the escape', async () => {
    const a = await line('100'); // no simulator signals: the pty alone
    const b = await line('200', { dtr: true });
    const ring = next<RingEvent>((fn) => a.modem.onRing(fn));
    const dialling = b.modem.dial('100');
    await ring;
    await a.modem.answer();
    await dialling;
    const from = ex.mark();
    const farLost = next<void>((fn) => b.modem.onCarrierLost(fn));
    await a.modem.hangup();
    await farLost;
    const mine = ex.events.slice(from).filter((e) => e.modem === '100');
    const seq = (pred: (e: (typeof mine)[number]) => boolean) => mine.find(pred)?.seq ?? -1;
    const closed = seq((e) => e.type === 'close');
    const hungUp = seq((e) => e.type === 'hangup' && e.reason === 'close');
    const reopened = seq((e) => e.type === 'open');
    const ath = seq((e) => e.type === 'command' && e.line === 'ATH0');
    // Closed, hung up because of it, opened again, then ATH0 confirms command mode.
    expect(closed).toBeGreaterThan(-1);
    expect([closed < hungUp, hungUp < reopened, reopened < ath]).toEqual([true, true, true]);
    // No escape: the modem never went to online-command mode with an OK for +++.
    expect(mine.filter((e) => e.type === 'data' && e.dir === 'in')).toEqual([]);
    expect(a.sim.state).toBe('idle');
    expect((await a.modem.command('AT')).result).toBe('OK');
  });

  it('a silent modem makes init fail cleanly with MODEM_NO_RESPONSE', async () => {
    const sim = await ex.addModem({ number: '100', faults: { silent: true } });
    const d = await drive(sim);
    open.push(d);
    await expect(d.modem.init(MGETTY_INIT)).rejects.toMatchObject({ code: 'MODEM_NO_RESPONSE' });
    // First try, recovery, second try: a bounded number of commands, counted on the
    // exchange's log rather than on the wall clock (a loaded machine stretches time).
    const silenced = ex.events.filter((e) => e.modem === '100' && e.type === 'fault' && e.fault === 'silent');
    expect(silenced.map((e) => e.line)).toEqual(['ATQ0V1H0', 'ATQ0V1H0', 'ATQ0V1H0']);
  });

  it('reports junk the modem sends on an idle line', async () => {
    const a = await line('100');
    const junk = next<string>((fn) => a.modem.onJunk(fn));
    a.sim.injectGarbage(Buffer.from('\r\n#$%garbage\r\n'));
    expect(await junk).toBe('#$%garbage');
  });
});

describe('modem driver with DTR and carrier over the simulator control socket', () => {
  it('hangs up by DTR and sees the far end drop the carrier (DCD), as the daemon does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callbackd-ctl-'));
    const server = await serveControl(ex, join(dir, 'sim.sock'));
    const sim = await ex.addModem({ number: '100' });
    const signals = connectSimSignals(server.path, sim.ttyPath);
    try {
      const transport = createSerialTransport({
        path: sim.ttyPath,
        baudRate: 115200,
        flowControl: 'none',
        signals,
        log: silentLogger(),
      });
      await transport.open();
      const modem = new Modem(transport, { timing: TIMING, log: silentLogger(), line: 'ctl' });
      open.push({ transport, modem, close: async () => (modem.dispose(), await transport.close()) });
      await modem.init(MGETTY_INIT);
      const b = await line('200', { dtr: true });

      for (const hangupBy of ['us', 'them'] as const) {
        const ring = next<RingEvent>((fn) => modem.onRing(fn));
        const dialling = b.modem.dial('100');
        await ring;
        expect(await modem.answer()).toMatchObject({ kind: 'connect' });
        await dialling;
        expect(await transport.getCarrier()).toBe(true);
        if (hangupBy === 'us') {
          const from = ex.mark();
          await modem.hangup();
          await ex.waitFor((e) => e.modem === '100' && e.type === 'dtr' && e.on === false, 2_000, from);
          await ex.waitFor((e) => e.modem === '100' && e.type === 'hangup', 2_000, from);
        } else {
          const lost = next<void>((fn) => modem.onCarrierLost(fn));
          await b.modem.hangup();
          await lost;
        }
        expect(modem.online).toBe(false);
        expect(await transport.getCarrier()).toBe(false);
      }
    } finally {
      signals.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
