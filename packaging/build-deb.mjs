#!/usr/bin/env node
// `npm run package`: builds build/callbackd_<version>_<arch>.deb with dpkg-deb from the
// compiled JavaScript (dist/, built first by the npm script) and the production
// dependencies only. The architecture is the building machine's: node-pty and the
// serialport binding are native addons compiled for it.
//
// Layout:
//   /usr/sbin/callbackd                       wrapper: exec /usr/bin/node .../dist/cli.js
//   /usr/lib/callbackd/{dist,node_modules,package.json}
//   /lib/systemd/system/callbackd.service
//   /etc/callbackd/callbackd.toml             conffile, mode 0600 (it holds hashes)
//   /etc/logrotate.d/callbackd                conffile: the accounting log
//   /var/lib/callbackd                        persistent state (0750)
//   /usr/share/man/man8/callbackd.8.gz        from packaging/man/callbackd.8.md
//   /usr/share/man/man5/callbackd.toml.5.gz   from docs/configuration.md
//   /usr/share/doc/callbackd/                 copyright, changelog, operations and configuration docs
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  statSync,
  readdirSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants } from 'node:zlib';
import { markdownToMan } from './man/md2man.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const version = process.env.CALLBACKD_DEB_VERSION ?? `${pkg.version}-1`;
// Who builds the package (as dch reads them): set DEBFULLNAME and DEBEMAIL for a real upload.
const maintainer = `${process.env.DEBFULLNAME ?? 'callbackd maintainers'} <${process.env.DEBEMAIL ?? 'callbackd@lists.callbackd.org'}>`;
const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
const outDir = join(repo, 'build');
const root = join(outDir, 'deb-root');
const debFile = join(outDir, `callbackd_${version}_${arch}.deb`);
// Reproducible: the date of the last commit (or SOURCE_DATE_EPOCH), not the build time.
const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? gitEpoch());
const date = new Date(epoch * 1000);

function gitEpoch() {
  try {
    return execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: repo, encoding: 'utf8' }).trim();
  } catch {
    return String(Math.floor(Date.now() / 1000));
  }
}

function put(path, content, mode = 0o644) {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, content);
  chmodSync(full, mode);
}

const gz = (text) => gzipSync(text, { level: constants.Z_BEST_COMPRESSION, mtime: 0 });

function dirSizeKiB(dir) {
  let bytes = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) bytes += statSync(p).size;
    }
  };
  walk(dir);
  return Math.ceil(bytes / 1024);
}

rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });

