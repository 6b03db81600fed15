import { hostname } from 'node:os';
import { basename } from 'node:path';
import { DEFAULT_TIMING, validateTiming, type Timing } from '../timing.js';
import { isSecretHash } from './secret-hash.js';
import type {
  CallbackEntry,
  DaemonConfig,
  FlowControl,
  LineConfig,
  LoginConfig,
  NumberRules,
  PppdConfig,
  PppCallbackSettings,
  PppCallbackType,
  PppUser,
  SecurityConfig,
  SignalsConfig,
} from './types.js';
import { isTable, type Section } from './reader.js';
import { DEFAULTS } from './defaults.js';
import * as rules from './rules.js';
import { SEPARATORS } from './number-rules.js';

/** Each reader maps one snake_case table to its camelCase type, reporting problems as it goes. */

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

function check(s: Section, key: string, reason: string | undefined): void {
  if (reason !== undefined) s.problem(key, reason);
}

export function readDaemon(s: Section): DaemonConfig {
  const d = DEFAULTS.daemon;
  const out: DaemonConfig = {
    lockDir: s.string('lock_dir', d.lockDir),
    stateDir: s.string('state_dir', d.stateDir),
    accountingFile: s.string('accounting_file', d.accountingFile),
    logLevel: d.logLevel,
    hostname: s.string('hostname', hostname()),
    nologinDir: s.string('nologin_dir', d.nologinDir),
    controlSocket: s.string('control_socket', d.controlSocket),
    metricsListen: s.string('metrics_listen', d.metricsListen),
    traceDir: s.string('trace_dir', d.traceDir),
    traceKeep: s.int('trace_keep', d.traceKeep, 1, 100_000),
  };
  if (out.traceDir) check(s, 'trace_dir', rules.absolutePathProblem(out.traceDir));
  if (out.metricsListen) check(s, 'metrics_listen', rules.listenProblem(out.metricsListen));
  if (out.controlSocket) check(s, 'control_socket', rules.absolutePathProblem(out.controlSocket));
  for (const key of ['lock_dir', 'state_dir', 'accounting_file', 'nologin_dir'] as const) {
    if (s.has(key)) check(s, key, rules.absolutePathProblem(s.string(key, '')));
  }
  const level = s.string('log_level', d.logLevel);
  if ((LOG_LEVELS as readonly string[]).includes(level)) out.logLevel = level as DaemonConfig['logLevel'];
  else s.problem('log_level', `must be one of ${LOG_LEVELS.join(', ')}`);
  if (out.hostname === '') s.problem('hostname', 'must not be empty');
  s.done();
  return out;
}

