import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommandLineReader, MAX_LINE } from '../../src/sim/at-line-reader.js';
import { EscapeDetector } from '../../src/sim/escape.js';

function feed(r: CommandLineReader, text: string): { echo: string; lines: string[]; overflow: number } {
  let echo = '';
  const lines: string[] = [];
  let overflow = 0;
  for (const b of Buffer.from(text, 'latin1')) {
    const a = r.feed(b, 13, 8);
    echo += a.echo;
    if (a.execute !== undefined) lines.push(a.execute);
    if (a.overflow) overflow++;
  }
  return { echo, lines, overflow };
}

describe('CommandLineReader', () => {
  it('skips noise before AT, echoes the line and returns its body at CR', () => {
    const r = new CommandLineReader();
    expect(feed(r, '\r\nRING\r\nxxATZ\r')).toEqual({ echo: 'ATZ\r', lines: ['Z'], overflow: 0 });
    expect(feed(r, 'at&fh0\r').lines).toEqual(['&fh0']);
  });

  it('edits with backspace, ignores control characters and repeats with A/', () => {
    const r = new CommandLineReader();
    expect(feed(r, 'ATE1X\bQ\x01\n0\r').lines).toEqual(['E1Q0']);
    expect(feed(r, 'A/').lines).toEqual(['E1Q0']);
  });

  it('throws away an over-long line', () => {
    const r = new CommandLineReader();
    const out = feed(r, `AT${'S'.repeat(MAX_LINE + 1)}\rATI\r`);
    expect(out.overflow).toBe(1);
    expect(out.lines).toEqual(['I']);
  });

  it('only ever returns printable bodies no longer than the limit', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const r = new CommandLineReader();
        const out = feed(r, Buffer.from(bytes).toString('latin1'));
        for (const l of out.lines) {
          expect(l.length).toBeLessThanOrEqual(MAX_LINE);
          expect(l).toMatch(/^[\x20-\x7e]*$/);
        }
      }),
    );
  });
});

describe('EscapeDetector', () => {
  const PLUS = 43;
  const GUARD = 1000;

  it('needs the guard time of silence before the first +', () => {
    const d = new EscapeDetector();
    d.reset(0);
    expect(d.feed(Buffer.from('+++'), 500, PLUS, GUARD)).toBe(false);
    expect(d.feed(Buffer.from('data'), 600, PLUS, GUARD)).toBe(false);
    expect(d.feed(Buffer.from('+++'), 1600, PLUS, GUARD)).toBe(true);
  });

  it('accepts the three characters spread over chunks within the guard time', () => {
    const d = new EscapeDetector();
    d.reset(0);
    expect(d.feed(Buffer.from('+'), 2000, PLUS, GUARD)).toBe(false);
    expect(d.feed(Buffer.from('+'), 2500, PLUS, GUARD)).toBe(false);
    expect(d.feed(Buffer.from('+'), 3000, PLUS, GUARD)).toBe(true);
    expect(d.feed(Buffer.from('+'), 3001, PLUS, GUARD)).toBe(false);
  });

  it('refuses characters too far apart, data mixed in, or a disabled escape', () => {
    const d = new EscapeDetector();
    d.reset(0);
    d.feed(Buffer.from('++'), 2000, PLUS, GUARD);
    expect(d.feed(Buffer.from('+'), 3500, PLUS, GUARD)).toBe(false);
    d.reset(0);
    expect(d.feed(Buffer.from('++x+'), 2000, PLUS, GUARD)).toBe(false);
    d.reset(0);
    expect(d.feed(Buffer.from([200, 200, 200]), 2000, 200, GUARD)).toBe(false);
  });

  it('with guard time 0 any +++ escapes', () => {
    const d = new EscapeDetector();
    d.reset(0);
    expect(d.feed(Buffer.from('abc+++'), 0, PLUS, 0)).toBe(true);
  });
});
