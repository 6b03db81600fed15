import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExchange, type Exchange, type SimModem } from '../../src/sim/index.js';
import type { Terminal } from '../../src/sim/terminal.js';
import { addPair, dteSet } from '../helpers/sim-pair.js';

let ex: Exchange;
let a: SimModem;
let b: SimModem;
let dir: string;
const { dte, closeAll } = dteSet();

const RESULT = /\r\n[A-Z0-9 ]+\r\n/;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-faults-'));
  ex = await createExchange({
    ringIntervalMs: 30,
    dialDelayMs: 2,
    noAnswerAfterRings: 100, // a ringing call outlives a loaded test machine
    eventLog: join(dir, 'events.jsonl'),
  });
  ({ a, b } = await addPair(ex));
});

afterEach(async () => {
  await closeAll();
  await ex.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('faults', () => {
  it('a silent modem swallows commands until the fault is cleared', async () => {
    const da = await dte(a);
    a.setFaults({ silent: true });
    await da.at('');
    await ex.waitFor((e) => e.type === 'fault' && e.fault === 'silent');
    a.setFaults({ silent: false });
    await da.at('E0');
    // Had the first AT produced anything, it would come before this.
    await da.expect('OK\r\n');
    expect(da.text).toBe('ATE0\r\r\nOK\r\n');
  });

  it('errorOn answers ERROR for matching commands only', async () => {
    const da = await ex.addModem({ number: '7', faults: { errorOn: /&D3/ } }).then(dte);
    await da.at('S0=0Q0&D3&C1');
    expect(await da.expect(RESULT)).toContain('ERROR');
    await da.at('Z');
    expect(await da.expect(RESULT)).toContain('OK');
  });

  it.each(['BUSY', 'NO ANSWER', 'NO DIALTONE', 'NO CARRIER', 'ERROR'] as const)(
    'dialResult %s applies to the next dial only when counted',
    async (result) => {
      a.setFaults({ dialResult: result, dialResultCount: 1 });
      const da = await dte(a);
      const db = await dte(b);
      await da.at('D5551002');
      expect(await da.expect(RESULT)).toContain(result);
      await db.at('S0=1');
      await db.expect('OK\r\n');
      await da.at('D5551002');
      await da.expect('CONNECT 33600\r\n');
    },
  );

  it('X levels fold BUSY into NO CARRIER below X3', async () => {
    a.setFaults({ dialResult: 'BUSY' });
    const da = await dte(a);
    await da.at('X1D5551002');
    expect(await da.expect(RESULT)).toContain('NO CARRIER');
  });

  it('dropCarrier() and dropAfterBytes lose the line on both sides', async () => {
    const da = await dte(a);
    const db = await dte(b);
    await db.at('S0=1');
    await db.expect('OK\r\n');
    await da.at('D5551002');
    await da.expect('CONNECT');
    await db.expect('CONNECT');
    b.dropCarrier();
    await da.expect('NO CARRIER\r\n');
    await db.expect('NO CARRIER\r\n');

    a.setFaults({ dropAfterBytes: 10 });
    await da.at('D5551002');
    await da.expect('CONNECT 33600\r\n');
    await db.expect('CONNECT 33600\r\n');
    await da.write('12345');
    await db.expect('12345');
    expect(a.state).toBe('online');
    await da.write('67890abc');
    await db.expect('NO CARRIER\r\n');
    await da.expect('NO CARRIER\r\n');
    expect(ex.events.some((e) => e.type === 'fault' && e.fault === 'drop-after-bytes')).toBe(true);
  });

  it('carrier lost while the call is still ringing: the caller gets NO CARRIER', async () => {
    const da = await dte(a);
    await da.at('D5551002');
    await ex.waitFor((e) => e.type === 'ring' && e.modem === '5551002');
    b.dropCarrier();
    await da.expect('NO CARRIER\r\n');
    expect([a.state, b.state]).toEqual(['idle', 'idle']);
  });

  it('garbage reaches the DTE as it is', async () => {
    const da = await dte(a);
    const junk = Buffer.from([0x00, 0xff, 0x7e, 0x0d, 0x41]);
    // The modem notices a new holder of its tty on its next poll; garbage needs a listener.
    await ex.waitFor((e) => e.type === 'open' && e.modem === '5551001');
    a.injectGarbage(junk);
    await da.expect(junk.toString('latin1'));
  });

  it('responseDelayMs delays every result, in order', async () => {
    const da = await dte(a);
    a.setFaults({ responseDelayMs: 150 });
    const mark = ex.mark();
    await da.at('S0?');
    await da.expect('OK\r\n');
    const cmd = ex.events.filter((e) => e.seq >= mark).find((e) => e.type === 'command')!;
    const res = ex.events.filter((e) => e.seq >= mark).find((e) => e.type === 'result')!;
    expect(res.t - cmd.t).toBeGreaterThanOrEqual(145);
    expect(da.text).toBe('ATS0?\r\r\n000\r\n\r\nOK\r\n');
  });

  it('writes every event to the JSONL log without data contents', async () => {
    const da = await dte(a);
    await da.at('');
    await da.expect('OK\r\n');
    const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n');
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.type)).toEqual(ex.events.map((e) => e.type));
    expect(events.find((e) => e.type === 'command')).toMatchObject({ modem: '5551001', line: 'AT' });
  });
});