/** `answerMs` <-> `answer`, `loginGraceMs` <-> `login_grace`. */
export function timingKey(field: keyof Timing): string {
  return field.replace(/Ms$/, '').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const TIMING_FIELDS = Object.keys(DEFAULT_TIMING) as (keyof Timing)[];

/** Overrides from one [timing] table, in camelCase; problems as the file spells the keys. */
export function readTiming(s: Section, base: Timing): { timing: Timing; overrides: Partial<Timing> } {
  const overrides: Partial<Timing> = {};
  for (const field of TIMING_FIELDS) {
    const key = timingKey(field);
    if (s.has(key)) overrides[field] = s.duration(key, base[field]);
  }
  s.done();
  const timing = { ...base, ...overrides };
  for (const problem of validateTiming(timing)) {
    const field = problem.slice(0, problem.indexOf(':')) as keyof Timing;
    // Report only what this table set; a merged-in bad value is reported where it was written.
    const mine = field in overrides || (field === 'reopenMinMs' && 'reopenMaxMs' in overrides);
    const reason = problem
      .slice(problem.indexOf(':') + 2)
      .replace(/\b[a-z][A-Za-z]*Ms\b/g, (f) => timingKey(f as keyof Timing));
    if (mine) s.problem(timingKey(field), reason);
  }
  return { timing, overrides };
}

export function readLogin(s: Section): LoginConfig {
  const d = DEFAULTS.login;
  const out: LoginConfig = {
    issue: s.string('issue', d.issue),
    prompt: s.string('prompt', d.prompt),
    passwordPrompt: s.string('password_prompt', d.passwordPrompt),
    maxLength: s.int('max_length', d.maxLength, 1, 256),
    maxAttempts: s.int('max_attempts', d.maxAttempts, 1, 20),
    callbackMessage: s.string('callback_message', d.callbackMessage),
    goodbye: s.string('goodbye', d.goodbye),
    timeoutWarning: s.string('timeout_warning', d.timeoutWarning),
  };
  if (out.prompt === '') s.problem('prompt', 'must not be empty');
  s.done();
  return out;
}

const HOUR = 3_600_000;

export function readSecurity(s: Section): SecurityConfig {
  const d = DEFAULTS.security;
  const l = s.section('lockout');
  const lockout = {
    maxFailures: l.int('max_failures', d.lockout.maxFailures, 1, 1000),
    windowMs: l.duration('window', d.lockout.windowMs, 1_000, 30 * 24 * HOUR),
    lockMs: l.duration('lock', d.lockout.lockMs, 1_000, 30 * 24 * HOUR),
    dailyMaxFailures: l.int('daily_max_failures', d.lockout.dailyMaxFailures, 1, 10_000),
  };
  l.done();
  const r = s.section('rate_limit');
  const rateLimit = {
    perEntry: r.int('per_entry', d.rateLimit.perEntry, 1, 100_000),
    perNumber: r.int('per_number', d.rateLimit.perNumber, 1, 100_000),
    total: r.int('total', d.rateLimit.total, 1, 100_000),
    windowMs: r.duration('window', d.rateLimit.windowMs, 1_000, 30 * 24 * HOUR),
  };
  r.done();
  s.done();
  return { lockout, rateLimit };
}

function readSignals(s: Section): SignalsConfig {
  if (!s.has('signals')) return { kind: 'hardware' };
  const v = s.table.signals;
  if (v === 'hardware') return { kind: 'hardware' };
  if (isTable(v)) {
    const t = s.section('signals');
    const kind = t.string('kind', 'hardware');
    if (kind === 'hardware') {
      t.done();
      return { kind: 'hardware' };
    }
    if (kind === 'sim') {
      const socket = t.required('socket');
      if (socket !== '') check(t, 'socket', rules.absolutePathProblem(socket));
      t.done();
      return { kind: 'sim', socket };
    }
    t.problem('kind', 'must be "hardware" or "sim"');
    return { kind: 'hardware' };
  }
  s.problem('signals', 'must be "hardware" or a table { kind = "sim", socket = "/path" }');
  return { kind: 'hardware' };
}

export function readLine(s: Section, globalTiming: Timing): LineConfig {
  const d = DEFAULTS.line;
  const device = s.required('device');
  if (device !== '') check(s, 'device', rules.absolutePathProblem(device));
  const name = s.string('name', basename(device));
  if ((s.has('name') || device !== '') && !/^[A-Za-z0-9._-]{1,32}$/.test(name)) {
    s.problem('name', 'must be 1..32 letters, digits, ".", "_" or "-" (it names lock and log entries)');
  }
  const speed = s.int('speed', d.speed, 1, 4_000_000);
  if (!(rules.SPEEDS as readonly number[]).includes(speed)) {
    s.problem('speed', `${speed} is not a standard speed (${rules.SPEEDS.join(', ')})`);
  }
  const flow = s.string('flow_control', d.flowControl);
  if (!['rtscts', 'xonxoff', 'none'].includes(flow))
    s.problem('flow_control', 'must be rtscts, xonxoff or none');
  const init = s.string('init', d.init);
  if (/[\0\r\n]/.test(init)) s.problem('init', 'must be one line (no NUL, CR or LF)');
  const dialPrefix = s.string('dial_prefix', d.dialPrefix);
  if (!rules.DIAL_PREFIX.test(dialPrefix)) s.problem('dial_prefix', 'must be ATD, ATDT or ATDP');
  const out: LineConfig = {
    name,
    device,
    speed,
    flowControl: flow as FlowControl,
    init,
    dialPrefix,
    rings: s.int('rings', d.rings, 1, 20),
    answer: s.bool('answer', d.answer),
    dialOut: s.bool('dial_out', d.dialOut),
    signals: readSignals(s),
    timing: readTiming(s.section('timing'), globalTiming).timing,
  };
  if (s.has('pppd')) {
    const p = s.section('pppd');
    const own: NonNullable<LineConfig['pppd']> = {};
    for (const [key, field] of [
      ['local_address', 'localAddress'],
      ['remote_address', 'remoteAddress'],
    ] as const) {
      const v = p.string(key);
      if (v !== undefined) {
        check(p, key, rules.ipv4Problem(v));
        own[field] = v;
      }
    }
    p.done();
    out.pppd = own;
  }
  if (s.has('ppp_callback')) {
    out.pppCallback = s.bool('ppp_callback', false);
    if (out.pppCallback && !out.answer) {
      s.problem('ppp_callback', 'needs answer = true (it acts on incoming calls)');
    }
  }
  if (!out.answer && !out.dialOut)
    s.problem('answer', 'a line with answer = false and dial_out = false is unused');
  s.done();
  return out;
}

function readRules(s: Section): NumberRules {
  const d = DEFAULTS.rules;
  const out: NumberRules = {
    allow: s.strings('allow', d.allow),
    deny: s.strings('deny', d.deny),
    minLength: s.int('min_length', d.minLength, 1, 32),
    maxLength: s.int('max_length', d.maxLength, 1, 32),
    modifiers: s.string('modifiers', d.modifiers),
  };
  // Set only when written, so the policy's defaults (no service codes, + is 00,
  // national prefix 0) are stated in one place.
  if (s.has('service_codes')) out.serviceCodes = s.bool('service_codes', false);
  const intl = s.string('international_prefix');
  if (intl !== undefined) out.internationalPrefix = intl;
  const national = s.string('national_prefix');
  if (national !== undefined) out.nationalPrefix = national;
  const cc = s.string('country_code');
  if (cc !== undefined) out.countryCode = cc;
  out.allow.forEach((r, i) => check(s, `allow[${i}]`, rules.numberRuleProblem(r)));
  out.deny.forEach((r, i) => check(s, `deny[${i}]`, rules.numberRuleProblem(r)));
  if (out.minLength > out.maxLength) s.problem('min_length', `larger than max_length (${out.maxLength})`);
  check(s, 'modifiers', rules.modifiersProblem(out.modifiers));
  if (intl !== undefined) check(s, 'international_prefix', rules.digitPrefixProblem(intl, false));
  if (national !== undefined) check(s, 'national_prefix', rules.digitPrefixProblem(national, true));
  if (cc !== undefined) check(s, 'country_code', rules.digitPrefixProblem(cc, false));
  s.done();
  return out;
}

export function readCallback(s: Section, maxNameLength: number): CallbackEntry {
  const d = DEFAULTS.callback;
  const name = s.required('name');
  if (s.has('name')) check(s, 'name', rules.loginNameProblem(name, maxNameLength));
  const pinHash = s.string('pin_hash');
  if (pinHash !== undefined && !isSecretHash(pinHash)) {
    s.problem('pin_hash', 'is not a callbackd scrypt hash (make one with `callbackd hash-password`)');
  }
  const number = s.string('number');
  const callerSupplies = s.bool('caller_supplies', false);
  const hasRules = s.has('rules');
  const out: CallbackEntry = {
    name,
    callerSupplies,
    rules: readRules(s.section('rules')),
    callerId: s.strings('caller_id'),
    delayMs: s.duration('delay', d.delayMs, 0, HOUR),
    attempts: s.int('attempts', d.attempts, 1, 20),
    retryDelayMs: s.duration('retry_delay', d.retryDelayMs, 0, HOUR),
    dialLines: s.strings('dial_lines'),
  };
  if (pinHash !== undefined) out.pinHash = pinHash;
  if (number !== undefined) {
    out.number = number;
    check(s, 'number', rules.dialNumberProblem(number));
  }
  if (number !== undefined && callerSupplies) {
    s.problem('number', 'a fixed number and caller_supplies = true exclude each other');
  } else if (number === undefined && !callerSupplies) {
    s.problem('', 'needs either number = "..." or caller_supplies = true');
  } else if (callerSupplies && !hasRules) {
    s.problem('rules', 'caller_supplies = true needs a rules table (allow, deny, min_length, max_length)');
  } else if (callerSupplies && out.rules.allow.length === 0) {
    s.problem('rules.allow', 'a caller-supplied number needs at least one allow prefix or /regex/');
  }
  // A ring-back's list is numbers, written as people write them: separators go.
  if (s.table.trigger === 'ring') out.callerId = out.callerId.map((r) => r.replace(SEPARATORS, ''));
  out.callerId.forEach((r, i) => check(s, `caller_id[${i}]`, rules.callerIdRuleProblem(r)));
  readRingTrigger(s, out);
  if (s.has('ppp')) out.ppp = readPppCallback(s.section('ppp'), out);
  s.done();
  return out;
}

const PPP_CALLBACK_TYPES: readonly PppCallbackType[] = ['none', 'admin', 'user'];

/** `[callbacks.ppp]`: what the entry offers inside PPP (CBCP), docs/ppp-callback.md. */
function readPppCallback(s: Section, entry: CallbackEntry): PppCallbackSettings {
  const types = s.strings('types');
  const withoutCbcp = s.string('without_cbcp', 'refuse');
  const out: PppCallbackSettings = {
    types: [],
    withoutCbcp: withoutCbcp === 'pppd' ? 'pppd' : 'refuse',
    maxDelayMs: s.duration('max_delay', 60_000, 0, 255_000),
  };
  if (entry.trigger === 'ring') s.problem('', 'a ring-back entry has no PPP login (drop [callbacks.ppp])');
  else if (entry.pinHash === undefined) {
    s.problem('', "needs the entry's pin_hash: it is the PAP password (PAP without a secret is refused)");
  }
  if (types.length === 0) s.problem('types', 'needs at least one of "none", "admin", "user"');
  types.forEach((t, i) => {
    if (!(PPP_CALLBACK_TYPES as readonly string[]).includes(t)) {
      s.problem(`types[${i}]`, `"${t}" is not a call-back type ("none", "admin" or "user")`);
    } else if (out.types.includes(t as PppCallbackType)) {
      s.problem(`types[${i}]`, `"${t}" is listed twice`);
    } else out.types.push(t as PppCallbackType);
  });
  if (out.types.includes('admin') && entry.number === undefined) {
    s.problem('types', '"admin" (the entry\'s own number) needs number = "..."');
  }
  if (out.types.includes('user') && !entry.callerSupplies) {
    s.problem('types', '"user" (a number the caller gives) needs caller_supplies = true and a rules table');
  }
  if (out.types.length > 0 && out.types.every((t) => t === 'none')) {
    s.problem('types', '"none" alone offers no call-back: make the user a [[ppp_users]] entry instead');
  }
  if (withoutCbcp !== 'refuse' && withoutCbcp !== 'pppd')
    s.problem('without_cbcp', 'must be "refuse" or "pppd"');
  s.done();
  return out;
}

/**
 * `trigger = "ring"`: a ring from a listed caller ID is not answered and the entry's own
 * number is called back. Such an entry names who may trigger it (an allow-list of
 * caller-ID prefixes ending in "!all") and has nothing a caller could supply.
 */
function readRingTrigger(s: Section, out: CallbackEntry): void {
  const trigger = s.string('trigger', 'login');
  if (trigger !== 'login' && trigger !== 'ring') {
    s.problem('trigger', 'must be "login" or "ring"');
    return;
  }
  if (trigger === 'login') {
    if (s.has('ring_gap')) s.problem('ring_gap', 'is only used with trigger = "ring"');
    return;
  }
  out.trigger = 'ring';
  if (s.has('ring_gap')) out.ringGapMs = s.duration('ring_gap', 0, 1_000, 10 * 60_000);
  if (out.callerSupplies) s.problem('caller_supplies', "a ring-back calls back only the entry's own number");
  if (out.pinHash !== undefined) s.problem('pin_hash', 'a ring-back has no login to ask for a PIN');
  const ids = out.callerId;
  if (ids.length === 0) {
    s.problem('caller_id', 'trigger = "ring" needs the caller IDs that may ring back, ending in "!all"');
  } else if (ids.at(-1)?.trim() !== '!all') {
    s.problem('caller_id', 'a ring-back list must end in "!all" (anyone not listed gets no call-back)');
  } else {
    ids.slice(0, -1).forEach((r, i) => {
      if (/^!?(all|none)$/.test(r.trim())) {
        s.problem(`caller_id[${i}]`, `"${r}" in a ring-back list: name caller-ID numbers, then "!all"`);
      }
    });
    if (!ids.slice(0, -1).some((r) => /^\+?[0-9]+$/.test(r.trim()))) {
      s.problem('caller_id', 'a ring-back list needs at least one caller-ID number before "!all"');
    }
  }
}

export function readPppUser(s: Section, maxNameLength: number): PppUser {
  const name = s.required('name');
  if (s.has('name')) check(s, 'name', rules.loginNameProblem(name, maxNameLength));
  const passwordHash = s.required('password_hash');
  if (s.has('password_hash') && typeof s.table.password_hash === 'string' && !isSecretHash(passwordHash)) {
    s.problem('password_hash', 'is not a callbackd scrypt hash (make one with `callbackd hash-password`)');
  }
  const out: PppUser = { name, passwordHash };
  const remote = s.string('remote_address');
  if (remote !== undefined) {
    out.remoteAddress = remote;
    check(s, 'remote_address', rules.ipv4Problem(remote));
  }
  s.done();
  return out;
}

export function readPppd(s: Section): PppdConfig {
  const d = DEFAULTS.pppd;
  const out: PppdConfig = {
    path: s.string('path', d.path),
    prefixArgs: s.strings('prefix_args', d.prefixArgs),
    options: s.strings('options', d.options),
    localAddress: s.required('local_address'),
    remoteAddress: s.required('remote_address'),
    autoPppBeforeCallback: s.bool('autoppp_before_callback', d.autoPppBeforeCallback),
    autoPppAfterCallback: s.bool('autoppp_after_callback', d.autoPppAfterCallback),
  };
  check(s, 'path', rules.absolutePathProblem(out.path));
  check(s, 'prefix_args', rules.argvProblem(out.prefixArgs));
  check(s, 'options', rules.argvProblem(out.options));
  for (const key of ['local_address', 'remote_address'] as const) {
    const v = s.table[key];
    if (typeof v === 'string') check(s, key, rules.ipv4Problem(v));
  }
  s.done();
  return out;
}
