import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/sim/at-parser.js';
import { formatResult, resultForX, defaultSettings } from '../../src/sim/settings.js';
import { mergeFaults, NO_FAULTS } from '../../src/sim/faults.js';

describe('parseCommandLine', () => {
  it('splits mgetty init lines into commands', () => {
    const r = parseCommandLine('S0=0Q0&D3&C1');
    expect(r.error).toBeUndefined();
    expect(r.commands.map((c) => c.text)).toEqual(['S0=0', 'Q0', '&D3', '&C1']);
    expect(r.commands[0]).toMatchObject({ kind: 'sreg', reg: 0, op: 'set', value: 0 });
    expect(r.commands[2]).toMatchObject({ kind: 'basic', name: '&D', value: 3 });
  });

  it('is case-insensitive and ignores spaces', () => {
    const r = parseCommandLine('&f h0 e1');
    expect(r.commands.map((c) => (c.kind === 'basic' ? [c.name, c.value] : c.kind))).toEqual([
      ['&F', undefined],
      ['H', 0],
      ['E', 1],
    ]);
  });

  it('takes the rest of the line as dial string, up to a semicolon', () => {
    const r = parseCommandLine('X4DT555-1001,,W2');
    expect(r.commands[1]).toMatchObject({ kind: 'dial', digits: '55510012', voice: false });
    const v = parseCommandLine('DP123;H');
    expect(v.commands[0]).toMatchObject({ kind: 'dial', digits: '123', voice: true, text: 'DP123;' });
    expect(v.commands[1]).toMatchObject({ kind: 'basic', name: 'H' });
    expect(parseCommandLine('DL').commands[0]).toMatchObject({ kind: 'dial', last: true, digits: '' });
  });

  it('parses S-register queries and selects', () => {
    expect(parseCommandLine('S7?S12=3S2').commands).toMatchObject([
      { kind: 'sreg', reg: 7, op: 'query' },
      { kind: 'sreg', reg: 12, op: 'set', value: 3 },
      { kind: 'sreg', reg: 2, op: 'select' },
    ]);
  });

  it('parses extended commands with set, query and test forms', () => {
    expect(parseCommandLine('+FCLASS=0;+FCLASS?;+FCLASS=?#CID=1').commands).toMatchObject([
      { kind: 'ext', name: '+FCLASS', op: 'set', value: '0' },
      { kind: 'ext', name: '+FCLASS', op: 'query' },
      { kind: 'ext', name: '+FCLASS', op: 'test' },
      { kind: 'ext', name: '#CID', op: 'set', value: '1' },
    ]);
    expect(parseCommandLine('+VCID=1').commands[0]).toMatchObject({ name: '+VCID', value: '1' });
  });

  it('reports where a line goes wrong', () => {
    expect(parseCommandLine('E1$').error).toEqual({ index: 2, message: 'unexpected character "$"' });
    expect(parseCommandLine('S=1').error?.message).toMatch(/register number/);
    expect(parseCommandLine('E1234567').error?.message).toMatch(/too long/);
    expect(parseCommandLine('&').error?.message).toMatch(/needs a letter/);
    expect(parseCommandLine('+').error?.message).toMatch(/needs a command name/);
  });

  it('never throws, and every command text is a piece of the input, in order', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        const r = parseCommandLine(s);
        const squeezed = s.replace(/ /g, '');
        const joined = r.commands.map((c) => c.text).join('');
        expect(squeezed.startsWith(joined)).toBe(true);
        if (!r.error) expect(joined).toBe(squeezed);
        else expect(r.error.index).toBeLessThanOrEqual(squeezed.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('parses any sequence of well-formed commands completely', () => {
    const cmd = fc.oneof(
      fc
        .constantFrom('E', 'Q', 'V', 'H', 'Z', '&C', '&D', 'X')
        .chain((n) => fc.nat(9).map((v) => `${n}${v}`)),
      fc.tuple(fc.nat(99), fc.nat(255)).map(([r, v]) => `S${r}=${v}`),
      fc.nat(99).map((r) => `S${r}?`),
      fc.constantFrom('+FCLASS=0;', '+VCID?;', '#CID=1;'),
    );
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 12 }), (cmds) => {
        const r = parseCommandLine(cmds.join(''));
        expect(r.error).toBeUndefined();
        expect(r.commands).toHaveLength(cmds.length);
      }),
    );
  });
});

describe('result formatting', () => {
  const s = defaultSettings({ callerId: false, escapeGuardMs: 1000 });

  it('frames verbose results and uses numbers under V0', () => {
    expect(formatResult('CONNECT', s, 33600)).toBe('\r\nCONNECT 33600\r\n');
    expect(formatResult('NO ANSWER', { ...s, verbose: false })).toBe('8\r');
    expect(formatResult('BUSY', { ...s, verbose: false })).toBe('7\r');
    expect(formatResult('OK', { ...s, quiet: true })).toBe('');
    expect(formatResult('CONNECT', { ...s, x: 0 }, 33600)).toBe('\r\nCONNECT\r\n');
  });

  it('folds call progress results by X level', () => {
    expect(resultForX('BUSY', 2)).toBe('NO CARRIER');
    expect(resultForX('BUSY', 3)).toBe('BUSY');
    expect(resultForX('NO DIALTONE', 3)).toBe('NO CARRIER');
    expect(resultForX('NO DIALTONE', 4)).toBe('NO DIALTONE');
  });

  it('derives the escape guard register from the exchange default', () => {
    expect(defaultSettings({ callerId: false, escapeGuardMs: 60 }).s[12]).toBe(3);
  });
});

describe('faults', () => {
  it('merges updates, clears with undefined and rejects nonsense', () => {
    const f = mergeFaults({ ...NO_FAULTS }, { dialResult: 'BUSY', dialResultCount: 2 });
    expect(f).toMatchObject({ dialResult: 'BUSY', dialResultCount: 2, silent: false });
    expect(mergeFaults(f, { dialResult: undefined }).dialResult).toBeUndefined();
    expect(() => mergeFaults(f, { responseDelayMs: -1 })).toThrow(/responseDelayMs/);
    expect(() => mergeFaults(f, { dropAfterBytes: 1.5 })).toThrow(/dropAfterBytes/);
  });
});
