import { scryptSync } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/config/commands.js';
import { parseConfig } from '../../src/config/load.js';
import { pppdForLine } from '../../src/config/pppd-line.js';
import { GUESS_MARKER, kernelConsoles, PUBLISHED_HASHES } from '../../src/config/warnings.js';

const sample = readFileSync(new URL('../../config/callbackd.toml', import.meta.url), 'utf8');
let dir: string;
let root: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'callbackd-warn-'));
  // A machine whose console is ttyS0, as many serial-console servers are.
  root = join(dir, 'root');
  mkdirSync(join(root, 'proc'), { recursive: true });
  mkdirSync(join(root, 'sys/class/tty/console'), { recursive: true });
  writeFileSync(join(root, 'proc/consoles'), 'ttyS0                -W- (EC  p a)    4:64\n');
  writeFileSync(join(root, 'sys/class/tty/console/active'), 'tty0 ttyS0\n');
  writeFileSync(join(root, 'proc/cmdline'), 'quiet console=tty0 console=ttyS3,115200n8\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function sink() {
  const s = new PassThrough();
  let text = '';
  s.on('data', (b: Buffer) => (text += b.toString()));
  return Object.assign(s, { text: () => text });
}

async function check(text: string, mode = 0o600, strict = false) {
  const file = join(dir, 'c.toml');
  writeFileSync(file, text);
  chmodSync(file, mode);
  const [stdout, stderr] = [sink(), sink()];
  const code = await checkConfig(file, { stdout, stderr }, { strict, root });
  return { code, out: stdout.text(), err: stderr.text() };
}

const HASH = `scrypt$1024$8$1$${Buffer.alloc(16, 7).toString('base64')}$${Buffer.alloc(32, 9).toString('base64')}`;
const base = `
[[lines]]
device = "/dev/ttyS1"
[[callbacks]]
name = "call"
number = "123456"
pin_hash = "${HASH}"
[pppd]
local_address = "192.168.1.1"
remote_address = "192.168.1.2"
`;

// check-config probes the commonest PINs (scrypt runs): seconds on a loaded machine.
describe('secrets and files (issue 8 item 11)', { timeout: 120_000 }, () => {
  it('a secret written as a TOML integer is never echoed in an error', async () => {
    const r = await check(base.replace(`"${HASH}"`, '987654321'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/pin_hash: must be a string, got a number/);
    expect(r.err + r.out).not.toContain('987654321');
    expect(() => parseConfig('[[ppp_users]]\nname = "u"\npassword_hash = 31415926\n', 'x')).toThrow(
      /^(?![\s\S]*31415926)/,
    );
  });

  it('every hash published in the sample is known as published, and flagged', async () => {
    const inSample = [...sample.matchAll(/"(scrypt\$[0-9][^"]+)"/g)].map((m) => m[1]);
    expect(inSample.length).toBeGreaterThan(0);
    for (const h of inSample) expect(PUBLISHED_HASHES).toContain(h);
    const r = await check(sample.replace('/dev/ttyS1', '/dev/ttyS2'), 0o600, true);
    expect(r.err).toMatch(/callbacks\[1\]\.pin_hash: is the sample configuration’s published hash/);
    expect(r.err).toMatch(/ppp_users\[0\]\.password_hash: is the sample/);
    expect(r.code).toBe(1);
  });

  it('warns when the file holding hashes is readable by others; --strict fails', async () => {
    expect((await check(base, 0o600)).err).toBe('');
    const open = await check(base, 0o644);
    expect(open.err).toMatch(/readable by every user \(mode 0644\): chmod 600/);
    expect(open.code).toBe(0);
    expect((await check(base, 0o640, true)).code).toBe(1);
    expect((await check(base, 0o600, true)).code).toBe(0);
  });
});

describe('PIN length (issue 8 item 10)', () => {
  it('check-config finds a PIN among the commonest ones', async () => {
    const salt = Buffer.alloc(16, 3);
    const weak = `scrypt$1024$8$1$${salt.toString('base64')}$${scryptSync('1234', salt, 32, { N: 1024, r: 8, p: 1 }).toString('base64')}`;
    const r = await check(base.replace(HASH, weak), 0o600, true);
    expect(r.err).toMatch(
      /callbacks\[0\]\.pin_hash: is the hash of one of the commonest PINs, shorter than 6 digits/,
    );
    expect(r.err).not.toContain('1234');
    expect(r.code).toBe(1);
  }, 120_000);
});

describe('configs that pass but are not safe to go live (issue 10 item 6)', () => {
  it('documentation addresses', async () => {
    const r = await check(
      base
        .replace('"192.168.1.2"', '"198.51.100.7"')
        .replace('remote_address', 'options = ["ms-dns", "203.0.113.53"]\nremote_address'),
    );
    expect(r.err).toMatch(/pppd\.remote_address: 198\.51\.100\.7 is a documentation address/);
    expect(r.err).toMatch(/pppd\.options\[1\]: 203\.0\.113\.53 is a documentation address/);
  });

  it('per-line pppd addresses ([lines.pppd]) are read, checked and override [pppd]', async () => {
    const text = base.replace(
      'device = "/dev/ttyS1"',
      'device = "/dev/ttyS1"\n[lines.pppd]\nlocal_address = "10.1.1.1"\nremote_address = "192.0.2.9"',
    );
    const cfg = parseConfig(text, 'x');
    const line = cfg.lines[0]!;
    expect(pppdForLine(cfg, line)).toMatchObject({ localAddress: '10.1.1.1', remoteAddress: '192.0.2.9' });
    expect((await check(text)).err).toMatch(
      /lines\[0\]\.pppd\.remote_address: 192\.0\.2\.9 is a documentation address/,
    );
    expect(() => parseConfig(text.replace('"10.1.1.1"', '"nowhere"'), 'x')).toThrow(
      /lines\[0\]\.pppd\.local_address: "nowhere" is not an IPv4 address/,
    );
  });

  it('autoppp_before_callback with call-back entries', async () => {
    const r = await check(base + 'autoppp_before_callback = true\n', 0o600, true);
    expect(r.err).toMatch(/autoppp_before_callback: is true while call-back entries exist/);
    expect(r.code).toBe(1);
  });

  it('a line on the kernel console, from /proc/consoles, the console class and the command line', async () => {
    expect([...kernelConsoles(root)].sort()).toEqual(['ttyS0', 'ttyS3']);
    expect((await check(base.replace('ttyS1', 'ttyS0'))).err).toMatch(/\/dev\/ttyS0 is the kernel console/);
    expect((await check(base.replace('ttyS1', 'ttyS3'))).err).toMatch(/\/dev\/ttyS3 is the kernel console/);
    expect((await check(base)).err).toBe('');
  });

  it('values import-mgetty guessed, until the marker is removed', async () => {
    const guessed = base.replace('device = "/dev/ttyS1"', `device = "/dev/ttyS1"   ${GUESS_MARKER}`);
    const r = await check(guessed, 0o600, true);
    expect(r.err).toMatch(/line 3: guessed by import-mgetty: device = "\/dev\/ttyS1"/);
    expect(r.code).toBe(1);
  });
});
