/**
 * Recognising what a Hayes modem says: final result codes (verbose and V0 numeric),
 * CONNECT speeds, and the many caller-ID formats seen between RINGs. Pure functions.
 */

export type FinalResult =
  'OK' | 'CONNECT' | 'RING' | 'NO CARRIER' | 'ERROR' | 'NO DIALTONE' | 'BUSY' | 'NO ANSWER';

/** V0 numeric codes. 5 and 10..19 are CONNECT at a given speed on most chipsets. */
const NUMERIC: Record<string, FinalResult> = {
  '0': 'OK',
  '1': 'CONNECT',
  '2': 'RING',
  '3': 'NO CARRIER',
  '4': 'ERROR',
  '6': 'NO DIALTONE',
  '7': 'BUSY',
  '8': 'NO ANSWER',
};
const NUMERIC_CONNECT_SPEED: Record<string, number> = {
  '5': 1200,
  '10': 2400,
  '11': 4800,
  '12': 9600,
  '13': 7200,
  '14': 12000,
  '15': 14400,
  '16': 19200,
  '17': 38400,
  '18': 57600,
  '19': 115200,
};

export interface ParsedResult {
  result: FinalResult;
  /** The line as the modem sent it (for logs and the \I issue token). */
  text: string;
  speed?: number;
  numeric: boolean;
}

/** A final result code, or undefined for any other line (echo, info text, junk). */
export function parseResult(line: string): ParsedResult | undefined {
  const text = line.trim();
  if (/^\d{1,2}$/.test(text)) {
    const r = NUMERIC[text];
    if (r) return { result: r, text, numeric: true };
    const speed = NUMERIC_CONNECT_SPEED[text];
    if (speed !== undefined) return { result: 'CONNECT', text, speed, numeric: true };
    return undefined;
  }
  const up = text.toUpperCase();
  if (up === 'OK') return { result: 'OK', text, numeric: false };
  if (up === 'CONNECT' || up.startsWith('CONNECT ') || up.startsWith('CONNECT/')) {
    const m = /(\d{3,})/.exec(text);
    const speed = m ? Number(m[1]) : undefined;
    return speed === undefined
      ? { result: 'CONNECT', text, numeric: false }
      : { result: 'CONNECT', text, speed, numeric: false };
  }
  if (up === 'RING') return { result: 'RING', text, numeric: false };
  if (up === 'NO CARRIER') return { result: 'NO CARRIER', text, numeric: false };
  if (up === 'ERROR') return { result: 'ERROR', text, numeric: false };
  if (up === 'NO DIALTONE' || up === 'NO DIAL TONE') return { result: 'NO DIALTONE', text, numeric: false };
  if (up === 'BUSY') return { result: 'BUSY', text, numeric: false };
  if (up === 'NO ANSWER') return { result: 'NO ANSWER', text, numeric: false };
  // Refusals by the modem's own blacklisting (some countries require it): treated as ERROR.
  if (up === 'DELAYED' || up.startsWith('DELAYED ') || up === 'BLACKLISTED')
    return { result: 'ERROR', text, numeric: false };
  return undefined;
}

export type CallerIdInfo =
  | { kind: 'number'; number: string }
  | { kind: 'withheld'; reason: 'private' | 'unavailable' }
  | { kind: 'name'; name: string }
  | { kind: 'other' }; // DATE / TIME / MESG lines: caller-ID traffic, not junk

/** Drops quotes and non-printables, as mgetty does, and trims. */
export function cleanCallerText(s: string): string {
  return s
    .replace(/["']/g, '')
    .replace(/[^\x20-\x7e]/g, '')
    .trim();
}

function numberOrWithheld(raw: string): CallerIdInfo | undefined {
  const v = cleanCallerText(raw);
  const up = v.toUpperCase();
  if (up === 'P' || up === 'PRIVATE') return { kind: 'withheld', reason: 'private' };
  if (up === 'O' || up === 'OUT OF AREA' || up === 'UNAVAILABLE')
    return { kind: 'withheld', reason: 'unavailable' };
  if (v === '') return undefined;
  return { kind: 'number', number: v };
}

/**
 * The forms mgetty's cnd.c knows: `NMBR = 5551234`, `NMBR=...`, `DDN_NMBR= ...`,
 * `CALLER NUMBER: ...`, `FM:...`, `RING;<number>`, `+CLIP: "5551234",129`, and
 * NAME/DATE/TIME lines. undefined when the line is not caller ID at all.
 */
export function parseCallerIdLine(line: string): CallerIdInfo | undefined {
  const text = line.trim();
  let m = /^(?:DDN_NMBR|NMBR)\s*=\s*(.*)$/i.exec(text);
  if (m) return numberOrWithheld(m[1] ?? '');
  m = /^CALLER NUMBER\s*:\s*(.*)$/i.exec(text);
  if (m) return numberOrWithheld(m[1] ?? '');
  m = /^FM\s*:\s*(.*)$/i.exec(text);
  if (m) return numberOrWithheld(m[1] ?? '');
  m = /^RING\s*;\s*([^;]*)/i.exec(text);
  if (m) return numberOrWithheld(m[1] ?? '');
  m = /^\+CLIP\s*:\s*"?([^",]*)"?/i.exec(text);
  if (m) return numberOrWithheld(m[1] ?? '') ?? { kind: 'withheld', reason: 'unavailable' };
  m = /^(?:NAME|CALLER NAME)\s*[=:]\s*(.*)$/i.exec(text);
  if (m) {
    const name = cleanCallerText(m[1] ?? '');
    const w = numberOrWithheld(name);
    return w?.kind === 'withheld' || name === '' ? { kind: 'other' } : { kind: 'name', name };
  }
  if (/^(?:DATE|TIME|MESG)\s*[=:]/i.test(text)) return { kind: 'other' };
  return undefined;
}
