import type { CommandModule } from 'yargs';
import { isCallbackdError } from '../errors.js';
import { hashSecret, MIN_SECRET_LENGTH } from './secret-hash.js';
import { loadConfig, plural } from './load.js';
import { allWarnings, weakPinWarnings } from './warnings.js';

/** Streams the handlers use, injectable so tests can drive them without a process. */
export interface CommandIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const processIo = (): CommandIo => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });

export interface CheckOptions {
  /** Warnings fail the check too. */
  strict?: boolean;
  /** Where /proc and /sys are read from (tests). */
  root?: string;
}

/**
 * `callbackd check-config FILE`: exit code 0 when valid, 1 with the problem list
 * otherwise. Warnings (valid but unsafe to go live) are printed on stderr; with
 * --strict they fail the check.
 */
export async function checkConfig(
  file: string,
  io: Pick<CommandIo, 'stdout' | 'stderr'>,
  opts: CheckOptions = {},
): Promise<number> {
  try {
    const cfg = await loadConfig(file);
    const warnings = [...allWarnings(cfg, opts.root), ...(await weakPinWarnings(cfg))];
    for (const w of warnings) io.stderr.write(`${file}: warning: ${w.key}: ${w.message}\n`);
    io.stdout.write(
      `${file}: ${warnings.length && opts.strict ? 'refused (--strict)' : 'ok'}, ${plural(cfg.lines.length, 'line')}, ${plural(cfg.callbacks.length, 'call-back entry').replace(/entrys$/, 'entries')}, ${plural(cfg.pppUsers.length, 'PPP user')}${warnings.length ? `, ${plural(warnings.length, 'warning')}` : ''}\n`,
    );
    return warnings.length && opts.strict ? 1 : 0;
  } catch (e) {
    if (!isCallbackdError(e)) throw e;
    io.stderr.write(`${e.message}\n`);
    return 1;
  }
}

/** Maximum secret length accepted; protects scrypt from a pasted file. */
const MAX_SECRET = 1024;

/**
 * `callbackd hash-password`: reads one secret and prints its scrypt hash. On a
 * terminal it turns echo off (raw mode) and asks twice; from a pipe it takes the
 * first line. The secret itself is never written anywhere.
 */
export async function hashPassword(io: CommandIo): Promise<number> {
  let secret: string | undefined;
  try {
    if (io.stdin.isTTY && io.stdin.setRawMode) {
      secret = await readHidden(io, 'Secret: ');
      const again = secret === undefined ? undefined : await readHidden(io, 'Again: ');
      if (secret !== undefined && again !== secret) {
        io.stderr.write('hash-password: the two entries differ; nothing printed\n');
        return 1;
      }
    } else {
      secret = await readFirstLine(io.stdin);
    }
  } catch (e) {
    io.stderr.write(`hash-password: ${(e as Error).message}\n`);
    return 1;
  }
  if (secret === undefined) {
    io.stderr.write('hash-password: cancelled\n');
    return 130;
  }
  if (secret === '') {
    io.stderr.write('hash-password: refusing an empty secret\n');
    return 1;
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    io.stderr.write(
      `hash-password: refusing a secret shorter than ${MIN_SECRET_LENGTH} characters (a short PIN falls to guessing; see docs/security.md)\n`,
    );
    return 1;
  }
  if (secret.length > MAX_SECRET) {
    io.stderr.write(`hash-password: refusing a secret longer than ${MAX_SECRET} characters\n`);
    return 1;
  }
  io.stdout.write(`${await hashSecret(secret)}\n`);
  return 0;
}

/** Reads up to the first newline from a pipe; the rest is ignored. */
function readFirstLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (): void => {
      cleanup();
      resolve(text.replace(/\r?\n[\s\S]*$/, '').replace(/\r$/, ''));
    };
    const onData = (chunk: Buffer | string): void => {
      text += chunk.toString();
      if (text.includes('\n')) finish();
      else if (text.length > MAX_SECRET * 4) finish();
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', finish);
      stream.off('error', onError);
      stream.pause();
    };
    stream.on('data', onData);
    stream.on('end', finish);
    stream.on('error', onError);
    stream.resume();
  });
}

/**
 * Reads a line from a terminal in raw mode, echoing nothing. Backspace/DEL erase,
 * ^U clears, Enter ends, ^C or ^D on an empty line cancel (undefined).
 */
function readHidden(io: CommandIo, prompt: string): Promise<string | undefined> {
  const { stdin, stderr } = io;
  stderr.write(prompt);
  stdin.setRawMode?.(true);
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (value: string | undefined, rest: string): void => {
      stdin.off('data', onData);
      // A pasted "secret\rsecret\r" arrives as one chunk: keep the rest for the next read.
      if (rest !== '') stdin.unshift(Buffer.from(rest));
      stdin.off('error', onError);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write('\n');
      resolve(value);
    };
    const onError = (e: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      reject(e);
    };
    const onData = (chunk: Buffer | string): void => {
      const chars = [...chunk.toString()];
      for (let i = 0; i < chars.length; i++) {
        const ch = chars[i] as string;
        const rest = (): string => chars.slice(i + 1).join('');
        if (ch === '\r' || ch === '\n') return done(text, rest().replace(/^\n/, ''));
        if (ch === '\u0003') return done(undefined, '');
        if (ch === '\u0004' && text === '') return done(undefined, '');
        if (ch === '\u0015') text = '';
        else if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else if (ch >= ' ') text += ch;
      }
    };
    stdin.on('data', onData);
    stdin.on('error', onError);
    stdin.resume();
  });
}

export const checkConfigCommand: CommandModule<object, { file: string; strict?: boolean }> = {
  command: 'check-config <file>',
  describe: 'Validate a config file, list every problem, and warn about what is unsafe to go live',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'TOML config file' })
      .option('strict', { type: 'boolean', default: false, describe: 'fail on warnings too' }) as never,
  handler: async (argv) => {
    process.exitCode = await checkConfig(argv.file, processIo(), { strict: argv.strict === true });
  },
};

export const hashPasswordCommand: CommandModule = {
  command: 'hash-password',
  describe: 'Read a PIN or password (no echo on a terminal, first line from a pipe) and print its hash',
  handler: async () => {
    process.exitCode = await hashPassword(processIo());
  },
};

export const configCommands = [checkConfigCommand, hashPasswordCommand];
