import { readFileSync, statSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { basename } from 'node:path';
import { COMMON_PINS, hashMatches, MIN_SECRET_LENGTH } from './secret-hash.js';
import type { Config } from './types.js';

/**
 * Things a config may say that are valid but not safe to go live with. check-config
 * prints them (and fails with --strict); the daemon logs them at start. Each names
 * the key; none quotes a secret.
 */
export interface ConfigWarning {
  key: string;
  message: string;
}

/**
 * The hashes published in config/callbackd.toml (the example PIN "2468" and the
 * HOWTO's "password_for_pppuser"): anyone can read them, so anyone knows the secret.
 * test/unit/config-warnings.test.ts checks that every hash in the sample is listed.
 */
export const PUBLISHED_HASHES: readonly string[] = [
  'scrypt$16384$8$1$FicxXWdkCZ/8i0VFMs2knA==$M4rpW38Vfqfpp7+al2RcX6+r4m1DgphJ1T773dpfJxc=',
  'scrypt$16384$8$1$prTiTSzmkTUQcOCVAlFOIg==$rGhrZBikqVMuOAV2uFu17IPHXn1rRoLfKVwabzQ5wow=',
];

/** What import-mgetty writes after every value it had to guess; flagged until removed. */
export const GUESS_NOTE = 'GUESSED by import-mgetty: check, then delete this comment';
export const GUESS_MARKER = `# ${GUESS_NOTE}`;

/** RFC 5737 documentation ranges: they route nowhere. */
const DOC_NETS = ['192.0.2.', '198.51.100.', '203.0.113.'];

export function isDocumentationAddress(a: string): boolean {
  return isIPv4(a) && DOC_NETS.some((n) => a.startsWith(n));
}

function hashes(cfg: Config): { key: string; hash: string }[] {
  return [
    ...cfg.callbacks.flatMap((c, i) =>
      c.pinHash === undefined ? [] : [{ key: `callbacks[${i}].pin_hash`, hash: c.pinHash }],
    ),
    ...cfg.pppUsers.map((u, i) => ({ key: `ppp_users[${i}].password_hash`, hash: u.passwordHash })),
  ];
}

/** Warnings from the parsed config alone. */
export function configWarnings(cfg: Config, consoles: ReadonlySet<string> = new Set()): ConfigWarning[] {
  const out: ConfigWarning[] = [];
  for (const { key, hash } of hashes(cfg)) {
    if (PUBLISHED_HASHES.includes(hash)) {
      out.push({ key, message: 'is the sample configuration’s published hash: anyone knows this secret' });
    }
  }
  const addresses: { key: string; value: string }[] = [
    { key: 'pppd.local_address', value: cfg.pppd.localAddress },
    { key: 'pppd.remote_address', value: cfg.pppd.remoteAddress },
    ...cfg.pppd.options.map((o, i) => ({ key: `pppd.options[${i}]`, value: o })),
    ...cfg.lines.flatMap((l, i) =>
      Object.entries({ local_address: l.pppd?.localAddress, remote_address: l.pppd?.remoteAddress }).flatMap(
        ([k, v]) => (v === undefined ? [] : [{ key: `lines[${i}].pppd.${k}`, value: v }]),
      ),
    ),
    ...cfg.pppUsers.flatMap((u, i) =>
      u.remoteAddress === undefined
        ? []
        : [{ key: `ppp_users[${i}].remote_address`, value: u.remoteAddress }],
    ),
  ];
  for (const { key, value } of addresses) {
    for (const part of String(value ?? '').split(':')) {
      if (isDocumentationAddress(part)) {
        out.push({ key, message: `${part} is a documentation address (RFC 5737) that routes nowhere` });
      }
    }
  }
  if (cfg.pppd.autoPppBeforeCallback && cfg.callbacks.length > 0) {
    out.push({
      key: 'pppd.autoppp_before_callback',
      message: 'is true while call-back entries exist: a caller who sends PPP frames skips the call-back',
    });
  }
  const pppEntries = cfg.callbacks.some((c) => c.ppp !== undefined);
  const pppLines = cfg.lines.some((l) => l.pppCallback === true);
  cfg.callbacks.forEach((c, i) => {
    if (c.ppp && !pppLines) {
      out.push({
        key: `callbacks[${i}].ppp`,
        message: 'no line has ppp_callback = true, so this call-back inside PPP is never offered',
      });
    }
  });
  const ringBack = cfg.callbacks.some((c) => c.trigger === 'ring');
  cfg.lines.forEach((l, i) => {
    if (l.pppCallback && !pppEntries) {
      out.push({
        key: `lines[${i}].ppp_callback`,
        message:
          'is true but no [[callbacks]] entry has a [callbacks.ppp] table: every PPP caller on it is refused',
      });
    }
    if (ringBack && l.answer && l.rings < 2) {
      out.push({
        key: `lines[${i}].rings`,
        message:
          'is 1 while ring-back entries exist: caller ID usually arrives after the first RING, so the line answers before it knows who rings (set rings = 2 or more)',
      });
    }
    if (consoles.has(basename(l.device))) {
      out.push({
        key: `lines[${i}].device`,
        message: `${l.device} is the kernel console: callbackd and the console would fight over it`,
      });
    }
  });
  return out;
}

/** The config file itself holds hashes and others may read it. */
export function fileModeWarnings(cfg: Config, mode: number): ConfigWarning[] {
  if (hashes(cfg).length === 0 || (mode & 0o044) === 0) return [];
  return [
    {
      key: '(file)',
      message: `holds PIN/password hashes and is readable by ${mode & 0o004 ? 'every user' : 'its group'} (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): chmod 600 it`,
    },
  ];
}

/** Lines of the text still carrying import-mgetty's guess marker. */
export function guessWarnings(text: string): ConfigWarning[] {
  return text
    .split('\n')
    .flatMap((line, i) =>
      line.includes(GUESS_MARKER)
        ? [{ key: `line ${i + 1}`, message: `guessed by import-mgetty: ${line.split('#')[0]?.trim()}` }]
        : [],
    );
}

/**
 * The kernel console's tty names, from /proc/consoles, /sys/class/tty/console/active
 * and console= on /proc/cmdline. `root` lets tests point at their own files.
 */
export function kernelConsoles(root = '/'): Set<string> {
  const read = (p: string): string => {
    try {
      return readFileSync(`${root.replace(/\/$/, '')}${p}`, 'utf8');
    } catch {
      return '';
    }
  };
  const names = new Set<string>();
  for (const line of read('/proc/consoles').split('\n')) {
    const name = line.trim().split(/\s+/)[0];
    if (name) names.add(name);
  }
  for (const name of read('/sys/class/tty/console/active').trim().split(/\s+/)) if (name) names.add(name);
  for (const m of read('/proc/cmdline').matchAll(/(?:^|\s)console=([^,\s]+)/g)) names.add(m[1] as string);
  // tty0 is the virtual terminal, never a serial line of ours.
  names.delete('tty0');
  return names;
}

/** Every warning for a config loaded from its file (cfg.source). */
export function allWarnings(cfg: Config, root = '/'): ConfigWarning[] {
  let mode = 0;
  let text = '';
  try {
    mode = statSync(cfg.source).mode;
    text = readFileSync(cfg.source, 'utf8');
  } catch {
    /* a config parsed from text has no file */
  }
  return [
    ...fileModeWarnings(cfg, mode),
    ...configWarnings(cfg, kernelConsoles(root)),
    ...guessWarnings(text),
  ];
}

/**
 * A hash hides the PIN's length, so check-config cannot measure it; hash-password
 * refuses anything shorter than MIN_SECRET_LENGTH, and this probe finds the PINs
 * people choose most (one scrypt run each, about a second per entry).
 */
export async function weakPinWarnings(cfg: Config): Promise<ConfigWarning[]> {
  const out: ConfigWarning[] = [];
  // PINs only: passwords of PPP users are not digit strings, and each probe costs time.
  for (const { key, hash } of hashes(cfg).filter((h) => h.key.endsWith('.pin_hash'))) {
    for (const pin of COMMON_PINS) {
      if (await hashMatches(hash, pin)) {
        const short = pin.length < MIN_SECRET_LENGTH ? `, shorter than ${MIN_SECRET_LENGTH} digits` : '';
        out.push({ key, message: `is the hash of one of the commonest PINs${short}: guessed first` });
        break;
      }
    }
  }
  return out;
}
