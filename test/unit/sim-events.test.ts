import { describe, expect, it } from 'vitest';
import { EventLog } from '../../src/sim/events.js';

describe('EventLog', () => {
  it('finds events logged before waitFor was called, from a mark on', async () => {
    const log = new EventLog();
    log.emitEvent('1', 'ring', { count: 1 });
    const mark = log.next;
    log.emitEvent('1', 'ring', { count: 2 });
    expect((await log.waitFor((e) => e.type === 'ring')).count).toBe(1);
    expect((await log.waitFor((e) => e.type === 'ring', 100, mark)).count).toBe(2);
  });

  it('resolves on a later event and rejects on timeout with the recent events', async () => {
    const log = new EventLog();
    const waiting = log.waitFor((e) => e.type === 'connect', 1000);
    log.emitEvent('2', 'connect', { peer: '1' });
    expect((await waiting).modem).toBe('2');
    log.emitEvent('2', 'result', { text: 'BUSY' });
    await expect(log.waitFor((e) => e.type === 'hangup', 20)).rejects.toThrow(/2:result\(BUSY\)/);
  });

  it('keeps a bounded number of events while seq keeps counting', async () => {
    const log = new EventLog(undefined, 4);
    for (let i = 0; i < 20; i++) log.emitEvent('1', 'data', { dir: 'in', bytes: i });
    expect(log.events.length).toBeLessThanOrEqual(5);
    expect(log.events.at(-1)!.seq).toBe(19);
    expect(log.next).toBe(20);
    expect((await log.waitFor((e) => e.type === 'data', 10, 18)).bytes).toBe(18);
  });

  it('rejects pending and later waits once closed', async () => {
    const log = new EventLog();
    const waiting = log.waitFor(() => true, 10_000, 5);
    log.close();
    await expect(waiting).rejects.toThrow(/closed while waiting/);
    await expect(log.waitFor(() => true)).rejects.toThrow(/closed/);
  });

  it('marks the data chunk that completes a watched text, split across chunks, per modem and direction', () => {
    const log = new EventLog(undefined, undefined, [
      { label: 'prompt', text: 'login: ', dir: 'in' },
      { label: 'secret', text: 'hunter2\r', dir: 'out', modem: '1' },
    ]);
    const b = (s: string): Buffer => Buffer.from(s, 'latin1');
    expect(log.watchFields('1', 'in', b('Welcome\r\nlog'))).toEqual({});
    expect(log.watchFields('1', 'out', b('in: '))).toEqual({});
    expect(log.watchFields('1', 'in', b('in: '))).toEqual({ watch: 'prompt' });
    expect(log.watchFields('1', 'in', b('x'))).toEqual({});
    expect(log.watchFields('2', 'out', b('hunter2\r'))).toEqual({});
    expect(log.watchFields('1', 'out', b('hunter'))).toEqual({});
    expect(log.watchFields('1', 'out', b('2\r'))).toEqual({ watch: 'secret' });
  });
});
