import type { Timing } from '../timing.js';
import type { RadiusConfig } from './radius.js';

/**
 * The validated, normalised configuration. load.ts builds it from the TOML file
 * (snake_case keys there, camelCase here); everything else reads only this type.
 * All durations are milliseconds.
 */
export interface Config {
  /** Path the config was read from, for messages. */
  source: string;
  daemon: DaemonConfig;
  /** Global timing; each line's `timing` is this merged with its own overrides. */
  timing: Timing;
  login: LoginConfig;
  security: SecurityConfig;
  lines: LineConfig[];
  callbacks: CallbackEntry[];
  pppUsers: PppUser[];
  pppd: PppdConfig;
  /** Present when the file has a [radius] section (callbackd as a RADIUS NAS). */
  radius?: RadiusConfig;
}

export interface DaemonConfig {
  /** UUCP lock directory (Debian: /var/lock). */
  lockDir: string;
  /** Where status and lockout state live: a persistent directory only root can write (/var/lib/callbackd). */
  stateDir: string;
  /** JSONL accounting file, one record a call. */
  accountingFile: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Shown for `@` in the issue text; defaults to os.hostname(). */
  hostname: string;
  /**
   * Where `nologin.<line name>` files are looked for (mgetty: /etc/nologin.ttyS1):
   * while one exists, that line counts RINGs but does not answer.
   */
  nologinDir: string;
  /** Unix socket of `callbackd status|line|test-call|reload`; empty or absent: none. */
  controlSocket?: string;
  /** Prometheus metrics: "host:port" or a unix socket path; empty or absent: off. */
  metricsListen?: string;
  /** Per-call trace files (every modem byte, secrets by length); empty or absent: off. */
  traceDir?: string;
  /** Trace files kept (newest first). */
  traceKeep?: number;
}

export interface LoginConfig {
  /** Issue text, with mgetty tokens (\P \L \Y \I \S \D \T @ \n \r \t). */
  issue: string;
  prompt: string;
  passwordPrompt: string;
  /** Login names longer than this are refused (and input beyond it ignored). */
  maxLength: number;
  /** Wrong name/password pairs in one call before the line is hung up. */
  maxAttempts: number;
  /** Text sent before hanging up for the call-back; tokens plus \N for the number. */
  callbackMessage: string;
  /** Text sent when the login is refused for good. */
  goodbye: string;
  /** Text sent when loginMs passes without input, loginGraceMs before hang-up. */
  timeoutWarning: string;
}

export interface SecurityConfig {
  /**
   * Failures (wrong PIN/password, refused number) from one caller ID, or at one login
   * name from one caller: maxFailures in windowMs lock for lockMs, doubled at each
   * further lock (at most a week). dailyMaxFailures caps the failures at one name in
   * a day, separately for callers who show and who withhold their number (default 10).
   */
  lockout: { maxFailures: number; windowMs: number; lockMs: number; dailyMaxFailures?: number };
  /** Toll-fraud limits on dialling out. */
  rateLimit: {
    /** Call-backs one entry may trigger in windowMs. */
    perEntry: number;
    /** Call-backs to one number in windowMs. */
    perNumber: number;
    /** Call-backs in all, across every line, in windowMs. */
    total: number;
    windowMs: number;
  };
}

export type FlowControl = 'rtscts' | 'xonxoff' | 'none';

/** How DTR and carrier are reached: the tty's ioctls, or the simulator's control socket. */
export type SignalsConfig = { kind: 'hardware' } | { kind: 'sim'; socket: string };

export interface LineConfig {
  /** Short name used in logs, locks and accounting; the device's base name by default. */
  name: string;
  device: string;
  speed: number;
  flowControl: FlowControl;
  /** Init chat in mgetty syntax: `"" ATZ OK AT&F&C1&D2 OK`. */
  init: string;
  /** Dial command prefix, e.g. ATDT or ATD. The validated number is appended. */
  dialPrefix: string;
  /** RINGs counted before ATA. */
  rings: number;
  /** Whether this line answers incoming calls. */
  answer: boolean;
  /** Whether this line may be used to dial call-backs. */
  dialOut: boolean;
  signals: SignalsConfig;
  timing: Timing;
  /** `[lines.pppd]`: this line's own address pair, over [pppd]'s (see pppdForLine). */
  pppd?: { localAddress?: string; remoteAddress?: string };
  /** `ppp_callback`: PPP frames at the first login go to the PPP engine (PAP + CBCP). */
  pppCallback?: boolean;
}

