import type {
  CallbackEntry,
  DaemonConfig,
  LineConfig,
  LoginConfig,
  NumberRules,
  PppdConfig,
  SecurityConfig,
} from './types.js';

/**
 * Defaults for every optional key, in one place so the loader, the sample config and
 * docs/configuration.md can agree (a test compares the sample's comments with these).
 * Login texts use mgetty's tokens: `@` host, `\L` tty, `\N` call-back number, `\n` newline.
 */
export const DEFAULTS = {
  daemon: {
    lockDir: '/var/lock',
    stateDir: '/var/lib/callbackd',
    accountingFile: '/var/log/callbackd/accounting.jsonl',
    logLevel: 'info',
    nologinDir: '/etc',
    controlSocket: '/run/callbackd/control',
    metricsListen: '',
    traceDir: '',
    traceKeep: 50,
  } satisfies Omit<DaemonConfig, 'hostname'>,
  login: {
    issue: '\\n@ (\\L)\\n\\n',
    prompt: '@ login: ',
    passwordPrompt: 'Password: ',
    maxLength: 32,
    maxAttempts: 3,
    callbackMessage: '\\nCalling you back at \\N. Hang up now.\\n',
    goodbye: '\\nGoodbye.\\n',
    timeoutWarning: '\\nNo login: hanging up in one minute.\\n',
  } satisfies LoginConfig,
  security: {
    // Five wrong guesses in 10 minutes lock a caller (or a name from one caller) for
    // 30 minutes, then 1 h, 2 h, ... (at most a week); at most 10 wrong guesses at one
    // name a day from callers who show a number and 10 from callers who withhold it.
    lockout: { maxFailures: 5, windowMs: 600_000, lockMs: 1_800_000, dailyMaxFailures: 10 },
    // Toll-fraud ceiling: a stolen PIN can cost at most this many calls an hour.
    rateLimit: { perEntry: 6, perNumber: 6, total: 30, windowMs: 3_600_000 },
  } satisfies SecurityConfig,
  line: {
    speed: 115200,
    flowControl: 'rtscts',
    // mgetty's default init chat; `\d` is a half-second pause.
    init: '"" \\dATQ0V1H0 OK ATS0=0Q0&D3&C1 OK',
    dialPrefix: 'ATDT',
    rings: 1,
    answer: true,
    dialOut: true,
  } satisfies Omit<LineConfig, 'name' | 'device' | 'signals' | 'timing'>,
  rules: { allow: [], deny: [], minLength: 3, maxLength: 20, modifiers: '' } satisfies NumberRules,
  callback: {
    // The callback program's defaults: 20 s before dialling (modem manuals advise 30 s
    // when the exchange may hold the caller's line), retries 30 s apart.
    delayMs: 20_000,
    attempts: 3,
    retryDelayMs: 30_000,
  } satisfies Pick<CallbackEntry, 'delayMs' | 'attempts' | 'retryDelayMs'>,
  pppd: {
    path: '/usr/sbin/pppd',
    prefixArgs: [],
    options: [],
    autoPppBeforeCallback: false,
    autoPppAfterCallback: true,
  } satisfies Omit<PppdConfig, 'localAddress' | 'remoteAddress'>,
};