// The program: compiled JavaScript and the production dependencies, nothing else.
const lib = join(root, 'usr/lib/callbackd');
mkdirSync(lib, { recursive: true });
cpSync(join(repo, 'dist'), join(lib, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.map') });
for (const f of ['package.json', 'package-lock.json']) cpSync(join(repo, f), join(lib, f));
// The HOWTO's client chat script: `callbackd demo` runs it, and it is the caller's side to copy.
cpSync(join(repo, 'config/client'), join(lib, 'config/client'), { recursive: true });
cpSync(join(repo, 'node_modules'), join(lib, 'node_modules'), { recursive: true, verbatimSymlinks: true });
// npm removes the dev dependencies from the copy (no network: it only deletes).
execFileSync('npm', ['prune', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts', '--offline'], {
  cwd: lib,
  stdio: ['ignore', 'ignore', 'inherit'],
});
rmSync(join(lib, 'node_modules/.package-lock.json'), { force: true });
rmSync(join(lib, 'package-lock.json'), { force: true });
// Build leftovers of the native addons (object files, Makefiles) are not needed to run.
for (const mod of ['node-pty', '@serialport/bindings-cpp']) {
  const b = join(lib, 'node_modules', mod, 'build');
  try {
    for (const e of readdirSync(b)) if (e !== 'Release') rmSync(join(b, e), { recursive: true, force: true });
    for (const e of readdirSync(join(b, 'Release'))) {
      if (!e.endsWith('.node')) rmSync(join(b, 'Release', e), { recursive: true, force: true });
    }
  } catch {
    /* this addon ships a prebuild instead */
  }
}
// Prebuilt addons for other systems, and node-pty's Windows and source trees.
const nodeArch = { amd64: 'x64', arm64: 'arm64', armhf: 'arm', i386: 'ia32' }[arch] ?? process.arch;
const prune = (d) => {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (!e.isDirectory()) continue;
    if (e.name === 'prebuilds') {
      for (const plat of readdirSync(p)) {
        if (!plat.startsWith(`linux-${nodeArch}`)) rmSync(join(p, plat), { recursive: true, force: true });
      }
    } else prune(p);
  }
};
prune(join(lib, 'node_modules'));
for (const d of ['deps', 'third_party', 'src', 'scripts']) {
  rmSync(join(lib, 'node_modules/node-pty', d), { recursive: true, force: true });
}
for (const d of [
  '@serialport/bindings-cpp/src',
  'node-addon-api/tools',
  '@serialport/bindings-cpp/node_modules/node-addon-api/tools',
]) {
  rmSync(join(lib, 'node_modules', d), { recursive: true, force: true });
}
// Files for a module's web site, repository or type checker, and the musl build (Debian is glibc).
const tidy = (d) => {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) {
      if (e.name === 'test' || e.name === '.husky' || e.name === '.github') rmSync(p, { recursive: true });
      else tidy(p);
    } else if (
      /\.html$|^\.git|^\.npmignore$|^\.eslintrc|\.musl\.node$|\.sh$|\.[cm]?ts$|\.map$/.test(e.name)
    ) {
      rmSync(p);
    } else {
      // Scripts (a #! line) stay runnable; nothing else in node_modules is run directly.
      chmodSync(p, readFileSync(p).subarray(0, 2).toString() === '#!' ? 0o755 : 0o644);
    }
  }
};
tidy(join(lib, 'node_modules'));
// Native addons: stripped (node-pty is compiled here with debug symbols).
for (const f of execFileSync('find', [join(lib, 'node_modules'), '-name', '*.node', '-type', 'f'], {
  encoding: 'utf8',
})
  .split('\n')
  .filter(Boolean)) {
  execFileSync('strip', ['--strip-unneeded', '--remove-section=.comment', '--remove-section=.note', f]);
}
// Directories npm prune emptied (scopes of removed dev dependencies, tool caches).
for (const e of readdirSync(join(lib, 'node_modules'))) {
  const p = join(lib, 'node_modules', e);
  if (e.startsWith('.') || readdirSync(p).length === 0) rmSync(p, { recursive: true, force: true });
}
for (const bad of ['typescript', 'vitest', 'prettier', '@vitest', '@types']) {
  try {
    statSync(join(lib, 'node_modules', bad));
    throw new Error(`${bad} is still in the package's node_modules`);
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
}

// The V8 flags of cli.js's `#!/usr/bin/env -S node ...` line (measured in
// docs/benchmarks.md) go to the wrapper, the package's entry point; cli.js itself gets
// a plain interpreter line (env -S is not one lintian or every system accepts).
const cliPath = join(lib, 'dist/cli.js');
const [shebang, ...cliRest] = readFileSync(cliPath, 'utf8').split('\n');
const [, envPart = '', flagPart = ''] =
  /^#!\/usr\/bin\/env -S ((?:[A-Z_]+=\S+\s+)*)node(.*)$/.exec(shebang) ?? [];
const nodeFlags = flagPart.trim();
// Environment the shebang sets (glibc's malloc tunables), exported by the wrapper.
const exports = envPart
  .trim()
  .split(/\s+/)
  .filter(Boolean)
  .map((a) => `export ${a}\n`)
  .join('');
writeFileSync(cliPath, ['#!/usr/bin/node', ...cliRest].join('\n'));
put(
  'usr/sbin/callbackd',
  `#!/bin/sh\n# callbackd: the Node.js program in /usr/lib/callbackd (see callbackd(8)).\n${exports}exec /usr/bin/node ${nodeFlags ? `${nodeFlags} ` : ''}/usr/lib/callbackd/dist/cli.js "$@"\n`,
  0o755,
);
chmodSync(cliPath, 0o755);
chmodSync(join(lib, 'dist/demo/pppd-standin.js'), 0o755); // has a #! line; the demo runs it

// systemd unit, configuration, logrotate, state directory.
put('lib/systemd/system/callbackd.service', readFileSync(join(repo, 'systemd/callbackd.service')));
put('etc/callbackd/callbackd.toml', readFileSync(join(repo, 'config/callbackd.toml')), 0o600);
chmodSync(join(root, 'etc/callbackd'), 0o755);
put(
  'etc/logrotate.d/callbackd',
  `# callbackd accounting records: one JSON line per call. callbackd opens the file for each
# record (O_APPEND), so moving it away needs no signal.
/var/log/callbackd/accounting.jsonl {
\tmonthly
\trotate 12
\tcompress
\tdelaycompress
\tmissingok
\tnotifempty
\tcreate 0640 root adm
}
`,
);
mkdirSync(join(root, 'var/lib/callbackd'), { recursive: true });
chmodSync(join(root, 'var/lib/callbackd'), 0o750);

// Man pages, generated here from the documentation: one source, nothing to drift.
const manDate = date.toISOString().slice(0, 10);
put(
  'usr/share/man/man8/callbackd.8.gz',
  gz(
    markdownToMan(readFileSync(join(repo, 'packaging/man/callbackd.8.md'), 'utf8'), {
      name: 'callbackd',
      section: '8',
      date: manDate,
      version: pkg.version,
      summary: 'dial-in call-back server for modems and pppd',
    }),
  ),
);
put(
  'usr/share/man/man5/callbackd.toml.5.gz',
  gz(
    markdownToMan(readFileSync(join(repo, 'docs/configuration.md'), 'utf8'), {
      name: 'callbackd.toml',
      section: '5',
      date: manDate,
      version: pkg.version,
      summary: 'configuration file of callbackd(8)',
    }),
  ),
);

// Documentation.
const doc = 'usr/share/doc/callbackd';
put(
  `${doc}/copyright`,
  `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: callbackd

Files: *
Copyright: 2024-2026 callbackd authors
License: GPL-2+
 This program is free software; you can redistribute it and/or modify it under the
 terms of the GNU General Public License as published by the Free Software Foundation;
 either version 2 of the License, or (at your option) any later version.
 .
 On Debian systems, the full text of the GNU General Public License version 2 can be
 found in the file /usr/share/common-licenses/GPL-2.
 .
 The Node.js modules in /usr/lib/callbackd/node_modules carry their own licences
 (MIT, ISC and similar), stated in each module's directory.
`,
);
put(
  `${doc}/changelog.Debian.gz`,
  gz(`callbackd (${version}) unstable; urgency=medium

  * Package built from the callbackd source tree (npm run package).

 -- ${maintainer}  ${date.toUTCString().replace(/GMT$/, '+0000')}
`),
);
for (const f of ['operations.md', 'configuration.md', 'security.md', 'lines.md']) {
  put(`${doc}/${f}`, readFileSync(join(repo, 'docs', f)));
}
put(`${doc}/examples/callbackd.toml`, readFileSync(join(repo, 'config/callbackd.toml')));
put(`${doc}/examples/client/pppcallback`, readFileSync(join(repo, 'config/client/pppcallback')));
put(`${doc}/examples/client/README.md`, readFileSync(join(repo, 'config/client/README.md')));

// Maintainer scripts, as dh_installsystemd writes them for a unit that is neither enabled
// nor started on install: the sample configuration answers /dev/ttyS1 with published
// secrets, so the administrator edits it and then runs `systemctl enable --now callbackd`.
// DPKG_ROOT is set when dpkg installs into another root without chroot
// (--force-script-chrootless): paths are prefixed, and the running system's systemd is
// left alone.
put(
  'DEBIAN/postinst',
  `#!/bin/sh
set -e
if [ "$1" = "configure" ]; then
\tinstall -d -m 0750 "$DPKG_ROOT/var/log/callbackd"
\tif [ -z "$DPKG_ROOT" ] && command -v deb-systemd-helper >/dev/null 2>&1; then
\t\tdeb-systemd-helper update-state callbackd.service >/dev/null || true
\tfi
\tif [ -z "$DPKG_ROOT" ] && [ -d /run/systemd/system ]; then
\t\tsystemctl --system daemon-reload >/dev/null || true
\t\tif [ -n "$2" ] && systemctl --quiet is-active callbackd.service; then
\t\t\tdeb-systemd-invoke restart callbackd.service >/dev/null || true
\t\tfi
\tfi
fi
`,
  0o755,
);
put(
  'DEBIAN/prerm',
  `#!/bin/sh
set -e
if [ "$1" = "remove" ] && [ -z "$DPKG_ROOT" ] && [ -d /run/systemd/system ]; then
\tdeb-systemd-invoke stop callbackd.service >/dev/null || true
fi
`,
  0o755,
);
put(
  'DEBIAN/postrm',
  `#!/bin/sh
set -e
if [ -z "$DPKG_ROOT" ] && [ -d /run/systemd/system ]; then
\tsystemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = "purge" ]; then
\tif [ -z "$DPKG_ROOT" ] && command -v deb-systemd-helper >/dev/null 2>&1; then
\t\tdeb-systemd-helper purge callbackd.service >/dev/null || true
\tfi
\trm -rf "$DPKG_ROOT/var/lib/callbackd" "$DPKG_ROOT/var/log/callbackd"
fi
`,
  0o755,
);
put(
  'usr/share/lintian/overrides/callbackd',
  `# The configuration holds PIN and password hashes: root only, on purpose.
callbackd: non-standard-file-perm 0600 != 0644 [etc/callbackd/callbackd.toml]
# Lockout and rate-limit state: root and nobody else.
callbackd: non-standard-dir-perm 0750 != 0755 [var/lib/callbackd/]
# Built from the upstream tree, not uploaded to Debian: no bug to close.
callbackd: initial-upload-closes-no-bugs
`,
);
put('DEBIAN/conffiles', '/etc/callbackd/callbackd.toml\n/etc/logrotate.d/callbackd\n');
// The native addons' shared libraries, as dpkg-shlibdeps (dpkg-dev) finds them; Node's own
// symbols (napi_*, uv_*) come from the nodejs package, hence --warnings=0.
const addons = execFileSync('find', [root, '-name', '*.node', '-type', 'f'], { encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);
const shlibDir = join(outDir, 'shlibdeps');
rmSync(shlibDir, { recursive: true, force: true });
mkdirSync(join(shlibDir, 'debian'), { recursive: true });
writeFileSync(
  join(shlibDir, 'debian/control'),
  'Source: callbackd\n\nPackage: callbackd\nArchitecture: any\n',
);
const shlibs = execFileSync('dpkg-shlibdeps', ['-O', '--warnings=0', ...addons.map((a) => `-e${a}`)], {
  cwd: shlibDir,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'ignore'],
})
  .trim()
  .replace(/^shlibs:Depends=/, '');
rmSync(shlibDir, { recursive: true, force: true });

put(
  'DEBIAN/control',
  `Package: callbackd
Version: ${version}
Architecture: ${arch}
Maintainer: ${maintainer}
Installed-Size: ${dirSizeKiB(root)}
Depends: nodejs (>= 20.19), ppp, ${shlibs}
Recommends: logrotate
Section: net
Priority: optional
Description: dial-in call-back server for modems and pppd
 callbackd answers Hayes modems on serial lines, logs callers in, calls them
 back at a stored or checked number and hands the line to pppd. It replaces
 mgetty plus mgetty's callback program, with number rules, lockouts, rate
 limits, one accounting record per call and systemd integration.
`,
);

execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, debFile], { stdio: 'inherit' });
process.stdout.write(`${debFile}\n`);