export interface NumberRules {
  /** Prefixes (digits) or /regex/ the number must match one of; empty = any. */
  allow: string[];
  /** Prefixes or /regex/ that refuse the number even when allowed. */
  deny: string[];
  minLength: number;
  maxLength: number;
  /** Dial modifiers allowed besides digits, e.g. "," (pause) or "W" (wait for tone). */
  modifiers: string;
  /**
   * `*` and `#` are service codes (call forwarding, caller-ID suppression): refused
   * unless this is true, even when `modifiers` names them. Default false.
   */
  serviceCodes?: boolean;
  /** What a typed `+` stands for and is dialled as (Europe "00", NANP "011"). Default "00". */
  internationalPrefix?: string;
  /** The line's own country code (e.g. "49"): +49 / 0049 numbers become national ones. */
  countryCode?: string;
  /** Prefix of national numbers in the national form (Germany "0", NANP "1"). Default "0". */
  nationalPrefix?: string;
}

export interface CallbackEntry {
  /** The pseudo-user typed at `login:` (e.g. `call`). */
  name: string;
  /** scrypt hash from `callbackd hash-password`; when set the caller is asked for it. */
  pinHash?: string;
  /** Fixed number to call back; absent when the caller supplies it. */
  number?: string;
  /** Caller types the number; it must pass `rules`. */
  callerSupplies: boolean;
  rules: NumberRules;
  /** Caller-ID screening, mgetty dialin.config style (prefixes, !negation, all, none). */
  callerId: string[];
  delayMs: number;
  attempts: number;
  retryDelayMs: number;
  /** Lines allowed for dialling back; empty = the line the call came in on. */
  dialLines: string[];
  /**
   * What asks for the call-back: a login as `name` (absent or 'login'), or a ring from a
   * caller ID that `callerId` lists ('ring': never answered, `number` is called back).
   */
  trigger?: 'login' | 'ring';
  /** With trigger 'ring': no RING for this long means the caller has hung up (default: the line's ring_gap). */
  ringGapMs?: number;
  /** `[callbacks.ppp]`: the call-back may be asked for inside PPP (PAP + CBCP). */
  ppp?: PppCallbackSettings;
}

/** A CBCP call-back type: 1 no call-back, 2 the caller's number, 3 the entry's number. */
export type PppCallbackType = 'none' | 'user' | 'admin';

export interface PppCallbackSettings {
  /** Types offered in the Callback-Request. */
  types: PppCallbackType[];
  /** A caller without LCP option 13 (no CBCP): refused, or the line goes to pppd. */
  withoutCbcp: 'refuse' | 'pppd';
  /** The caller's CBCP delay (0..255 s) is capped here. */
  maxDelayMs: number;
}

export interface PppUser {
  name: string;
  /** scrypt hash for the text login; pppd checks PAP against its own pap-secrets. */
  passwordHash: string;
  /** Remote address given to this user (overrides pppd.remoteAddress). */
  remoteAddress?: string;
}

export interface PppdConfig {
  /** Program to run; argv[0]. */
  path: string;
  /** Extra argv placed right after path, before options (a wrapper's own script, say). */
  prefixArgs: string[];
  /** pppd options as an argv list, e.g. ["require-pap", "proxyarp", "ms-dns", "192.168.1.1"]. */
  options: string[];
  localAddress: string;
  remoteAddress: string;
  /** Accept PPP frames at the first login (no call-back) and/or at the second. */
  autoPppBeforeCallback: boolean;
  autoPppAfterCallback: boolean;
}
