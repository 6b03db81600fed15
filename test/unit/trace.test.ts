import { mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LineTracer, tracedTransport } from '../../src/daemon/trace.js';
import { MemoryTransport } from '../../src/serial/memory-transport.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('LineTracer', () => {
  it('writes one file per call, opened with what came before the call id, and keeps the newest', () => {
    dir = mkdtempSync(join(tmpdir(), 'trace-'));
    const t = new LineTracer('ttyS1', {
      dir,
      keep: 2,
      passwordPrompt: () => 'Password: ',
      now: () => new Date(0),
    });
    for (const id of ['c1', 'c2', 'c3']) {
      t.received(Buffer.from('RING\r\n'));
      t.call(id);
      t.sent('ATA\r');
      t.call(undefined);
      // distinct ages, whatever the file system's time resolution
      const age = { c1: 3, c2: 2, c3: 1 }[id]!;
      utimesSync(
        join(dir, `${id}.trace`),
        new Date(Date.now() - age * 1000),
        new Date(Date.now() - age * 1000),
      );
    }
    t.call('c4');
    t.call(undefined);
    expect(readdirSync(dir).sort()).toEqual(['c3.trace', 'c4.trace']);
    expect(readFileSync(join(dir, 'c4.trace'), 'utf8')).toBe('* call c4 on ttyS1\n');
  });

  it('shows what follows the password prompt as its length only', () => {
    dir = mkdtempSync(join(tmpdir(), 'trace-'));
    const t = new LineTracer('ttyS1', {
      keep: 1,
      passwordPrompt: () => 'Password: ',
      now: () => new Date(0),
    });
    const seen: string[] = [];
    t.follow((l) => seen.push(l));
    t.sent('\r\nPassword: ');
    t.received(Buffer.from('sec'));
    t.received(Buffer.from('ret\r'));
    t.received(Buffer.from('visible'));
    expect(seen.slice(1)).toEqual([
      '1970-01-01T00:00:00.000Z ttyS1 < [secret: 3 byte(s)]',
      '1970-01-01T00:00:00.000Z ttyS1 < [secret: 3 byte(s)]"\\r"',
      '1970-01-01T00:00:00.000Z ttyS1 < "visible"',
    ]);
  });
});

describe('tracedTransport', () => {
  it('passes what the line knows about DTR through, so a line without DTR is hung up as one', () => {
    dir = mkdtempSync(join(tmpdir(), 'trace-'));
    const inner = new MemoryTransport();
    const traced = tracedTransport(inner, new LineTracer('ttyS1', { keep: 1, passwordPrompt: () => '' }));
    expect(traced.dtrControl).toBe(true);
    inner.dtrControl = false;
    expect(traced.dtrControl).toBe(false);
  });
});
