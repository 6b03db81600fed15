import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `npm run package` (the builder after `npm run build`; npm test has built dist/), then
// the .deb installed into a throwaway root as dpkg does it: `dpkg --root` with its own
// database, maintainer scripts run chrootless with DPKG_ROOT set (the root has no shell
// or Node of its own; its Depends are forced). The installed files then check the sample
// configuration and run a whole simulated call-back.

const run = promisify(execFile);
const repo = new URL('../..', import.meta.url).pathname;
let root: string;
let deb: string;

const dpkg = (...args: string[]) =>
  run('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', ...args]);
const installed = (...args: string[]) =>
  run(process.execPath, [join(root, 'usr/lib/callbackd/dist/cli.js'), ...args], { timeout: 90_000 });

beforeAll(async () => {
  const { stdout } = await run(process.execPath, [join(repo, 'packaging/build-deb.mjs')], {
    cwd: repo,
    maxBuffer: 16 * 1024 * 1024,
  });
  deb = stdout.trim().split('\n').at(-1)!;
  root = mkdtempSync(join(tmpdir(), 'callbackd-root-'));
  mkdirSync(join(root, 'var/lib/dpkg/info'), { recursive: true });
  mkdirSync(join(root, 'var/lib/dpkg/updates'), { recursive: true });
  writeFileSync(join(root, 'var/lib/dpkg/status'), '');
  writeFileSync(join(root, 'var/lib/dpkg/available'), '');
  await dpkg('-i', deb);
}, 240_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the Debian package', () => {
  it('is named callbackd_<version>_<arch>.deb and depends on Node 20.19 and ppp', async () => {
    const arch = (await run('dpkg', ['--print-architecture'])).stdout.trim();
    const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string })
      .version;
    expect(deb).toMatch(new RegExp(`/callbackd_${version.replace(/\./g, '\\.')}-\\d+_${arch}\\.deb$`));
    const { stdout } = await run('dpkg-deb', ['-f', deb, 'Depends']);
    expect(stdout).toMatch(/^nodejs \(>= 20\.19\), ppp(, |$)/);
  });

  it('installs the program, the unit, a 0600 conffile, the state directory, man pages and logrotate', async () => {
    const { stdout: status } = await dpkg('-s', 'callbackd');
    expect(status).toContain('Status: install ok installed');
    const conffiles = readFileSync(join(root, 'var/lib/dpkg/info/callbackd.conffiles'), 'utf8');
    expect(conffiles.split('\n')).toContain('/etc/callbackd/callbackd.toml');
    expect(statSync(join(root, 'etc/callbackd/callbackd.toml')).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'usr/sbin/callbackd')).mode & 0o777).toBe(0o755);
    const wrapper = readFileSync(join(root, 'usr/sbin/callbackd'), 'utf8');
    expect(wrapper).toContain(
      'exec /usr/bin/node --lite-mode --no-expose-wasm --no-memory-reducer /usr/lib/callbackd/dist/cli.js "$@"',
    );
    // The shebang's malloc tunable (scrypt's 16 MB per check are given back) goes with it.
    expect(wrapper).toContain('export MALLOC_MMAP_THRESHOLD_=131072\n');
    expect(statSync(join(root, 'var/lib/callbackd')).isDirectory()).toBe(true);
    expect(statSync(join(root, 'var/log/callbackd')).mode & 0o777).toBe(0o750); // postinst ran
    for (const f of [
      'usr/share/man/man8/callbackd.8.gz',
      'usr/share/man/man5/callbackd.toml.5.gz',
      'etc/logrotate.d/callbackd',
      'usr/share/doc/callbackd/copyright',
    ]) {
      expect(existsSync(join(root, f)), f).toBe(true);
    }
    const unit = readFileSync(join(root, 'lib/systemd/system/callbackd.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/sbin\/callbackd run /m);
    const docPath = /^Documentation=.*file:(\S+)/m.exec(unit)?.[1];
    expect(docPath && existsSync(join(root, docPath)), `Documentation= ${docPath}`).toBe(true);
    expect(readFileSync(join(root, 'etc/logrotate.d/callbackd'), 'utf8')).toContain(
      '/var/log/callbackd/accounting.jsonl',
    );
  });

  it('carries production dependencies only', async () => {
    const { stdout } = await run('dpkg-deb', ['-c', deb], { maxBuffer: 16 * 1024 * 1024 });
    for (const dev of ['typescript', 'vitest', 'prettier', '@types', 'fast-check']) {
      expect(stdout, dev).not.toContain(`/node_modules/${dev}/`);
    }
    expect(stdout).toContain('/node_modules/serialport/');
    expect(stdout).not.toMatch(/\.ts$|\.map$/m); // no sources, declarations or source maps
  });

  it('checks the sample configuration with the installed files', async () => {
    const { stdout } = await installed('check-config', join(root, 'etc/callbackd/callbackd.toml'));
    expect(stdout).toMatch(/callbackd\.toml: ok, 1 line/);
  });

  it('runs a whole simulated call-back from the installed files, under the name callbackd', async () => {
    const child = spawn(
      process.execPath,
      [join(root, 'usr/lib/callbackd/dist/cli.js'), 'demo', '--ring-ms', '200', '--chat', 'builtin'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    const firstOutput = new Promise<void>((resolve) =>
      child.stdout.once('data', (b: Buffer) => {
        out += b.toString();
        resolve();
      }),
    );
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    await firstOutput;
    const comm = readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(comm).toBe('callbackd');
    expect(code, out).toBe(0);
    expect(out).toMatch(/demo passed: called back 123456/);
  });

  it('passes lintian without an error or warning', async () => {
    const r = await run('lintian', ['--tag-display-limit', '0', deb], { maxBuffer: 16 * 1024 * 1024 }).catch(
      (err: { stdout: string }) => err,
    );
    const tags = r.stdout.split('\n').filter((l) => /^[EW]: /.test(l));
    expect(tags).toEqual([]);
  }, 120_000);

  it('purges its configuration and state', async () => {
    await dpkg('--purge', 'callbackd');
    expect(existsSync(join(root, 'etc/callbackd/callbackd.toml'))).toBe(false);
    expect(existsSync(join(root, 'var/lib/callbackd'))).toBe(false);
    expect(existsSync(join(root, 'usr/lib/callbackd'))).toBe(false);
  });
});
