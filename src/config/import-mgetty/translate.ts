import { DEFAULT_TIMING } from '../../timing.js';
import { formatDuration } from '../duration.js';
import * as m from './parse.js';
import { Toml } from './toml.js';
import { GUESS_NOTE } from '../warnings.js';
import { dialNumberProblem, loginNameProblem, SPEEDS } from '../rules.js';

/** What one [[lines]] table needs, collected from mgetty.config and inittab. */
export interface LineDraft {
  tty: string;
  /** No mgetty port was found: this tty is a guess (marked for check-config). */
  guessed?: boolean;
  answer: boolean;
  dialOut: boolean;
  speed?: number;
  init?: string;
  rings?: number;
  dialPrefix?: string;
  /** This tty's own local:remote pair from /etc/ppp/options.<tty>, when it differs from [pppd]'s. */
  ppp?: { local?: string; remote?: string; from: string };
  /** callbackd timing key -> duration string. */
  timing: Map<string, string>;
  notes: string[];
}

export function newLine(tty: string): LineDraft {
  return { tty, answer: true, dialOut: true, timing: new Map(), notes: [] };
}

/** mgetty keys that only concern fax, voice or mgetty's own logging. */
const IRRELEVANT =
  /^(fax-|modem-type|switchbd|debug|statistics-|notify|fax|voice|ringback|term|gettydefs|cnd-program|port-(owner|group|mode)|toggle-dtr|blocking|autobauding|diskspace|get-cnd-chat|modem-quirks)/;

/** mgetty times are whole seconds; written back in callbackd's duration syntax. */
function seconds(value: string): string | undefined {
  return /^\d+$/.test(value) ? formatDuration(Number(value) * 1000) : undefined;
}

export function speedOf(value: string, notes: string[], where: string): number | undefined {
  const n = Number(value);
  if ((SPEEDS as readonly number[]).includes(n)) return n;
  notes.push(`${where}: speed ${value} is not a standard speed callbackd accepts; default used`);
  return undefined;
}

export function ringsOf(value: string, notes: string[], where: string): number | undefined {
  const n = Number(value);
  if (Number.isInteger(n) && n >= 1 && n <= 20) return n;
  notes.push(`${where}: rings ${value} is outside 1..20; default used`);
  return undefined;
}

/**
 * One mgetty.config setting. Line settings go to `line` (absent for the global
 * section: the caller applies them to every port), times to `timing`, the rest is
 * recorded in `notes` with the reason it was not carried over.
 */
export function applySetting(
  s: m.Setting,
  where: string,
  line: LineDraft | undefined,
  timing: Map<string, string>,
  login: Map<string, string> | undefined,
  notes: string[],
): void {
  const secs = seconds(s.value);
  switch (s.key) {
    case 'speed':
      if (line) line.speed = speedOf(s.value, notes, where);
      return;
    case 'init-chat':
      if (line) line.init = s.value;
      return;
    case 'rings':
      if (line) line.rings = ringsOf(s.value, notes, where);
      return;
    case 'login-time':
      if (secs) timing.set('login', secs);
      else notes.push(`${where}: login-time ${s.value} is not a number of seconds`);
      return;
    case 'modem-check-time':
      if (secs) timing.set('health_check', secs);
      else notes.push(`${where}: modem-check-time ${s.value} is not a number of seconds`);
      return;
    case 'answer-chat-timeout':
      if (secs) timing.set('answer', secs);
      else notes.push(`${where}: answer-chat-timeout ${s.value} is not a number of seconds`);
      return;
    case 'login-prompt':
      if (login) login.set('prompt', s.value);
      else notes.push(`${where}: login-prompt per port: callbackd has one prompt for all lines`);
      return;
    case 'issue-file':
      notes.push(
        `${where}: issue-file ${s.value}: copy its text into [login] issue (mgetty's tokens work there)`,
      );
      return;
    case 'data-only':
      // callbackd never answers fax; "data-only n" is the only case worth a word.
      if (m.parseBool(s.value) === false) notes.push(`${where}: data-only n: callbackd does not receive fax`);
      return;
    case 'direct':
      if (m.parseBool(s.value))
        notes.push(`${where}: direct line (no modem): cannot answer or call back; REVIEW this line`);
      return;
    case 'answer-chat':
      notes.push(`${where}: answer-chat: callbackd sends ATA and waits for CONNECT itself`);
      return;
  }
  if (IRRELEVANT.test(s.key)) {
    notes.push(`${where}: ${s.key}: fax, voice, logging or tty ownership; callbackd has no such setting`);
  } else {
    notes.push(`${where}: ${s.key} ${s.value}: no callbackd equivalent`);
  }
}

