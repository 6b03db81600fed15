import { fstatSync } from 'node:fs';
import { pino, type Logger as PinoLogger, type LoggerOptions } from 'pino';

/** pino's levels plus syslog's `notice` (normal but significant: a refused login). */
export type Logger = PinoLogger<'notice'>;

/**
 * Field names that may carry a secret. pino removes them before a line is written,
 * so a careless `log.info({ password })` still never reaches the journal.
 */
export const REDACT_PATHS = [
  'password',
  'pin',
  'secret',
  'hash',
  '*.password',
  '*.pin',
  '*.secret',
  '*.hash',
  'input',
  '*.input',
];

/**
 * journal: `<N>` sd-daemon priority prefix, readable text, then the JSON fields (for journald);
 * json: one JSON object per line (pipes, files, jq); text: one readable line (a terminal).
 */
export const LOG_FORMATS = ['journal', 'json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const NOTICE = 35;

/** pino level number -> syslog priority (sd-daemon(3)): 7 debug .. 2 crit. */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2; // fatal: the daemon is going down
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= NOTICE) return 5;
  if (level >= 30) return 6;
  return 7;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  35: 'NOTICE',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/**
 * True when standard output is connected to the journal: systemd sets JOURNAL_STREAM to
 * the device and inode of the stream it gave us (systemd.exec(5)); a redirected stdout of
 * a child of such a process inherits the variable but not the stream, hence the compare.
 */
export function stdoutIsJournal(env: NodeJS.ProcessEnv = process.env, fd = 1): boolean {
  const js = env.JOURNAL_STREAM;
  if (!js) return false;
  const [dev, ino] = js.split(':');
  try {
    const st = fstatSync(fd, { bigint: true });
    return String(st.dev) === dev && String(st.ino) === ino;
  } catch {
    return false;
  }
}

/**
 * Turns one line as pino writes it into the chosen format. JSON.parse keeps the last of
 * two equal keys (a child logger's `line` binding and the event's own `line`), so every
 * format leaves with each key once.
 */
export function formatLine(raw: string, format: LogFormat): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return raw.endsWith('\n') ? raw : raw + '\n';
  }
  if (format === 'json') return JSON.stringify(o) + '\n';
  const level = typeof o.level === 'number' ? o.level : 30;
  const head = headline(o);
  if (format === 'journal') {
    // journald records the time and the priority itself.
    const { level: _l, time: _t, ...fields } = o;
    return `<${syslogPriority(level)}>${head} ${JSON.stringify(fields)}\n`;
  }
  const { level: _l, time, event: _e, line: _n, msg: _m, ...fields } = o;
  const rest = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  const name = (LEVEL_NAMES[level] ?? String(level)).padEnd(6);
  return `${String(time ?? '')} ${name} ${head}${rest ? ' ' + rest : ''}\n`;
}

/** `event [line]: msg`, without `{` so the JSON part is found by its first brace. */
function headline(o: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof o.event === 'string') parts.push(o.event);
  if (typeof o.line === 'string') parts.push(`[${o.line}]`);
  let head = parts.join(' ');
  if (typeof o.msg === 'string' && o.msg) head += (head ? ': ' : '') + o.msg;
  return (head || 'log').replace(/[{\n]/g, ' ');
}

const OBSERVERS = Symbol('callbackd.logObservers');
type Observer = (event: Record<string, unknown>) => void;

/**
 * Calls `fn` with every event of at least debug level the logger (or a child of it)
 * writes, whatever its configured level: metrics count what the log says happened.
 * Returns false for a logger not made by createLogger.
 */
export function observeLog(log: Logger, fn: Observer): boolean {
  const list = (log as unknown as Record<symbol, Observer[] | undefined>)[OBSERVERS];
  if (!list) return false;
  list.push(fn);
  return true;
}

const LEVEL_VALUES: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  notice: 35,
  warn: 40,
  error: 50,
  fatal: 60,
};

export function createLogger(
  opts: { level?: string; destination?: NodeJS.WritableStream; format?: LogFormat } = {},
): Logger {
  const level = opts.level ?? process.env.CALLBACKD_LOG_LEVEL ?? 'info';
  // pino runs at debug at least so observers (metrics, the per-call trace's state
  // changes) see every event; lines below the configured level are dropped at the writer.
  const threshold = LEVEL_VALUES[level] ?? (level === 'silent' ? Infinity : 30);
  const observers: Observer[] = [];
  const options: LoggerOptions<'notice'> = {
    level: threshold < 20 ? level : 'debug',
    customLevels: { notice: NOTICE },
    base: undefined, // journald already records pid and host
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const format = opts.format ?? (opts.destination ? 'json' : stdoutIsJournal() ? 'journal' : 'json');
  const out = opts.destination ?? pino.destination({ dest: 1, sync: true });
  const stream = {
    write: (s: string) => {
      if (observers.length > 0 || threshold > 20) {
        let e: Record<string, unknown> | undefined;
        try {
          e = JSON.parse(s) as Record<string, unknown>;
        } catch {
          /* written as it is below */
        }
        if (e) for (const fn of observers) fn(e);
        if (e && typeof e.level === 'number' && e.level < threshold) return;
      }
      out.write(formatLine(s, format));
    },
  };
  const log = pino(options, stream);
  Object.defineProperty(log, OBSERVERS, { value: observers });
  return log;
}

/** A logger that drops everything: for unit tests that do not assert on logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent', customLevels: { notice: NOTICE } });
}
