import { DEFAULTS } from '../defaults.js';
import * as m from './parse.js';
import { quote, Toml } from './toml.js';
import * as t from './translate.js';
import { GUESS_NOTE } from '../warnings.js';

/**
 * Translates an mgetty + callback setup into a callbackd config (TOML text). What
 * has a callbackd equivalent becomes config; everything else becomes a comment that
 * says why it was not carried over, so the admin can review the result line by line.
 * The output always parses with parseConfig: what cannot be made valid (a number the
 * caller types unchecked, a wildcard login) is emitted commented out.
 */

export interface SourceFile {
  path: string;
  text: string;
}

export interface MgettyInput {
  loginConfig?: SourceFile;
  mgettyConfig?: SourceFile;
  inittab?: SourceFile;
  callbackConfig?: SourceFile;
  passwd?: SourceFile;
  /** /etc/ppp/options.<tty>, where mgetty setups keep `local:remote` per line. */
  pppOptionsFor?: (tty: string) => SourceFile | undefined;
  /** Files looked for and not found, named in the header. */
  missing?: string[];
  now?: Date;
}

/** RFC 5737 TEST-NET-1: valid addresses that are obviously not real and route nowhere. */
const PLACEHOLDER = { local: '192.0.2.1', remote: '192.0.2.2' };

const LINE_KEYS = new Set(['speed', 'init-chat', 'rings']);

