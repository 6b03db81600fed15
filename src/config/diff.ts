import { isDeepStrictEqual } from 'node:util';
import type { Config } from './types.js';

export interface ConfigDiff {
  linesAdded: string[];
  linesRemoved: string[];
  /** Same name, different effective settings (its timing includes the global [timing]). */
  linesChanged: string[];
  linesUnchanged: string[];
  /** Config properties other than `lines` that differ: daemon, timing, login, security, callbacks, pppUsers, pppd, radius. */
  globalChanged: string[];
}

const GLOBAL_SECTIONS = [
  'daemon',
  'timing',
  'login',
  'security',
  'callbacks',
  'pppUsers',
  'pppd',
  'radius',
] as const;

/**
 * What a SIGHUP reload has to do: lines are matched by name. The daemon keeps live
 * calls, starts added lines, stops removed ones when idle, and restarts a changed
 * line only when it is idle; global sections apply to the next call.
 */
export function diffConfig(old: Config, next: Config): ConfigDiff {
  const before = new Map(old.lines.map((l) => [l.name, l]));
  const after = new Map(next.lines.map((l) => [l.name, l]));
  const diff: ConfigDiff = {
    linesAdded: [],
    linesRemoved: [],
    linesChanged: [],
    linesUnchanged: [],
    globalChanged: [],
  };
  for (const [name, line] of after) {
    const was = before.get(name);
    if (!was) diff.linesAdded.push(name);
    else if (isDeepStrictEqual(was, line)) diff.linesUnchanged.push(name);
    else diff.linesChanged.push(name);
  }
  for (const name of before.keys()) if (!after.has(name)) diff.linesRemoved.push(name);
  for (const section of GLOBAL_SECTIONS) {
    if (!isDeepStrictEqual(old[section], next[section])) diff.globalChanged.push(section);
  }
  return diff;
}

/** True when a reload would change nothing. */
export function isEmptyDiff(d: ConfigDiff): boolean {
  return d.linesAdded.length + d.linesRemoved.length + d.linesChanged.length + d.globalChanged.length === 0;
}
