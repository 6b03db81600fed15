/**
 * A virtual modem's settings (what AT&F restores) and how result codes look under
 * V0/V1, Q0/Q1 and the X level, as on Hayes-compatible modems.
 */
export type ResultName =
  'OK' | 'CONNECT' | 'RING' | 'NO CARRIER' | 'ERROR' | 'NO DIALTONE' | 'BUSY' | 'NO ANSWER';

/** Numeric forms (V0). CONNECT with a speed is still 1: speed codes differ between vendors. */
export const RESULT_CODES: Readonly<Record<ResultName, number>> = {
  OK: 0,
  CONNECT: 1,
  RING: 2,
  'NO CARRIER': 3,
  ERROR: 4,
  'NO DIALTONE': 6,
  BUSY: 7,
  'NO ANSWER': 8,
};

export interface ModemSettings {
  echo: boolean;
  quiet: boolean;
  verbose: boolean;
  /** X0..X4: which call-progress results are reported. */
  x: number;
  /** &C: 0 = DCD always on, 1 = DCD follows carrier. */
  dcd: number;
  /** &D: 0 ignore DTR, 1 to command mode, 2 hang up, 3 hang up and reset. */
  dtr: number;
  fclass: number;
  callerId: boolean;
  /** S0..S99. */
  s: number[];
}

export const S_REGISTER_COUNT = 100;

export function defaultSettings(opts: { callerId: boolean; escapeGuardMs: number }): ModemSettings {
  const s = new Array<number>(S_REGISTER_COUNT).fill(0);
  s[2] = 43; // escape character '+'
  s[3] = 13; // line terminator CR
  s[4] = 10; // response formatting LF
  s[5] = 8; // backspace
  s[6] = 2; // wait for dial tone, s
  s[7] = 50; // wait for carrier, s
  s[8] = 2; // comma pause, s
  s[10] = 14; // carrier loss delay, 1/10 s
  // Escape guard time in 1/50 s; the exchange's escapeGuardMs is the default.
  s[12] = Math.max(1, Math.min(255, Math.round(opts.escapeGuardMs / 20)));
  return {
    echo: true,
    quiet: false,
    verbose: true,
    x: 4,
    dcd: 1,
    dtr: 2,
    fclass: 0,
    callerId: opts.callerId,
    s,
  };
}

/** Lower X levels report less: BUSY and NO DIALTONE collapse into NO CARRIER. */
export function resultForX(name: ResultName, x: number): ResultName {
  if (name === 'BUSY' && x < 3) return 'NO CARRIER';
  if (name === 'NO DIALTONE' && (x < 2 || x === 3)) return 'NO CARRIER';
  if (name === 'NO ANSWER' && x < 1) return 'NO CARRIER';
  return name;
}

/** The bytes a result code puts on the line, or '' under Q1. */
export function formatResult(name: ResultName, settings: ModemSettings, speed?: number): string {
  if (settings.quiet) return '';
  const cr = String.fromCharCode(settings.s[3] ?? 13);
  const lf = String.fromCharCode(settings.s[4] ?? 10);
  if (!settings.verbose) return `${RESULT_CODES[name]}${cr}`;
  const text = name === 'CONNECT' && speed !== undefined && settings.x > 0 ? `CONNECT ${speed}` : name;
  return `${cr}${lf}${text}${cr}${lf}`;
}

/** Caller-ID lines as the exchange sends them between the first two RINGs. */
export function formatCallerId(caller: string, at: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const date = `DATE = ${two(at.getMonth() + 1)}${two(at.getDate())}`;
  const time = `TIME = ${two(at.getHours())}${two(at.getMinutes())}`;
  return `\r\n${date}\r\n${time}\r\nNMBR = ${caller}\r\n`;
}

/** Information text (ATI, ATSn?, +FCLASS?) framed like a verbose result. */
export function formatInfo(text: string, settings: ModemSettings): string {
  const cr = String.fromCharCode(settings.s[3] ?? 13);
  const lf = String.fromCharCode(settings.s[4] ?? 10);
  return settings.verbose ? `${cr}${lf}${text}${cr}${lf}` : `${text}${cr}${lf}`;
}
