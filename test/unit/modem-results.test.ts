import { describe, expect, it } from 'vitest';
import { parseCallerIdLine, parseChat, parseResult, parseSend, tokenizeChat } from '../../src/modem/index.js';

describe('parseResult', () => {
  it('recognises every verbose final result', () => {
    expect(parseResult('OK')?.result).toBe('OK');
    expect(parseResult('ERROR')?.result).toBe('ERROR');
    expect(parseResult('NO CARRIER')?.result).toBe('NO CARRIER');
    expect(parseResult('NO DIALTONE')?.result).toBe('NO DIALTONE');
    expect(parseResult('NO DIAL TONE')?.result).toBe('NO DIALTONE');
    expect(parseResult('BUSY')?.result).toBe('BUSY');
    expect(parseResult('NO ANSWER')?.result).toBe('NO ANSWER');
    expect(parseResult('RING')?.result).toBe('RING');
    expect(parseResult('DELAYED')?.result).toBe('ERROR');
  });

  it('reads the speed from CONNECT lines', () => {
    expect(parseResult('CONNECT 33600/ARQ')).toMatchObject({
      result: 'CONNECT',
      speed: 33600,
      text: 'CONNECT 33600/ARQ',
    });
    expect(parseResult('CONNECT')).toEqual({ result: 'CONNECT', text: 'CONNECT', numeric: false });
  });

  it('recognises V0 numeric codes', () => {
    expect(parseResult('0')).toMatchObject({ result: 'OK', numeric: true });
    expect(parseResult('3')?.result).toBe('NO CARRIER');
    expect(parseResult('7')?.result).toBe('BUSY');
    expect(parseResult('12')).toMatchObject({ result: 'CONNECT', speed: 9600 });
    expect(parseResult('9')).toBeUndefined();
  });

  it('leaves other text alone', () => {
    expect(parseResult('ATZ')).toBeUndefined();
    expect(parseResult('OKAY')).toBeUndefined();
    expect(parseResult('RINGING')).toBeUndefined();
  });
});

describe('parseCallerIdLine', () => {
  it.each([
    ['NMBR = 5551234', '5551234'],
    ['NMBR=5551234', '5551234'],
    ['DDN_NMBR= 0301234567', '0301234567'],
    ['CALLER NUMBER: 089123', '089123'],
    ['FM:0891234', '0891234'],
    ['RING;0891234;', '0891234'],
    ['+CLIP: "5551234",129', '5551234'],
    ['NMBR = "555\x011234"', '5551234'],
  ])('%j -> %s', (line, number) => {
    expect(parseCallerIdLine(line)).toEqual({ kind: 'number', number });
  });

  it('knows withheld numbers', () => {
    expect(parseCallerIdLine('NMBR = P')).toEqual({ kind: 'withheld', reason: 'private' });
    expect(parseCallerIdLine('NMBR = O')).toEqual({ kind: 'withheld', reason: 'unavailable' });
    expect(parseCallerIdLine('NMBR = OUT OF AREA')).toEqual({ kind: 'withheld', reason: 'unavailable' });
    expect(parseCallerIdLine('+CLIP: "",128')).toEqual({ kind: 'withheld', reason: 'unavailable' });
  });

  it('reads names and recognises DATE/TIME', () => {
    expect(parseCallerIdLine('NAME = JOHN DOE')).toEqual({ kind: 'name', name: 'JOHN DOE' });
    expect(parseCallerIdLine('DATE = 1124')).toEqual({ kind: 'other' });
    expect(parseCallerIdLine('TIME = 1030')).toEqual({ kind: 'other' });
    expect(parseCallerIdLine('hello')).toBeUndefined();
  });
});

describe('chat scripts', () => {
  it('tokenizes quotes, including empty ones', () => {
    expect(tokenizeChat(`"" \\dATQ0V1H0 OK 'AT S0=0' OK`)).toEqual([
      '',
      '\\dATQ0V1H0',
      'OK',
      'AT S0=0',
      'OK',
    ]);
  });

  it('rejects an unterminated quote', () => {
    expect(() => tokenizeChat('"" "ATZ')).toThrow(/unterminated/);
  });

  it('pairs expect and send; \\d is a pause; CR added unless \\c', () => {
    const steps = parseChat('"" \\dATZ OK AT\\c OK');
    expect(steps).toEqual([
      { expect: '', send: [{ kind: 'pause' }, { kind: 'text', text: 'ATZ\r' }], sendSource: '\\dATZ' },
      { expect: 'OK', send: [{ kind: 'text', text: 'AT' }], sendSource: 'AT\\c' },
      { expect: 'OK' },
    ]);
    expect(parseSend('A\\sB\\r')).toEqual([{ kind: 'text', text: 'A B\r\r' }]);
    expect(() => parseSend('AT\\q')).toThrow(/unknown escape/);
    expect(() => parseChat('   ')).toThrow(/empty/);
  });
});
