import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SecurityConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { Lockouts, RateLimiter } from '../policy/index.js';
import type { PolicyState } from '../session/deps.js';

/**
 * Lockouts and rate limits shared by every line, kept across restarts in
 * <state_dir>/limits.json: a toll fraudster must not get a fresh budget by making
 * the daemon restart. The pure bookkeeping is src/policy; this adds the file.
 */
export class SharedPolicyState implements PolicyState {
  private lockouts: Lockouts;
  private rates: RateLimiter;
  private readonly file: string;

  constructor(
    cfg: SecurityConfig,
    stateDir: string,
    private readonly log: Logger,
  ) {
    this.file = join(stateDir, 'limits.json');
    try {
      const saved = this.read();
      this.lockouts = Lockouts.fromJSON(cfg.lockout, saved?.lockouts);
      this.rates = RateLimiter.fromJSON(cfg.rateLimit, saved?.rates);
    } catch (err) {
      // A damaged file must not keep the daemon from answering: start counting afresh,
      // and keep the file aside for a look.
      log.error({
        event: 'limits-unreadable',
        file: this.file,
        err: String(err),
        keptAs: `${this.file}.bad`,
      });
      try {
        renameSync(this.file, `${this.file}.bad`);
      } catch {
        /* nothing to keep */
      }
      this.lockouts = Lockouts.fromJSON(cfg.lockout, undefined);
      this.rates = RateLimiter.fromJSON(cfg.rateLimit, undefined);
    }
  }

  /** New limits on reload; what was counted so far is kept. */
  reconfigure(cfg: SecurityConfig): void {
    this.lockouts = Lockouts.fromJSON(cfg.lockout, this.lockouts.toJSON());
    this.rates = RateLimiter.fromJSON(cfg.rateLimit, this.rates.toJSON());
  }

  private read(): { lockouts?: unknown; rates?: unknown } | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return undefined; // first start
    }
    return JSON.parse(text) as { lockouts?: unknown; rates?: unknown };
  }

  private save(): void {
    try {
      mkdirSync(join(this.file, '..'), { recursive: true, mode: 0o750 });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ lockouts: this.lockouts.toJSON(), rates: this.rates.toJSON() }), {
        mode: 0o600,
      });
      renameSync(tmp, this.file);
    } catch (err) {
      this.log.warn({ event: 'limits-not-saved', file: this.file, err: String(err) });
    }
  }

  isLocked(keys: string[], now: number): boolean {
    return keys.some((k) => this.lockouts.check(k, now).locked);
  }

  failure(keys: string[], now: number): void {
    for (const k of keys) {
      this.lockouts.failure(k, now);
      const state = this.lockouts.check(k, now);
      if (state.locked)
        this.log.warn({ event: 'locked-out', key: k, until: new Date(state.untilMs).toISOString() });
    }
    this.save();
  }

  success(keys: string[]): void {
    for (const k of keys) this.lockouts.success(k);
    this.save();
  }

  rateCheck(entry: string, number: string, now: number) {
    return this.rates.check({ entry, number }, now);
  }

  record(entry: string, number: string, now: number): void {
    this.rates.record({ entry, number }, now);
    this.save();
  }
}
