import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExchange, type Exchange, type SimModem } from '../../src/sim/index.js';
import type { Terminal } from '../../src/sim/terminal.js';
import { addPair, dteSet } from '../helpers/sim-pair.js';

let ex: Exchange;
let a: SimModem;
let b: SimModem;
const { dte, closeAll } = dteSet();

/** A's DTE dials B, B auto-answers; both DTEs have read their CONNECT. */
async function connect(aSetup?: string): Promise<[Terminal, Terminal]> {
  const da = await dte(a);
  const db = await dte(b);
  if (aSetup !== undefined) {
    await da.at(aSetup);
    await da.expect('OK\r\n');
  }
  await db.at('S0=1');
  await db.expect('OK\r\n');
  await da.at('D5551002');
  await da.expect('CONNECT 33600\r\n');
  await db.expect('CONNECT 33600\r\n');
  return [da, db];
}

beforeEach(async () => {
  ex = await createExchange({ ringIntervalMs: 30, escapeGuardMs: 100, dialDelayMs: 2 });
  ({ a, b } = await addPair(ex));
});

afterEach(async () => {
  await closeAll();
  await ex.close();
});

describe('hanging up', () => {
  it('+++ with S12=0 escapes at once; ATO goes back online; ATH hangs up', async () => {
    // S12=0 turns the guard time off, so the test needs no pause.
    const [da, db] = await connect('S12=0');
    await da.write('+++');
    await da.expect('OK\r\n');
    expect(a.state).toBe('online-command');
    await da.at('O');
    await da.expect('CONNECT 33600\r\n');
    await da.write('after ATO');
    await db.expect('after ATO');
    await da.write('+++');
    await da.expect('OK\r\n');
    await da.at('H');
    await da.expect('OK\r\n');
    await db.expect('NO CARRIER\r\n');
    expect([a.state, b.state]).toEqual(['idle', 'idle']);
  });

  it('+++ straight after data is not an escape (guard time)', async () => {
    const [da, db] = await connect();
    const mark = ex.mark();
    await da.write('x+++');
    await db.expect('x+++');
    await expect(ex.waitFor((e) => e.modem === '5551001' && e.type === 'result', 400, mark)).rejects.toThrow(
      /no matching event/,
    );
    expect(a.state).toBe('online');
  });

  it('DTR drop through the signals hangs up under &D2 and the carrier follows', async () => {
    const [, db] = await connect();
    const seen: boolean[] = [];
    a.signals.onCarrier((on) => seen.push(on));
    expect(await a.signals.getCarrier()).toBe(true);
    await a.signals.setDtr(false);
    await db.expect('NO CARRIER\r\n');
    expect(await a.signals.getCarrier()).toBe(false);
    expect(seen).toEqual([false]);
    expect(ex.events.find((e) => e.type === 'hangup' && e.modem === '5551001')?.reason).toBe('dtr');
  });

  it('DTR drop is ignored under &D0 and resets the settings under &D3', async () => {
    const [da] = await connect('S12=0');
    await da.write('+++');
    await da.expect('OK\r\n');
    await da.at('&D0');
    await da.expect('OK\r\n');
    await a.signals.setDtr(false);
    expect(a.state).toBe('online-command');
    await a.signals.setDtr(true);
    await da.at('E0&D3');
    await da.expect('OK\r\n');
    await a.signals.setDtr(false);
    expect(a.state).toBe('idle');
    await a.signals.setDtr(true);
    // &D3 reset E0 back to echo on.
    await da.at('');
    expect(await da.expect('OK\r\n')).toBe('AT\r\r\nOK\r\n');
  });

  it('&C0 keeps DCD on while idle', async () => {
    const da = await dte(a);
    expect(await a.signals.getCarrier()).toBe(false);
    const seen: boolean[] = [];
    a.signals.onCarrier((on) => seen.push(on));
    await da.at('&C0');
    await da.expect('OK\r\n');
    expect(await a.signals.getCarrier()).toBe(true);
    expect(seen).toEqual([true]);
  });

  it('closing the tty hangs up (HUPCL); the far side gets NO CARRIER; reopening works', async () => {
    const [da, db] = await connect();
    await da.close();
    await db.expect('NO CARRIER\r\n');
    await ex.waitFor((e) => e.type === 'close' && e.modem === '5551001');
    expect(a.state).toBe('idle');
    const again = await dte(a);
    await again.at('');
    await again.expect('OK\r\n');
  });

  it('a modem whose tty closes while idle stays idle and answers after reopening', async () => {
    const d1 = await dte(a);
    await d1.at('');
    await d1.expect('OK\r\n');
    const mark = ex.mark();
    await d1.close();
    await ex.waitFor((e) => e.type === 'close' && e.modem === '5551001', 3000, mark);
    const d2 = await dte(a);
    await ex.waitFor((e) => e.type === 'open' && e.modem === '5551001', 3000, mark);
    await d2.at('I3');
    expect(await d2.expect('OK\r\n')).toContain('5551001');
    expect(ex.events.filter((e) => e.seq >= mark).some((e) => e.type === 'hangup')).toBe(false);
  });

  it('V0 gives numeric codes for RING, CONNECT and NO CARRIER', async () => {
    const da = await dte(a);
    const db = await dte(b);
    await db.at('E0V0');
    await db.expect('\r0\r');
    await da.at('D5551002');
    await db.expect('2\r');
    await db.at('A');
    await db.expect('1\r');
    await da.expect('CONNECT 33600\r\n');
    a.dropCarrier();
    await db.expect('3\r');
    await da.expect('NO CARRIER\r\n');
  });
});
