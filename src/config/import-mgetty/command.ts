import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { errnoCode } from '../../errors.js';
import { importMgetty, type MgettyInput, type SourceFile } from './index.js';
import { parseConfig } from '../load.js';

/** Where Debian's mgetty keeps its files. */
export const MGETTY_DEFAULTS = {
  loginConfig: '/etc/mgetty/login.config',
  mgettyConfig: '/etc/mgetty/mgetty.config',
  inittab: '/etc/inittab',
  callbackConfig: '/etc/mgetty/callback.config',
  passwd: '/etc/passwd',
  pppDir: '/etc/ppp',
} as const;

type FileKey = Exclude<keyof typeof MGETTY_DEFAULTS, 'pppDir'>;

export type ImportPaths = Partial<Record<keyof typeof MGETTY_DEFAULTS, string>>;

export interface ImportIo {
  out: (text: string) => void;
  err: (text: string) => void;
  now?: Date;
}

/**
 * Reads the files and prints the config. A file given on the command line must
 * exist; a default that is missing is only named in the output (Debian 12 has no
 * /etc/inittab, for one). Exit 1 when the result does not validate: that is a bug
 * here, and the admin should know before installing the file.
 */
export function runImportMgetty(paths: ImportPaths, io: ImportIo): number {
  const input: MgettyInput = { missing: [] };
  if (io.now) input.now = io.now;
  for (const key of Object.keys(MGETTY_DEFAULTS) as (keyof typeof MGETTY_DEFAULTS)[]) {
    if (key === 'pppDir') continue;
    const file = paths[key] ?? MGETTY_DEFAULTS[key];
    const read = readOptional(file);
    if (read.kind === 'ok') input[key as FileKey] = read.file;
    else if (read.kind === 'missing' && paths[key] === undefined) input.missing!.push(file);
    else {
      io.err(`import-mgetty: cannot read ${file}: ${read.kind === 'error' ? read.reason : 'no such file'}\n`);
      return 1;
    }
  }
  const pppDir = paths.pppDir ?? MGETTY_DEFAULTS.pppDir;
  input.pppOptionsFor = (tty) => {
    const r = readOptional(path.join(pppDir, `options.${tty}`));
    return r.kind === 'ok' ? r.file : undefined;
  };
  const toml = importMgetty(input);
  io.out(toml);
  try {
    parseConfig(toml, '(imported config)');
  } catch (e) {
    io.err(
      `import-mgetty: the generated config does not validate (please report this):\n${(e as Error).message}\n`,
    );
    return 1;
  }
  return 0;
}

type Read = { kind: 'ok'; file: SourceFile } | { kind: 'missing' } | { kind: 'error'; reason: string };

function readOptional(file: string): Read {
  try {
    return { kind: 'ok', file: { path: file, text: readFileSync(file, 'utf8') } };
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'error', reason: code ?? String(e) };
  }
}

interface ImportArgs {
  'login-config'?: string;
  'mgetty-config'?: string;
  inittab?: string;
  'callback-config'?: string;
  passwd?: string;
  'ppp-dir'?: string;
}

export const importMgettyCommand: CommandModule<object, ImportArgs> = {
  command: 'import-mgetty',
  describe: "Print a callbackd config translated from mgetty's login.config, mgetty.config and inittab",
  builder: (y) =>
    y
      .option('login-config', { type: 'string', describe: `default ${MGETTY_DEFAULTS.loginConfig}` })
      .option('mgetty-config', { type: 'string', describe: `default ${MGETTY_DEFAULTS.mgettyConfig}` })
      .option('inittab', { type: 'string', describe: `default ${MGETTY_DEFAULTS.inittab}` })
      .option('callback-config', { type: 'string', describe: `default ${MGETTY_DEFAULTS.callbackConfig}` })
      .option('passwd', {
        type: 'string',
        describe: `users with pppd as shell; default ${MGETTY_DEFAULTS.passwd}`,
      })
      .option('ppp-dir', {
        type: 'string',
        describe: `options.<tty> files; default ${MGETTY_DEFAULTS.pppDir}`,
      }),
  handler: (argv) => {
    const paths: ImportPaths = {};
    const set = (key: keyof ImportPaths, v: string | undefined) => {
      if (v !== undefined) paths[key] = v;
    };
    set('loginConfig', argv['login-config']);
    set('mgettyConfig', argv['mgetty-config']);
    set('inittab', argv.inittab);
    set('callbackConfig', argv['callback-config']);
    set('passwd', argv.passwd);
    set('pppDir', argv['ppp-dir']);
    process.exitCode = runImportMgetty(paths, {
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
    });
  },
};