/** mgetty options from an inittab line; they win over mgetty.config. */
export function applyInittab(g: m.InittabGetty, line: LineDraft, where: string): void {
  for (const [opt, arg] of g.options) {
    if (opt === 's') line.speed = speedOf(arg, line.notes, where) ?? line.speed;
    else if (opt === 'n') line.rings = ringsOf(arg, line.notes, where) ?? line.rings;
    else if (opt === 'm') line.init = arg;
    else if (opt === 'D' || opt === 'x')
      continue; // data-only is all callbackd does; debug is the log level
    else line.notes.push(`${where}: mgetty -${opt}${arg ? ` ${arg}` : ''}: no callbackd equivalent`);
  }
}

/** Settings of callback.config that shape every call-back entry. */
export interface CallbackDefaults {
  delay?: string;
  retryDelay?: string;
  attempts?: number;
  dialPrefix?: string;
  dialoutDevices: string[];
}

export function callbackDefaults(
  file: { path: string; text: string } | undefined,
  notes: string[],
): CallbackDefaults {
  const out: CallbackDefaults = { dialoutDevices: [] };
  if (!file) return out;
  const cfg = m.parsePortConfig(file.text);
  let retry = 30;
  let maxTime = 600;
  for (const s of cfg.global) {
    const where = `${file.path}:${s.lineNo}`;
    const n = /^\d+$/.test(s.value) ? Number(s.value) : undefined;
    if (s.key === 'delay' && n !== undefined) out.delay = formatDuration(n * 1000);
    else if (s.key === 'retry-time' && n !== undefined) retry = n;
    else if (s.key === 'max-time' && n !== undefined) maxTime = n;
    else if (s.key === 'dialout-devices')
      out.dialoutDevices = s.value.split(':').filter(Boolean).map(m.ttyName);
    else if (s.key === 'dial-prefix' && /^AT[D][TP]?$/i.test(s.value)) out.dialPrefix = s.value.toUpperCase();
    else if (s.key === 'delay-randomize')
      notes.push(`${where}: delay-randomize: callbackd waits exactly the delay`);
    else notes.push(`${where}: ${s.key} ${s.value}: not translated for call-back`);
  }
  if (cfg.ports.size > 0) notes.push(`${file.path}: per-port call-back sections are not translated`);
  out.retryDelay = formatDuration(retry * 1000);
  // callback kept redialling until max-time; callbackd counts attempts, each up to
  // [timing] dial (60 s) plus the retry delay.
  const dialS = DEFAULT_TIMING.dialMs / 1000;
  out.attempts = Math.min(20, Math.max(1, Math.floor(maxTime / (retry + dialS))));
  return out;
}