export function importMgetty(input: MgettyInput): string {
  const notes: string[] = [];
  const timing = new Map<string, string>();
  const login = new Map<string, string>();
  const lines = new Map<string, t.LineDraft>();
  const lineFor = (tty: string): t.LineDraft => {
    const l = lines.get(tty) ?? t.newLine(tty);
    lines.set(tty, l);
    return l;
  };

  // mgetty.config: global settings, then per-port sections that override them.
  const globalLine = t.newLine('(global)');
  if (input.mgettyConfig) {
    const file = input.mgettyConfig;
    const cfg = m.parsePortConfig(file.text);
    for (const s of cfg.global) {
      const where = `${file.path}:${s.lineNo}`;
      t.applySetting(s, where, LINE_KEYS.has(s.key) ? globalLine : undefined, timing, login, notes);
    }
    for (const [tty, settings] of cfg.ports) {
      const l = lineFor(tty);
      for (const s of settings)
        t.applySetting(s, `${file.path}:${s.lineNo}`, l, l.timing, undefined, l.notes);
    }
  }
  // inittab: mgetty's command-line options override mgetty.config.
  for (const g of input.inittab ? m.parseInittab(input.inittab.text) : []) {
    t.applyInittab(g, lineFor(g.tty), `${input.inittab!.path}:${g.lineNo}`);
  }
  notes.push(...globalLine.notes);

  const cb = t.callbackDefaults(input.callbackConfig, notes);
  const ppp = { path: DEFAULTS.pppd.path, options: [] as string[], local: '', remote: '', autoppp: false };
  const callbacks: string[][] = [];
  const unused: string[] = [];
  const loginPath = input.loginConfig?.path ?? 'login.config';
  for (const e of input.loginConfig ? m.parseLoginConfig(input.loginConfig.text) : []) {
    const where = `${loginPath}:${e.lineNo}`;
    const prog = e.program.replace(/^.*\//, '');
    if (prog === 'callback') {
      callbacks.push(
        t.callbackEntry(e, where, cb, (tty) => {
          // A dial-out device mgetty did not watch: callbackd dials on it but does not answer.
          if (!lines.has(tty)) lineFor(tty).answer = false;
          lineFor(tty).dialOut = true;
        }),
      );
    } else if (e.username === '/AutoPPP/') {
      ppp.autoppp = true;
      ppp.path = e.program;
      t.translatePppArgs(e.args, ppp, where, notes);
    } else if (prog === 'login') {
      unused.push(
        `${where}: ${e.username} -> ${e.program}: callbackd offers no shell logins, only call-back and PPP`,
      );
    } else if (prog === 'pppd') {
      unused.push(
        `${where}: ${e.username} starts pppd: add a [[ppp_users]] table (passwords cannot be imported)`,
      );
    } else {
      unused.push(`${where}: ${e.username} -> ${e.program}: no callbackd equivalent`);
    }
  }
  // Dial-out devices alone (`callback -l ttyS2` on a port mgetty did not watch) answer
  // nothing, and a call-back entry without dial_lines needs a line that answers.
  if (![...lines.values()].some((l) => l.answer)) {
    let n = 0;
    while (lines.has(`ttyS${n}`)) n++;
    notes.push(
      `REVIEW: no mgetty port found (no port section, no mgetty in inittab); /dev/ttyS${n} is a guess`,
    );
    lineFor(`ttyS${n}`).guessed = true;
  }
  for (const l of lines.values()) {
    l.speed ??= globalLine.speed;
    l.init ??= globalLine.init;
    l.rings ??= globalLine.rings;
    l.dialPrefix ??= cb.dialPrefix;
  }
  findAddresses(input, lines, ppp);

  const out = new Toml();
  header(out, input, notes);
  for (const [name, table] of [
    ['timing', timing],
    ['login', login],
  ] as const) {
    if (table.size === 0) continue;
    out.table(name);
    for (const [k, v] of table) out.kv(k, v);
    out.blank();
  }
  for (const l of lines.values()) t.emitLine(out, l);
  for (const rows of callbacks) {
    for (const row of rows) out.raw(row);
    out.blank();
  }
  for (const u of input.passwd ? m.pppShellUsers(input.passwd.text) : []) {
    out.comment(
      `REVIEW: ${u} has pppd as login shell in ${input.passwd!.path}; uncomment with a hash of its password:`,
    );
    out.comment('[[ppp_users]]');
    out.comment(`name = ${quote(u)}`);
    out.comment('password_hash = "scrypt$..."   # from `callbackd hash-password`');
    out.blank();
  }
  emitPppd(out, ppp);
  if (unused.length > 0) {
    out.blank();
    for (const n of unused) out.comment(`not translated: ${n}`);
  }
  return out.text();
}

function header(out: Toml, input: MgettyInput, notes: string[]): void {
  const read = [input.loginConfig, input.mgettyConfig, input.inittab, input.callbackConfig, input.passwd];
  out.comment('callbackd configuration imported from mgetty by `callbackd import-mgetty`');
  out.comment(
    `on ${(input.now ?? new Date()).toISOString()}. Review every REVIEW and "not translated" comment,`,
  );
  out.comment('then check it with `callbackd check-config FILE`.');
  out.comment(`Read: ${read.flatMap((f) => (f ? [f.path] : [])).join(', ') || 'nothing'}`);
  if (input.missing?.length) out.comment(`Not found: ${input.missing.join(', ')}`);
  out.comment('');
  out.comment('Passwords and PINs cannot be imported: mgetty left them to /etc/passwd, /etc/shadow and');
  out.comment('/etc/ppp/pap-secrets, whose hashes callbackd cannot reuse. Make a hash with');
  out.comment(
    '`callbackd hash-password` and put it in a [[ppp_users]] password_hash or a call-back pin_hash.',
  );
  out.comment('pppd itself still checks PAP against /etc/ppp/pap-secrets as before.');
  for (const n of notes) out.comment(n.startsWith('REVIEW') ? n : `not translated: ${n}`);
  out.blank();
}

/** The HOWTO keeps `local:remote` in /etc/ppp/options.<tty>: the first pair is [pppd]'s, others become [lines.pppd]. */
function findAddresses(
  input: MgettyInput,
  lines: Map<string, t.LineDraft>,
  ppp: { local: string; remote: string },
): void {
  for (const tty of lines.keys()) {
    const f = input.pppOptionsFor?.(tty);
    const pair = f
      ? m
          .pppOptionWords(f.text)
          .map(m.addressPair)
          .find((p) => p !== undefined)
      : undefined;
    if (!f || !pair) continue;
    if (!ppp.local && !ppp.remote) {
      // The first pair found is [pppd]'s; lines with another pair get their own [lines.pppd].
      ppp.local = pair.local ?? '';
      ppp.remote = pair.remote ?? '';
      continue;
    }
    const differs = (pair.local && pair.local !== ppp.local) || (pair.remote && pair.remote !== ppp.remote);
    if (differs) {
      const line = lines.get(tty);
      if (line) line.ppp = { local: pair.local, remote: pair.remote, from: f.path };
    }
  }
}

function emitPppd(
  out: Toml,
  ppp: { path: string; options: string[]; local: string; remote: string; autoppp: boolean },
): void {
  out.table('pppd');
  out.kv('path', ppp.path);
  out.kv('options', ppp.options);
  if (!ppp.local || !ppp.remote) {
    out.comment('REVIEW: no local:remote pair in the AutoPPP line or /etc/ppp/options.<tty>; the');
    out.comment('missing address below is a documentation placeholder (192.0.2.0/24) that routes nowhere.');
  }
  out.kv('local_address', ppp.local || PLACEHOLDER.local, ppp.local ? undefined : GUESS_NOTE);
  out.kv('remote_address', ppp.remote || PLACEHOLDER.remote, ppp.remote ? undefined : GUESS_NOTE);
  if (ppp.autoppp) {
    out.comment('mgetty started pppd on PPP frames at any login prompt, call-back or not. Set');
    out.comment('autoppp_before_callback = false to make every PPP caller go through call-back.');
  }
  // mgetty did this, but it lets PPP callers skip the call-back: flagged until decided.
  out.kv('autoppp_before_callback', ppp.autoppp, ppp.autoppp ? GUESS_NOTE : undefined);
  out.kv('autoppp_after_callback', ppp.autoppp);
}
