import type { SecurityConfig } from '../config/types.js';
import { CallbackdError } from '../errors.js';
import { normaliseCallerId } from './numbers.js';

/**
 * Toll-fraud protection that needs memory: lockouts after repeated failures and
 * sliding-window limits on how often we dial out. Time is always passed in as
 * `now` (ms since the epoch, so state survives a restart when the daemon saves
 * toJSON() and loads it with fromJSON()). Memory is bounded: old timestamps are
 * pruned and the number of keys is capped, because keys come from callers
 * (login names, caller IDs, typed numbers) and a flood of distinct ones must not
 * grow the daemon.
 */

export type LockoutConfig = SecurityConfig['lockout'];
export type RateLimitConfig = SecurityConfig['rateLimit'];

/** Most keys either class keeps; beyond it the oldest unlocked keys are forgotten first. */
export const MAX_POLICY_KEYS = 10_000;

const STATE_VERSION = 1;

function invalid(what: string): never {
  throw new CallbackdError('STATE_INVALID', `saved policy state is unusable: ${what}`);
}

function isCount(n: unknown, min: number): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= min;
}

function timestamps(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((t) => typeof t === 'number' && Number.isFinite(t))) {
    invalid(`${what} must be a list of times`);
  }
  return [...(v as number[])].sort((a, b) => a - b);
}

function pairs(v: unknown, what: string): [string, unknown][] {
  if (!Array.isArray(v) || !v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string')) {
    invalid(`${what} must be a list of [key, value] pairs`);
  }
  return v as [string, unknown][];
}

function versioned(data: unknown): Record<string, unknown> {
  if (typeof data !== 'object' || data === null) invalid('not an object');
  const obj = data as Record<string, unknown>;
  if (obj.version !== STATE_VERSION) invalid(`unknown version ${String(obj.version)}`);
  return obj;
}

interface KeyState {
  /** Failure times inside the window, oldest first, at most maxFailures of them. */
  failures: number[];
  lockedUntil?: number;
  /** Locks so far (reset by a right secret): the next one lasts lockMs * 2^locks. */
  locks?: number;
}

/** The longest a growing lock gets: a week. */
export const MAX_LOCK_MS = 7 * 24 * 3_600_000;
/** The window of the daily cap per name. */
export const DAY_MS = 24 * 3_600_000;

export class Lockouts {
  private readonly keys = new Map<string, KeyState>();

  constructor(
    private readonly cfg: LockoutConfig,
    private readonly maxKeys = MAX_POLICY_KEYS,
    /** Whether each lock doubles the one before (false for the daily cap). */
    private readonly grow = true,
  ) {
    if (!isCount(cfg.maxFailures, 1))
      throw new CallbackdError('CONFIG_INVALID', 'lockout.maxFailures must be 1 or more');
    if (!isCount(cfg.windowMs, 1))
      throw new CallbackdError('CONFIG_INVALID', 'lockout.windowMs must be positive');
    if (!isCount(cfg.lockMs, 0))
      throw new CallbackdError('CONFIG_INVALID', 'lockout.lockMs must not be negative');
    if (!isCount(maxKeys, 1)) throw new CallbackdError('INTERNAL', 'maxKeys must be 1 or more');
  }

  /** Number of keys remembered (for tests and status output). */
  get size(): number {
    return this.keys.size;
  }

  failure(key: string, now: number): void {
    let s = this.keys.get(key);
    if (!s) {
      this.makeRoom(now);
      s = { failures: [] };
      this.keys.set(key, s);
    }
    // Failures while locked do not extend the lock: the session refuses before asking.
    if (this.isLocked(s, now)) return;
    delete s.lockedUntil;
    s.failures = s.failures.filter((t) => t > now - this.cfg.windowMs);
    s.failures.push(now);
    if (s.failures.length >= this.cfg.maxFailures) {
      s.lockedUntil = now + this.lockLength(s);
      s.locks = (s.locks ?? 0) + 1;
      s.failures = [];
    }
  }

  /**
   * A right secret clears the failure count and the growth; a lock in force stays until
   * it runs out. Returns whether there was anything to clear (false: nothing to save).
   */
  success(key: string): boolean {
    const s = this.keys.get(key);
    if (!s) return false;
    if (s.lockedUntil === undefined) this.keys.delete(key);
    else {
      s.failures = [];
      delete s.locks;
    }
    return true;
  }

  check(key: string, now: number): { locked: false } | { locked: true; untilMs: number } {
    const s = this.keys.get(key);
    if (!s || !this.isLocked(s, now)) return { locked: false };
    return { locked: true, untilMs: s.lockedUntil as number };
  }

