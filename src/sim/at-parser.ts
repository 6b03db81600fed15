/**
 * Parser for the body of a Hayes command line (the text after `AT`, without the
 * terminating CR). Pure and total: any string gives a result, never an exception,
 * because the text comes from whatever a program writes to the tty.
 */
export type AtCommand =
  /** `E1`, `&D3`, `\N0`, `H`: name is the prefix plus the letter, upper-case. */
  | { kind: 'basic'; name: string; value?: number; text: string }
  /** `DT555,1001;`: digits are what the exchange routes on. */
  | { kind: 'dial'; dialString: string; digits: string; voice: boolean; last: boolean; text: string }
  | { kind: 'sreg'; reg: number; op: 'set' | 'query' | 'select'; value?: number; text: string }
  /** `+FCLASS=0`, `+VCID?`, `#CID=1`, `+FCLASS=?` */
  | { kind: 'ext'; name: string; op: 'set' | 'query' | 'test' | 'exec'; value?: string; text: string };

export interface ParseResult {
  commands: AtCommand[];
  /** Set when the line has a syntax error; commands before it were parsed. */
  error?: { index: number; message: string };
}

/** Numbers longer than this are nonsense to any modem; refuse instead of overflowing. */
const MAX_DIGITS = 5;
const BASIC_PREFIXES = '&\\%';
const EXT_PREFIXES = '+#';

export function parseCommandLine(body: string): ParseResult {
  const s = body.replace(/ /g, '');
  const commands: AtCommand[] = [];
  let i = 0;
  const fail = (message: string): ParseResult => ({ commands, error: { index: i, message } });

  while (i < s.length) {
    const start = i;
    const c = s[i]!.toUpperCase();
    if (c === 'D') {
      // Everything after D up to `;` (or the end of the line) is the dial string.
      const semi = s.indexOf(';', i + 1);
      const end = semi < 0 ? s.length : semi;
      const dialString = s.slice(i + 1, end);
      const upper = dialString.toUpperCase();
      i = semi < 0 ? s.length : semi + 1;
      commands.push({
        kind: 'dial',
        dialString,
        digits: upper.replace(/[^0-9*#]/g, ''),
        voice: semi >= 0,
        last: upper.startsWith('L'),
        text: s.slice(start, i),
      });
      continue;
    }
    if (c === 'S') {
      i++;
      const reg = readNumber(s, i);
      if (!reg) return fail('S needs a register number');
      if (reg.tooLong) return fail('register number too long');
      i = reg.end;
      if (s[i] === '?') {
        i++;
        commands.push({ kind: 'sreg', reg: reg.value, op: 'query', text: s.slice(start, i) });
      } else if (s[i] === '=') {
        i++;
        const v = readNumber(s, i);
        if (v?.tooLong) return fail('register value too long');
        // `S0=` alone means 0 on real modems.
        i = v ? v.end : i;
        commands.push({
          kind: 'sreg',
          reg: reg.value,
          op: 'set',
          value: v ? v.value : 0,
          text: s.slice(start, i),
        });
      } else {
        commands.push({ kind: 'sreg', reg: reg.value, op: 'select', text: s.slice(start, i) });
      }
      continue;
    }
    if (EXT_PREFIXES.includes(c)) {
      i++;
      let name = c;
      while (i < s.length && /[A-Za-z0-9]/.test(s[i]!)) name += s[i++]!.toUpperCase();
      if (name.length === 1) return fail(`${c} needs a command name`);
      let op: 'set' | 'query' | 'test' | 'exec' = 'exec';
      let value: string | undefined;
      if (s.startsWith('=?', i)) {
        op = 'test';
        i += 2;
      } else if (s[i] === '?') {
        op = 'query';
        i++;
      } else if (s[i] === '=') {
        op = 'set';
        const semi = s.indexOf(';', i);
        const end = semi < 0 ? s.length : semi;
        value = s.slice(i + 1, end);
        i = end;
      }
      const cmd: AtCommand = { kind: 'ext', name, op, text: s.slice(start, i) };
      if (value !== undefined) cmd.value = value;
      commands.push(cmd);
      if (s[i] === ';') i++;
      continue;
    }
    let name = '';
    if (BASIC_PREFIXES.includes(c)) {
      name = c;
      i++;
      if (i >= s.length) return fail(`${c} needs a letter`);
    }
    const letter = s[i]!.toUpperCase();
    if (letter < 'A' || letter > 'Z') return fail(`unexpected character ${JSON.stringify(s[i])}`);
    name += letter;
    i++;
    const v = readNumber(s, i);
    if (v?.tooLong) return fail('number too long');
    if (v) i = v.end;
    const cmd: AtCommand = { kind: 'basic', name, text: s.slice(start, i) };
    if (v) cmd.value = v.value;
    commands.push(cmd);
  }
  return { commands };
}

function readNumber(s: string, i: number): { value: number; end: number; tooLong: boolean } | undefined {
  let end = i;
  while (end < s.length && s[end]! >= '0' && s[end]! <= '9') end++;
  if (end === i) return undefined;
  const tooLong = end - i > MAX_DIGITS;
  return { value: tooLong ? 0 : Number(s.slice(i, end)), end, tooLong };
}
