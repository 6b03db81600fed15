import { readFile } from 'node:fs/promises';
import { parse, TomlError } from 'smol-toml';
import { CallbackdError, errnoCode } from '../errors.js';
import { DEFAULT_TIMING } from '../timing.js';
import { KeyLocator } from './locate.js';
import { Section, type Problem, type Table } from './reader.js';
import * as read from './sections.js';
import { readRadius } from './radius.js';
import type { Config } from './types.js';
import { crossCheck } from './validate.js';

/** A problem with its place in the file, as carried in CallbackdError.details.problems. */
export interface LocatedProblem extends Problem {
  line: number;
}

/**
 * Parses and validates a config file's text. Every problem found is reported at
 * once, one per line as `file:line: key.path: reason`, in one CONFIG_INVALID error.
 */
export function parseConfig(text: string, source: string): Config {
  const problems: Problem[] = [];
  const root = new Section(parseToml(text, source), '', problems);

  const timing = read.readTiming(root.section('timing'), { ...DEFAULT_TIMING }).timing;
  const login = read.readLogin(root.section('login'));
  const cfg: Omit<Config, 'source'> = {
    daemon: read.readDaemon(root.section('daemon')),
    timing,
    login,
    security: read.readSecurity(root.section('security')),
    lines: root.sections('lines').map((s) => read.readLine(s, timing)),
    callbacks: root.sections('callbacks').map((s) => read.readCallback(s, login.maxLength)),
    pppUsers: root.sections('ppp_users').map((s) => read.readPppUser(s, login.maxLength)),
    pppd: read.readPppd(root.section('pppd')),
  };
  if (root.has('radius')) cfg.radius = readRadius(root.section('radius'), cfg.daemon.hostname);
  root.done();
  problems.push(...crossCheck(cfg));

  if (problems.length > 0) {
    const locator = new KeyLocator(text);
    const located: LocatedProblem[] = problems
      .map((p) => ({ ...p, line: locator.lineOf(p.path) ?? 1 }))
      .sort((a, b) => a.line - b.line);
    const list = located.map((p) => `${source}:${p.line}: ${p.path}: ${p.reason}`).join('\n');
    throw new CallbackdError('CONFIG_INVALID', `${source}: ${plural(located.length, 'problem')}\n${list}`, {
      problems: located,
    });
  }
  return { source, ...cfg };
}

export async function loadConfig(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CallbackdError(
      'CONFIG_READ',
      `${path}: cannot read (${errnoCode(e) ?? String(e)})`,
      { path },
      e,
    );
  }
  return parseConfig(text, path);
}

function parseToml(text: string, source: string): Table {
  try {
    // __proto__ and constructor as keys could only be mischief here.
    return parse(text, { unsafeKeyBehaviour: 'throw' });
  } catch (e) {
    if (e instanceof TomlError) {
      const what = e.message.replace(/^Invalid TOML document: /, '').split('\n')[0];
      throw new CallbackdError('CONFIG_INVALID', `${source}:${e.line}:${e.column}: TOML syntax: ${what}`, {
        problems: [{ path: '', reason: `TOML syntax: ${what}`, line: e.line, column: e.column }],
      });
    }
    // Anything else from the parser (deep nesting, say) is still a bad file, not a crash.
    throw new CallbackdError('CONFIG_INVALID', `${source}: cannot parse: ${String(e)}`, {}, e);
  }
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