  /** lockMs, doubled for every earlier lock of this key, at most MAX_LOCK_MS. */
  private lockLength(s: KeyState): number {
    if (!this.grow) return this.cfg.lockMs;
    const locks = Math.min(s.locks ?? 0, 30);
    return Math.max(this.cfg.lockMs, Math.min(this.cfg.lockMs * 2 ** locks, MAX_LOCK_MS));
  }

  private isLocked(s: KeyState, now: number): boolean {
    if (s.lockedUntil === undefined || s.lockedUntil <= now) return false;
    // The clock went back: never hold a lock longer than its own length from now.
    const longest = this.lockLength({ ...s, locks: Math.max(0, (s.locks ?? 1) - 1) });
    if (s.lockedUntil - now > longest) s.lockedUntil = now + longest;
    return true;
  }

  private makeRoom(now: number): void {
    if (this.keys.size < this.maxKeys) return;
    for (const [key, s] of this.keys) {
      const recent = s.failures.some((t) => t > now - this.cfg.windowMs);
      if (!this.isLocked(s, now) && !recent) this.keys.delete(key);
    }
    // Still full: forget the oldest keys, unlocked ones before locked ones.
    for (const lockedToo of [false, true]) {
      for (const [key, s] of this.keys) {
        if (this.keys.size < this.maxKeys) return;
        if (lockedToo || !this.isLocked(s, now)) this.keys.delete(key);
      }
    }
  }

  toJSON(): unknown {
    return { version: STATE_VERSION, keys: [...this.keys].map(([k, s]) => [k, { ...s }]) };
  }

  /** undefined or null (nothing saved yet) gives an empty instance; anything malformed throws STATE_INVALID. */
  static fromJSON(cfg: LockoutConfig, data: unknown, maxKeys = MAX_POLICY_KEYS, grow = true): Lockouts {
    const out = new Lockouts(cfg, maxKeys, grow);
    if (data === undefined || data === null) return out;
    const obj = versioned(data);
    const list = pairs(obj.keys, 'keys');
    for (const [key, value] of list.slice(-maxKeys)) {
      if (typeof value !== 'object' || value === null) invalid(`entry for ${JSON.stringify(key)}`);
      const v = value as Record<string, unknown>;
      const s: KeyState = { failures: timestamps(v.failures, 'failures').slice(-cfg.maxFailures) };
      if (v.lockedUntil !== undefined) {
        if (typeof v.lockedUntil !== 'number' || !Number.isFinite(v.lockedUntil)) invalid('lockedUntil');
        s.lockedUntil = v.lockedUntil;
      }
      if (v.locks !== undefined) {
        if (!isCount(v.locks, 0)) invalid('locks');
        s.locks = v.locks as number;
      }
      out.keys.set(key, s);
    }
    return out;
  }
}

export interface RateKey {
  entry: string;
  number: string;
}

/** Sliding windows of call-back times: per entry, per number, and in all. */
export class RateLimiter {
  private readonly byEntry = new Map<string, number[]>();
  private readonly byNumber = new Map<string, number[]>();
  private all: number[] = [];

  constructor(
    private readonly cfg: RateLimitConfig,
    private readonly maxKeys = MAX_POLICY_KEYS,
  ) {
    for (const k of ['perEntry', 'perNumber', 'total'] as const) {
      if (!isCount(cfg[k], 0))
        throw new CallbackdError('CONFIG_INVALID', `rateLimit.${k} must not be negative`);
    }
    if (!isCount(cfg.windowMs, 1))
      throw new CallbackdError('CONFIG_INVALID', 'rateLimit.windowMs must be positive');
    if (!isCount(maxKeys, 1)) throw new CallbackdError('INTERNAL', 'maxKeys must be 1 or more');
  }

  /** Keys remembered, entries plus numbers (for tests and status output). */
  get size(): number {
    return this.byEntry.size + this.byNumber.size;
  }

  check(k: RateKey, now: number): { ok: true } | { ok: false; reason: string } {
    this.prune(now);
    const mins = Math.round(this.cfg.windowMs / 60_000);
    const window = mins >= 1 ? `${mins} min` : `${this.cfg.windowMs} ms`;
    if ((this.byEntry.get(k.entry)?.length ?? 0) >= this.cfg.perEntry) {
      return { ok: false, reason: `entry reached its limit of ${this.cfg.perEntry} call-backs in ${window}` };
    }
    if ((this.byNumber.get(numberKey(k.number))?.length ?? 0) >= this.cfg.perNumber) {
      return {
        ok: false,
        reason: `number reached its limit of ${this.cfg.perNumber} call-backs in ${window}`,
      };
    }
    if (this.all.length >= this.cfg.total) {
      return { ok: false, reason: `overall limit of ${this.cfg.total} call-backs in ${window} reached` };
    }
    return { ok: true };
  }

