import { parseDuration } from './duration.js';

/** One thing wrong with the file, at a key path as written there (snake_case). */
export interface Problem {
  path: string;
  reason: string;
}

export type Table = Record<string, unknown>;

export function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * Reads one TOML table with typed getters. Every getter records its key as known and
 * reports a wrong type as a problem instead of throwing, so one pass over the file
 * collects every problem. done() then reports keys nobody asked for: typos must not
 * pass silently.
 */
export class Section {
  private readonly known = new Set<string>();

  constructor(
    readonly table: Table,
    readonly path: string,
    private readonly problems: Problem[],
  ) {}

  keyPath(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  problem(key: string, reason: string): void {
    this.problems.push({ path: key === '' ? this.path : this.keyPath(key), reason });
  }

  has(key: string): boolean {
    this.known.add(key);
    return Object.hasOwn(this.table, key);
  }

  /** What a wrong value is said to be: for a key that may hold a secret, only its type. */
  private shown(key: string, v: unknown): string {
    if (!SECRET_KEY.test(key)) return describe(v);
    if (Array.isArray(v)) return 'an array';
    if (isTable(v)) return 'a table';
    return `a ${v instanceof Date ? 'date' : typeof v} (its value is not shown: it may be a secret)`;
  }

  private raw(key: string): unknown {
    return this.has(key) ? this.table[key] : undefined;
  }

  string(key: string, def: string): string;
  string(key: string): string | undefined;
  string(key: string, def?: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return def;
    if (typeof v !== 'string') {
      this.problem(key, `must be a string, got ${this.shown(key, v)}`);
      return def;
    }
    return v;
  }

  required(key: string): string {
    const v = this.string(key);
    if (v === undefined && !Object.hasOwn(this.table, key)) this.problem(key, 'is required');
    return v ?? '';
  }

  bool(key: string, def: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) return def;
    if (typeof v !== 'boolean') {
      this.problem(key, `must be true or false, got ${this.shown(key, v)}`);
      return def;
    }
    return v;
  }

  int(key: string, def: number, min: number, max: number): number {
    const v = this.raw(key);
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.problem(key, `must be a whole number, got ${this.shown(key, v)}`);
      return def;
    }
    if (v < min || v > max) {
      this.problem(key, `${v} is outside ${min}..${max}`);
      return def;
    }
    return v;
  }

  duration(key: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw(key);
    if (v === undefined) return def;
    const ms = parseDuration(v);
    if (typeof ms !== 'number') {
      this.problem(key, ms.error);
      return def;
    }
    if (ms < min || ms > max) {
      this.problem(key, `${ms} ms is outside ${min}..${max} ms`);
      return def;
    }
    return ms;
  }

  strings(key: string, def: string[] = []): string[] {
    const v = this.raw(key);
    if (v === undefined) return [...def];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
      this.problem(key, `must be an array of strings, got ${this.shown(key, v)}`);
      return [...def];
    }
    return v as string[];
  }

  /** A sub-table; absent gives an empty one (all defaults). */
  section(key: string): Section {
    const v = this.raw(key);
    if (v !== undefined && !isTable(v)) this.problem(key, `must be a table, got ${this.shown(key, v)}`);
    return new Section(isTable(v) ? v : {}, this.keyPath(key), this.problems);
  }

  /** An array of tables (`[[key]]`). */
  sections(key: string): Section[] {
    const v = this.raw(key);
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((t) => !isTable(t))) {
      this.problem(key, `must be an array of tables ([[${key}]]), got ${this.shown(key, v)}`);
      return [];
    }
    return (v as Table[]).map((t, i) => new Section(t, `${this.keyPath(key)}[${i}]`, this.problems));
  }

  /** Reports keys that no getter asked for. Call after reading everything. */
  done(): void {
    for (const key of Object.keys(this.table)) {
      if (this.known.has(key)) continue;
      const near = closest(key, [...this.known]);
      this.problem(key, `unknown key${near ? ` (did you mean "${near}"?)` : ''}`);
    }
  }
}

/** Keys whose values may be secrets, never echoed in a message (a PIN written as 1234, say). */
const SECRET_KEY = /hash|pin|password|secret/i;

export function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return 'a date';
  if (isTable(v)) return 'a table';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}...` : v}"`;
  return String(v);
}

/** A known key within edit distance 2, for "did you mean". */
function closest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDist = 3;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestDist) {
      best = k;
      bestDist = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
    }
    prev = cur;
  }
  return prev[b.length] as number;
}