/** A login.config line running the callback program, as [[callbacks]] rows. */
export function callbackEntry(
  e: m.LoginEntry,
  where: string,
  cb: CallbackDefaults,
  useForDialOut: (tty: string) => void,
): string[] {
  const out = new Toml();
  const args = m.parseCallbackArgs(e.args);
  out.comment(`from ${where}: ${[e.username, e.userid, e.utmp, e.program, ...e.args].join(' ')}`);
  const nameProblem = /[*?]/.test(e.username)
    ? 'wildcards are not supported'
    : loginNameProblem(e.username, 32);
  const number = args.numbers[0]?.replace(/[-\s().\/]/g, '');
  const numberProblem = number === undefined ? undefined : dialNumberProblem(number);
  const usable = nameProblem === undefined && numberProblem === undefined && number !== undefined;
  const rows: Array<[string, string | number | string[]]> = [['name', e.username]];
  if (number !== undefined) rows.push(['number', number]);
  if (cb.delay) rows.push(['delay', cb.delay]);
  if (cb.attempts !== undefined) rows.push(['attempts', cb.attempts]);
  if (cb.retryDelay) rows.push(['retry_delay', cb.retryDelay]);
  let dialLines: string[] = [];
  if (args.options.has('l') && !args.options.has('S')) {
    dialLines = (args.options.get('l') as string).split(':').filter(Boolean).map(m.ttyName);
  } else if (!args.options.has('S') && cb.dialoutDevices.length > 0) {
    dialLines = cb.dialoutDevices;
  }
  dialLines.forEach(useForDialOut);
  if (dialLines.length > 0) rows.push(['dial_lines', dialLines]);
  if (args.numbers.length > 1)
    out.comment(`not translated: numbers after the first (${args.numbers.slice(1).join(' ')})`);
  for (const [opt, label] of [
    ['m', 'dial-out init chat (-m): the line init applies'],
    ['s', 'speed (-s): the line speed applies'],
  ]) {
    if (args.options.has(opt as string)) out.comment(`not translated: ${label}`);
  }
  if (!usable) {
    const why =
      nameProblem !== undefined
        ? `login name "${e.username}": ${nameProblem}`
        : number === undefined
          ? 'the caller typed the number unchecked; callbackd needs [callbacks.rules] allow/deny for that'
          : `number ${number}: ${numberProblem}`;
    out.comment(`REVIEW, left commented out: ${why}`);
    out.comment('[[callbacks]]');
    for (const [k, v] of rows) out.comment(`${k} = ${JSON.stringify(v)}`);
    if (number === undefined) {
      out.comment('caller_supplies = true');
      out.comment('[callbacks.rules]');
      out.comment('allow = ["0"]          # prefixes or /regex/ the typed number must match');
      out.comment('deny = ["0900", "00"]  # premium rate, international, ...');
    }
    return out.text().trimEnd().split('\n');
  }
  out.arrayTable('callbacks');
  for (const [k, v] of rows) out.kv(k, v);
  return out.text().trimEnd().split('\n');
}

/** pppd words of the AutoPPP line: addresses, options callbackd handles itself, old spellings. */
export function translatePppArgs(
  args: string[],
  ppp: { options: string[]; local: string; remote: string },
  where: string,
  notes: string[],
): void {
  const renamed: Record<string, string> = {
    '+pap': 'require-pap',
    '-pap': 'refuse-pap',
    '+chap': 'require-chap',
    '-chap': 'refuse-chap',
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const pair = m.addressPair(a);
    if (pair) {
      ppp.local = pair.local ?? ppp.local;
      ppp.remote = pair.remote ?? ppp.remote;
    } else if (a === '-detach' || a === 'nodetach' || a === 'detach' || a === 'updetach') {
      notes.push(`${where}: pppd ${a}: callbackd runs pppd in the foreground and waits for it`);
    } else if (a === '@') {
      notes.push(`${where}: pppd argument @ (the login name): callbackd passes the PPP user itself`);
    } else if (/^\/dev\//.test(a)) {
      notes.push(`${where}: pppd device ${a}: the line is pppd's standard input`);
    } else {
      ppp.options.push(renamed[a] ?? a);
    }
  }
}

export function emitLine(out: Toml, l: LineDraft): void {
  for (const n of l.notes) out.comment(`not translated: ${n}`);
  out.arrayTable('lines');
  out.kv('device', `/dev/${l.tty}`, l.guessed ? GUESS_NOTE : undefined);
  out.kv('name', l.tty.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 32));
  if (l.speed !== undefined) out.kv('speed', l.speed);
  if (l.init !== undefined) out.kv('init', l.init.replace(/[\r\n]+/g, ' '));
  if (l.rings !== undefined) out.kv('rings', l.rings);
  if (l.dialPrefix !== undefined) out.kv('dial_prefix', l.dialPrefix);
  if (!l.answer) out.kv('answer', false, 'a callback dial-out device, not an mgetty port');
  if (!l.dialOut) out.kv('dial_out', false);
  if (l.ppp) {
    out.comment(`from ${l.ppp.from}`);
    out.table('lines.pppd');
    if (l.ppp.local) out.kv('local_address', l.ppp.local);
    if (l.ppp.remote) out.kv('remote_address', l.ppp.remote);
  }
  if (l.timing.size > 0) {
    out.table('lines.timing');
    for (const [k, v] of l.timing) out.kv(k, v);
  }
  out.blank();
}
