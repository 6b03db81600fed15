import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExchange, type Exchange, type SimModem } from '../../src/sim/index.js';
import { dteSet } from '../helpers/sim-pair.js';

// The caller who rings and hangs up (a ring-back's first leg): the simulator's
// abandonAfterRings fault, with the callee's caller ID between the first and second RING.

let ex: Exchange;
let a: SimModem;
let b: SimModem;
const { dte, closeAll } = dteSet();

beforeEach(async () => {
  ex = await createExchange({ ringIntervalMs: 30, dialDelayMs: 2, noAnswerAfterRings: 100 });
  a = await ex.addModem({ number: '5551001', faults: { abandonAfterRings: 2 } });
  b = await ex.addModem({ number: '5551002', callerId: true });
});

afterEach(async () => {
  await closeAll();
  await ex.close();
});

describe('a caller that rings and hangs up', () => {
  it('rings twice with its caller ID, then the caller gets NO CARRIER and the callee stops ringing', async () => {
    const da = await dte(a);
    const db = await dte(b);
    await da.at('DT5551002');
    await da.expect('NO CARRIER');
    const abandon = await ex.waitFor((e) => e.type === 'fault' && e.fault === 'abandon');
    expect(abandon).toMatchObject({ modem: '5551001', rings: 2 });
    const rings = ex.events.filter((e) => e.modem === '5551002' && e.type === 'ring').map((e) => e.count);
    expect(rings).toEqual([1, 2]);
    // What the callee's DTE saw: RING, the caller's number, RING; nothing connected.
    await db.expect('NMBR = 5551001');
    await db.expect('RING');
    expect(ex.events.some((e) => e.type === 'connect')).toBe(false);
    expect(b.state).toBe('idle');
    expect(a.state).toBe('idle');
  });

  it('refuses a count below 1', () => {
    expect(() => a.setFaults({ abandonAfterRings: 0 })).toThrow(/abandonAfterRings/);
  });
});
