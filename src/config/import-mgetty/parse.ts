/**
 * Readers for mgetty's configuration files, as mgetty 1.2 and its callback program
 * understand them. They only split the text into data; index.ts decides
 * what each piece means for callbackd.
 */

/** One `username userid utmp program args...` line of login.config. */
export interface LoginEntry {
  lineNo: number;
  username: string;
  userid: string;
  utmp: string;
  program: string;
  args: string[];
}

/** `#` starts a comment line; fields are separated by blanks (mgetty has no quoting here). */
export function parseLoginConfig(text: string): LoginEntry[] {
  const out: LoginEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [username = '', userid = '', utmp = '', program = '', ...args] = line.split(/\s+/);
    out.push({ lineNo: i + 1, username, userid, utmp, program, args });
  });
  return out;
}

/** Key/value settings of one section of mgetty.config or callback.config. */
export interface Setting {
  lineNo: number;
  key: string;
  value: string;
}

export interface PortSections {
  global: Setting[];
  ports: Map<string, Setting[]>;
}

/**
 * mgetty.config and callback.config share one format: `key value` lines, the
 * settings before the first `port <tty>` line are global, each `port` starts a
 * section for that tty.
 */
export function parsePortConfig(text: string): PortSections {
  const global: Setting[] = [];
  const ports = new Map<string, Setting[]>();
  let current = global;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\S+)\s*(.*)$/.exec(line);
    if (!m) return;
    const key = (m[1] as string).toLowerCase();
    const value = (m[2] as string).trim();
    if (key === 'port') {
      const tty = ttyName(value);
      current = ports.get(tty) ?? [];
      ports.set(tty, current);
      return;
    }
    current.push({ lineNo: i + 1, key, value });
  });
  return { global, ports };
}

/** mgetty's boolean spellings. */
export function parseBool(value: string): boolean | undefined {
  const v = value.toLowerCase();
  if (['y', 'yes', 't', 'true', 'on', '1'].includes(v)) return true;
  if (['n', 'no', 'f', 'false', 'off', '0'].includes(v)) return false;
  return undefined;
}

/** `/dev/ttyS1` and `ttyS1` both name the tty ttyS1. */
export function ttyName(s: string): string {
  return s.replace(/^\/dev\//, '');
}

/** Options of mgetty's command line that take an argument (mgetty.c getopt string). */
const MGETTY_ARG_OPTIONS = new Set(['c', 'x', 's', 'p', 'n', 'R', 'i', 'C', 'S', 'k', 'm', 'I']);

/** One mgetty started from /etc/inittab: its tty and its command-line options. */
export interface InittabGetty {
  lineNo: number;
  tty: string;
  /** Option letter -> argument ('' for flags); later options win, as in mgetty. */
  options: Map<string, string>;
}

/**
 * Finds `id:runlevels:action:/sbin/mgetty [options] tty` lines. Options may follow
 * the tty (GNU getopt permutes), so every non-option word is a candidate and the
 * first one is the tty; the rest (a TERM type such as vt100) are ignored as mgetty does.
 */
export function parseInittab(text: string): InittabGetty[] {
  const out: InittabGetty[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(':');
    if (fields.length < 4) return;
    const words = fields.slice(3).join(':').trim().split(/\s+/);
    const program = words[0] ?? '';
    if (!/(^|\/)mgetty$/.test(program)) return;
    const options = new Map<string, string>();
    const positional: string[] = [];
    for (let w = 1; w < words.length; w++) {
      const word = words[w] as string;
      if (/^-[A-Za-z]/.test(word)) {
        const letter = word[1] as string;
        if (MGETTY_ARG_OPTIONS.has(letter)) {
          options.set(letter, word.length > 2 ? word.slice(2) : (words[++w] ?? ''));
        } else {
          for (const flag of word.slice(1)) options.set(flag, '');
        }
      } else {
        positional.push(word);
      }
    }
    const tty = positional[0];
    if (tty) out.push({ lineNo: i + 1, tty: ttyName(tty), options });
  });
  return out;
}

/** getopt for the callback program's "x:s:am:l:SdV": options, then phone numbers. */
export interface CallbackArgs {
  options: Map<string, string>;
  numbers: string[];
}

export function parseCallbackArgs(args: string[]): CallbackArgs {
  const options = new Map<string, string>();
  const numbers: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as string;
    if (/^-[A-Za-z]/.test(word)) {
      const letter = word[1] as string;
      if ('xsml'.includes(letter)) options.set(letter, word.length > 2 ? word.slice(2) : (args[++i] ?? ''));
      else for (const flag of word.slice(1)) options.set(flag, '');
    } else {
      numbers.push(word);
    }
  }
  return { options, numbers };
}

/** Users whose login shell starts pppd (the HOWTO's pppuser), from /etc/passwd. */
export function pppShellUsers(passwd: string): string[] {
  return passwd
    .split(/\r?\n/)
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 7 && /(^|\/)(pppd|ppplogin)$/.test(f[6] as string))
    .map((f) => f[0] as string);
}

/** `local:remote` in a pppd options file or argument list. */
export function addressPair(word: string): { local?: string; remote?: string } | undefined {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})?:(\d{1,3}(?:\.\d{1,3}){3})?$/.exec(word);
  if (!m || (!m[1] && !m[2])) return undefined;
  const out: { local?: string; remote?: string } = {};
  if (m[1]) out.local = m[1];
  if (m[2]) out.remote = m[2];
  return out;
}

/** Words of a pppd options file: `#` comments, blank-separated, "quoted words" kept whole. */
export function pppOptionWords(text: string): string[] {
  const words: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '');
    for (const m of line.matchAll(/"([^"]*)"|(\S+)/g)) words.push((m[1] ?? m[2]) as string);
  }
  return words;
}