  record(k: RateKey, now: number): void {
    this.prune(now);
    add(this.byEntry, k.entry, now, this.cfg.perEntry, this.maxKeys);
    add(this.byNumber, numberKey(k.number), now, this.cfg.perNumber, this.maxKeys);
    this.all = keepLatest([...this.all, now], this.cfg.total);
  }

  private prune(now: number): void {
    const from = now - this.cfg.windowMs;
    for (const map of [this.byEntry, this.byNumber]) {
      for (const [key, times] of map) {
        const kept = times.filter((t) => t > from);
        if (kept.length === 0) map.delete(key);
        else map.set(key, kept);
      }
    }
    this.all = this.all.filter((t) => t > from);
  }

  toJSON(): unknown {
    return { version: STATE_VERSION, entries: [...this.byEntry], numbers: [...this.byNumber], all: this.all };
  }

  /** undefined or null (nothing saved yet) gives an empty instance; anything malformed throws STATE_INVALID. */
  static fromJSON(cfg: RateLimitConfig, data: unknown, maxKeys = MAX_POLICY_KEYS): RateLimiter {
    const out = new RateLimiter(cfg, maxKeys);
    if (data === undefined || data === null) return out;
    const obj = versioned(data);
    for (const [field, map, limit] of [
      ['entries', out.byEntry, cfg.perEntry],
      ['numbers', out.byNumber, cfg.perNumber],
    ] as const) {
      for (const [key, value] of pairs(obj[field], field).slice(-maxKeys)) {
        const times = keepLatest(timestamps(value, field), limit);
        if (times.length) map.set(key, times);
      }
    }
    out.all = keepLatest(timestamps(obj.all, 'all'), cfg.total);
    return out;
  }
}

/**
 * One destination, one limit: the key is the digits of the normalised dial string
 * (checkNumber's output), so pauses and service-code characters do not make a new
 * number: 0,301234, 0301234# and 0301234## share one limit. A leading + (only in an
 * operator's fixed number) is kept.
 */
export function numberKey(number: string): string {
  return (number.startsWith('+') ? '+' : '') + number.replace(/[^0-9]/g, '');
}

/** Only the latest `limit` times matter: if they are all in the window the limit is reached. */
function keepLatest(times: number[], limit: number): number[] {
  const sorted = times.every((t, i) => i === 0 || (times[i - 1] as number) <= t)
    ? times
    : [...times].sort((a, b) => a - b);
  return limit > 0 ? sorted.slice(-limit) : [];
}

function add(map: Map<string, number[]>, key: string, now: number, limit: number, maxKeys: number): void {
  const times = map.get(key);
  if (!times) {
    // Oldest key first in a Map: forget it when the cap is reached.
    while (map.size >= maxKeys) {
      const oldest = map.keys().next().value as string;
      map.delete(oldest);
    }
  }
  const kept = keepLatest([...(times ?? []), now], limit);
  if (kept.length) map.set(key, kept);
}

/**
 * Which buckets one failed login counts in, from the session's keys (`name:<login
 * name>` for a configured name, `cid:<caller ID>` when one was delivered):
 * - growing locks per name *and* caller (`name:n|cid:X`, or `name:n|withheld` shared
 *   by every caller who withholds the number) and per caller ID (`cid:X`, across
 *   names). A lock refuses only that caller, or only withheld callers: someone who
 *   withholds the caller ID cannot lock out a user whose number is shown;
 * - the daily cap per name, in two buckets: callers who show a number
 *   (`day:n|shown`) and callers who withhold it (`day:n|withheld`). A name gets at
 *   most twice the cap in guesses a day, however many caller IDs are used.
 */
export function guardKeys(keys: string[]): { growing: string[]; daily: string[] } {
  const name = keys.find((k) => k.startsWith('name:'))?.slice(5);
  // "P", "O", "PRIVATE" and the like are a withheld number, not a number.
  const cid = normaliseCallerId(keys.find((k) => k.startsWith('cid:'))?.slice(4));
  const other = keys.filter((k) => !k.startsWith('name:') && !k.startsWith('cid:'));
  const growing: string[] = [...other];
  const daily: string[] = [];
  if (name !== undefined) {
    growing.push(cid !== undefined ? `name:${name}|cid:${cid}` : `name:${name}|withheld`);
    daily.push(cid !== undefined ? `day:${name}|shown` : `day:${name}|withheld`);
  }
  if (cid !== undefined) growing.push(`cid:${cid}`);
  return { growing, daily };
}

/** The daily cap's settings as a lockout: dailyMaxFailures in a day lock the bucket for a day. */
export function dailyCap(cfg: LockoutConfig): LockoutConfig {
  return { maxFailures: cfg.dailyMaxFailures ?? 10, windowMs: DAY_MS, lockMs: DAY_MS };
}
