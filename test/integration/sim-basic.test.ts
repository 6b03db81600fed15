import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExchange, type Exchange, type SimModem } from '../../src/sim/index.js';
import { addPair, dteSet } from '../helpers/sim-pair.js';

let ex: Exchange;
let a: SimModem;
let b: SimModem;
const { dte, closeAll } = dteSet();

beforeEach(async () => {
  ex = await createExchange({ ringIntervalMs: 40, escapeGuardMs: 60, dialDelayMs: 5, noAnswerAfterRings: 4 });
  ({ a, b } = await addPair(ex));
});

afterEach(async () => {
  await closeAll();
  await ex.close();
});

describe('command mode', () => {
  it('echoes the command line and answers OK', async () => {
    const d = await dte(a);
    await d.at('');
    expect(await d.expect('OK\r\n')).toBe('AT\r\r\nOK\r\n');
  });

  it('runs several commands on one line and answers S-register queries', async () => {
    const d = await dte(a);
    await d.at('&FH0');
    await d.expect('OK\r\n');
    await d.at('S0=0Q0&D3&C1');
    await d.expect('OK\r\n');
    await d.at('S7=45S0?S7?');
    expect(await d.expect('OK\r\n')).toBe('ATS7=45S0?S7?\r\r\n000\r\n\r\n045\r\n\r\nOK\r\n');
  });

  it('answers ERROR for unknown commands and OK when lenient', async () => {
    const d = await dte(a);
    await d.at('E0');
    await d.expect('OK\r\n');
    await d.at('$Q');
    expect(await d.expect(/\r\n\w+\r\n/)).toBe('\r\nERROR\r\n');
    await d.at('&Y9');
    expect(await d.expect(/\r\n\w+\r\n/)).toBe('\r\nERROR\r\n');
    a.setFaults({ lenient: true });
    await d.at('&Y9');
    expect(await d.expect(/\r\n\w+\r\n/)).toBe('\r\nOK\r\n');
  });

  it('gives numeric result codes under V0 and nothing under Q1', async () => {
    const d = await dte(a);
    await d.at('E0V0');
    // The line that turns echo off is still echoed.
    expect(await d.expect('\r0\r')).toBe('ATE0V0\r0\r');
    await d.at('XYZ');
    expect(await d.expect('\r')).toBe('4\r');
    await d.at('Q1');
    await d.at('Q0');
    // Q1 silenced its own OK; the next result is Q0's.
    expect(await d.expect('\r')).toBe('0\r');
    expect(d.unread).toBe('');
  });

  it('reports +FCLASS and caller-ID settings and refuses fax classes', async () => {
    const d = await dte(a);
    await d.at('E0');
    await d.expect('OK\r\n');
    await d.at('+FCLASS=0;+FCLASS?');
    expect(await d.expect('OK\r\n')).toBe('\r\n0\r\n\r\nOK\r\n');
    await d.at('+FCLASS=2');
    expect(await d.expect(/\r\n\w+\r\n/)).toBe('\r\nERROR\r\n');
    await d.at('+VCID=1');
    await d.expect('OK\r\n');
    await d.at('#CID?');
    expect(await d.expect('OK\r\n')).toBe('\r\n1\r\n\r\nOK\r\n');
    await d.at('I3');
    expect(await d.expect('OK\r\n')).toContain('5551001');
  });
});

describe('calls', () => {
  it('rings the called modem, connects on ATA and passes data both ways', async () => {
    const da = await dte(a);
    const db = await dte(b);
    await da.at('DT555-1002');
    await db.expect('RING\r\n');
    expect(b.state).toBe('ringing');
    expect(a.state).toBe('dialing');
    await db.at('A');
    await db.expect('CONNECT 33600\r\n');
    await da.expect('CONNECT 33600\r\n');
    expect(a.state).toBe('online');
    const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await da.write(payload);
    await db.expect(payload.toString('latin1'));
    await db.write('hello from b\n');
    await da.expect('hello from b\n');
    const dataIn = ex.events.filter((e) => e.type === 'data' && e.modem === '5551001' && e.dir === 'in');
    expect(dataIn.reduce((n, e) => n + (e.bytes as number), 0)).toBe(256);
    expect(ex.events.some((e) => e.type === 'data' && 'data' in e)).toBe(false);
  });

  it('auto-answers after S0 rings', async () => {
    const da = await dte(a);
    const db = await dte(b);
    await db.at('S0=2');
    await db.expect('OK\r\n');
    await da.at('D5551002');
    await da.expect('CONNECT 33600\r\n');
    expect(await db.expect('CONNECT 33600\r\n')).toBe('\r\nRING\r\n\r\nRING\r\n\r\nCONNECT 33600\r\n');
  });

  it('answers BUSY when the number is in a call or off-hook, NO ANSWER when nobody answers', async () => {
    const c = await ex.addModem({ number: '5551003' });
    const da = await dte(a);
    const dc = await dte(c);
    await dc.at('H1');
    await dc.expect('OK\r\n');
    await da.at('D5551003');
    await da.expect('BUSY\r\n');
    await dc.at('H0');
    await dc.expect('OK\r\n');
    await da.at('D5551003');
    await da.expect('NO ANSWER\r\n');
    const rings = ex.events.filter((e) => e.type === 'ring' && e.modem === '5551003');
    expect(rings.map((e) => e.count)).toEqual([1, 2, 3, 4]);
    expect(c.state).toBe('idle');
    await da.at('D5551001');
    await da.expect('BUSY\r\n');
  });

  it('answers the configured result for unknown numbers', async () => {
    const da = await dte(a);
    await da.at('D999');
    await da.expect('NO ANSWER\r\n');
    const ex2 = await createExchange({
      ringIntervalMs: 20,
      unknownNumberResult: 'NO CARRIER',
      unknownNumberDelayMs: 1,
    });
    try {
      const m = await ex2.addModem({ number: '1' });
      const d = await dte(m);
      await d.at('D2');
      await d.expect('NO CARRIER\r\n');
    } finally {
      await ex2.close();
    }
  });

  it('delivers caller ID between the first and second RING', async () => {
    const da = await dte(a);
    const db = await dte(b);
    await db.at('+VCID=1');
    await db.expect('OK\r\n');
    await da.at('D5551002');
    await db.expect('RING\r\n');
    const cid = await db.expect('RING\r\n');
    expect(cid).toMatch(/^\r\nDATE = \d{4}\r\nTIME = \d{4}\r\nNMBR = 5551001\r\n\r\nRING\r\n$/);
    const order = ex.events.filter(
      (e) => e.modem === '5551002' && (e.type === 'ring' || e.type === 'callerid'),
    );
    expect(order.slice(0, 3).map((e) => e.type)).toEqual(['ring', 'callerid', 'ring']);
  });

  it('a character typed while dialling aborts the call', async () => {
    const da = await dte(a);
    const db = await dte(b);
    await da.at('D5551002');
    await db.expect('RING\r\n');
    await da.write('x');
    await da.expect('NO CARRIER\r\n');
    await ex.waitFor((e) => e.modem === '5551002' && e.type === 'ring');
    expect(b.state).toBe('idle');
  });
});
