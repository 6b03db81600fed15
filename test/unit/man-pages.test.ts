import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the packaging tools, without type declarations
import { markdownToMan } from '../../packaging/man/md2man.mjs';

// The man pages are generated from the documentation when the package is built, so
// they cannot drift from it; these tests keep the documentation itself complete and the
// generated pages clean roff.

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
const page = { date: '2026-01-01', version: '0.0.0' };
const toml5 = (): string =>
  (markdownToMan as (md: string, p: object) => string)(read('docs/configuration.md'), {
    ...page,
    name: 'callbackd.toml',
    section: '5',
    summary: 'configuration file',
  });
const cmd8 = (): string =>
  (markdownToMan as (md: string, p: object) => string)(read('packaging/man/callbackd.8.md'), {
    ...page,
    name: 'callbackd',
    section: '8',
    summary: 'dial-in call-back server',
  });

/** What `man` shows, as plain text (groff warnings make the test fail). */
function render(roff: string): string {
  return execFileSync('groff', ['-man', '-Tutf8', '-ww', '-P', '-cbou'], {
    input: roff,
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C.UTF-8' },
  });
}

function keysOf(table: Record<string, unknown>, out = new Set<string>()): Set<string> {
  for (const [k, v] of Object.entries(table)) {
    out.add(k);
    const items = Array.isArray(v) ? v : [v];
    for (const item of items) {
      if (item && typeof item === 'object' && !Array.isArray(item))
        keysOf(item as Record<string, unknown>, out);
    }
  }
  return out;
}

describe('man pages', () => {
  it('callbackd.toml(5) documents every key of the sample configuration', () => {
    const text = render(toml5());
    const keys = keysOf(parse(read('config/callbackd.toml')) as Record<string, unknown>);
    expect(keys.size).toBeGreaterThan(40);
    const missing = [...keys].filter((k) => !new RegExp(`(^|[\\s.\\[])${k}($|[\\s.\\]])`, 'm').test(text));
    expect(missing).toEqual([]);
  });

  it('callbackd(8) describes every command `callbackd --help` lists', () => {
    const text = render(cmd8());
    const help = execFileSync(
      process.execPath,
      [new URL('../../dist/cli.js', import.meta.url).pathname, '--help'],
      {
        encoding: 'utf8',
      },
    );
    const commands = [...help.matchAll(/^ {2}callbackd (\S+)/gm)].map((m) => m[1]!);
    expect(commands.length).toBeGreaterThan(5);
    for (const c of commands) expect(text, `command ${c}`).toMatch(new RegExp(`^ {7}• ${c}\\b`, 'm'));
  });

  it('renders both pages without a groff warning', () => {
    for (const roff of [toml5(), cmd8()]) {
      const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z'], {
        input: roff,
        encoding: 'utf8',
        env: { ...process.env, LC_ALL: 'C.UTF-8' },
      });
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
    }
  });
});
