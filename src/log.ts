import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

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

export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? process.env.CALLBACKD_LOG_LEVEL ?? 'info',
    base: undefined, // journald already records pid and host
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that drops everything: for unit tests that do not assert on logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
