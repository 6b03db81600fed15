import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the developer tools find the repository and the built daemon. They run compiled
 * from dist-tools/tools/ (npm scripts) or as sources from tools/ (tests), so the root is
 * found by walking up, not by counting `..`.
 */
function findRepo(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'tools'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('tools: the repository root (package.json next to tools/) was not found');
    dir = up;
  }
}

export const REPO = findRepo();
/** The daemon as `npm run build` leaves it: the tools measure and drive this, never the sources. */
export const DIST = path.join(REPO, 'dist');
export const CLI = path.join(DIST, 'cli.js');
export const STANDIN = path.join(DIST, 'demo', 'pppd-standin.js');
/** The light pppd stand-in (POSIX sh, builtins only): costs to start what real pppd costs. */
export const STANDIN_SH = path.join(REPO, 'tools', 'bench', 'pppd-standin.sh');

/**
 * The environment dist/cli.js's `#!/usr/bin/env -S VAR=value ... node` line sets (glibc
 * malloc tunables), for tools that start the daemon with node directly, as the shipped
 * wrapper and the shebang do.
 */
export function shebangEnv(): Record<string, string> {
  const first = readFileSync(CLI, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\/usr\/bin\/env -S ((?:[A-Z_]+=\S+\s+)*)node\b/.exec(first);
  const env: Record<string, string> = {};
  for (const a of (m?.[1] ?? '').trim().split(/\s+/).filter(Boolean)) {
    const i = a.indexOf('=');
    env[a.slice(0, i)] = a.slice(i + 1);
  }
  return env;
}
