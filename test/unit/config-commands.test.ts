import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfig, hashPassword, type CommandIo } from '../../src/config/commands.js';
import { isSecretHash, verifySecret } from '../../src/policy/hash.js';

const dir = mkdtempSync(join(tmpdir(), 'callbackd-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SAMPLE = new URL('../../config/callbackd.toml', import.meta.url);

function sink(): PassThrough & { text: () => string } {
  const s = new PassThrough() as PassThrough & { text: () => string };
  let out = '';
  s.on('data', (c: Buffer) => (out += c.toString()));
  s.text = () => out;
  return s;
}

describe('check-config', () => {
  it('prints a summary for a valid file and exits 0', async () => {
    const [stdout, stderr] = [sink(), sink()];
    const file = join(dir, 'ok.toml');
    writeFileSync(file, readFileSync(SAMPLE), { mode: 0o600 });
    // root: no /proc here, so the host's own console cannot change the result.
    expect(await checkConfig(file, { stdout, stderr }, { root: dir })).toBe(0);
    // The sample's hashes are published: valid, but warned about.
    expect(stdout.text()).toBe(`${file}: ok, 1 line, 2 call-back entries, 1 PPP user, 3 warnings\n`);
    expect(stderr.text()).toMatch(/published hash/);
    expect(stderr.text()).toMatch(/commonest PINs/); // the sample's example PIN is 2468
    // Probing the commonest PINs is a few dozen scrypt runs: seconds on a loaded machine.
  }, 120_000);

  it('lists every problem on stderr and exits 1', async () => {
    const [stdout, stderr] = [sink(), sink()];
    const file = join(dir, 'bad.toml');
    const text = readFileSync(SAMPLE, 'utf8')
      .replace('rings = 1 ', 'rings = 0 ')
      .replace('speed = 115200', 'sped = 1');
    writeFileSync(file, text);
    expect(await checkConfig(file, { stdout, stderr })).toBe(1);
    const lines = stderr.text().trimEnd().split('\n');
    expect(lines[0]).toBe(`${file}: 2 problems`);
    expect(lines[1]).toMatch(
      new RegExp(`^${file}:\\d+: lines\\[0\\]\\.sped: unknown key \\(did you mean "speed"\\?\\)$`),
    );
    expect(lines[2]).toMatch(new RegExp(`^${file}:\\d+: lines\\[0\\]\\.rings: 0 is outside 1\\.\\.20$`));
    expect(stdout.text()).toBe('');
  });

  it('says when the file cannot be read', async () => {
    const [stdout, stderr] = [sink(), sink()];
    expect(await checkConfig(join(dir, 'missing.toml'), { stdout, stderr })).toBe(1);
    expect(stderr.text()).toMatch(/missing\.toml: cannot read \(ENOENT\)/);
  });
});

/** A fake terminal: records raw-mode switches. */
function terminal(): CommandIo['stdin'] & PassThrough & { modes: boolean[] } {
  const t = new PassThrough() as PassThrough & {
    isTTY: boolean;
    setRawMode: (r: boolean) => void;
    modes: boolean[];
  };
  t.isTTY = true;
  t.modes = [];
  t.setRawMode = (raw: boolean) => t.modes.push(raw);
  return t;
}

describe('hash-password', () => {
  it('hashes the first line from a pipe', async () => {
    const [stdin, stdout, stderr] = [new PassThrough(), sink(), sink()];
    stdin.end('pipe secret\r\nsecond line\n');
    expect(await hashPassword({ stdin, stdout, stderr })).toBe(0);
    const hash = stdout.text().trim();
    expect(isSecretHash(hash)).toBe(true);
    expect(await verifySecret(hash, 'pipe secret')).toBe(true);
    expect(stderr.text()).not.toContain('pipe secret');
  });

  it('refuses an empty secret', async () => {
    const [stdin, stdout, stderr] = [new PassThrough(), sink(), sink()];
    stdin.end('\n');
    expect(await hashPassword({ stdin, stdout, stderr })).toBe(1);
    expect(stderr.text()).toMatch(/refusing an empty secret/);
    expect(stdout.text()).toBe('');
  });

  it('refuses a PIN shorter than 6 characters', async () => {
    const [stdin, stdout, stderr] = [new PassThrough(), sink(), sink()];
    stdin.end('2468\n');
    expect(await hashPassword({ stdin, stdout, stderr })).toBe(1);
    expect(stderr.text()).toMatch(/shorter than 6/);
    expect(stderr.text()).not.toContain('2468');
    expect(stdout.text()).toBe('');
  });

  it('refuses an empty pipe', async () => {
    const [stdin, stdout, stderr] = [new PassThrough(), sink(), sink()];
    stdin.end();
    expect(await hashPassword({ stdin, stdout, stderr })).toBe(1);
    expect(stdout.text()).toBe('');
  });

  it('reads a terminal twice in raw mode without echo, with erase keys', async () => {
    const [stdin, stdout, stderr] = [terminal(), sink(), sink()];
    const done = hashPassword({ stdin, stdout, stderr });
    stdin.write('tyx\x7fpo42\rtypo42');
    stdin.write('\r');
    expect(await done).toBe(0);
    expect(await verifySecret(stdout.text().trim(), 'typo42')).toBe(true);
    expect(stdin.modes).toEqual([true, false, true, false]);
    expect(stderr.text()).toBe('Secret: \nAgain: \n');
  });

  it('prints nothing when the two entries differ', async () => {
    const [stdin, stdout, stderr] = [terminal(), sink(), sink()];
    const done = hashPassword({ stdin, stdout, stderr });
    stdin.write('alpha1\r');
    stdin.write('bravo2\r');
    expect(await done).toBe(1);
    expect(stdout.text()).toBe('');
    expect(stderr.text()).toMatch(/differ/);
    expect(stderr.text()).not.toMatch(/alpha1|bravo2/);
    expect(stdin.modes.at(-1)).toBe(false);
  });

  it('cancels on ^C and leaves raw mode', async () => {
    const [stdin, stdout, stderr] = [terminal(), sink(), sink()];
    const done = hashPassword({ stdin, stdout, stderr });
    stdin.write('abc\x03');
    expect(await done).toBe(130);
    expect(stdout.text()).toBe('');
    expect(stdin.modes).toEqual([true, false]);
  });
});
