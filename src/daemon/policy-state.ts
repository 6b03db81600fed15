import { closeSync, constants, existsSync, openSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { SecurityConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { dailyCap, guardKeys, Lockouts, MAX_POLICY_KEYS, RateLimiter } from '../policy/index.js';
import type { PolicyState } from '../session/deps.js';
import { writeFileSafely } from './safe-write.js';

type Saved = { lockouts?: unknown; daily?: unknown; rates?: unknown };

/**
 * Lockouts and rate limits shared by every line, kept across restarts in
 * <state_dir>/limits.json (/var/lib/callbackd, a persistent StateDirectory): a toll
 * fraudster must not get a fresh budget by making the daemon restart. The pure
 * bookkeeping is src/policy; this adds the file.
 *
 * Every save renames the previous file to limits.json.prev before the new one takes
 * its place, so one good copy is always at hand. At start:
 * - limits.json good: use it;
 * - limits.json missing: use limits.json.prev if it is there (a stop between the two
 *   renames), else start empty (the first start, or an operator who cleared both);
 * - limits.json damaged: restore limits.json.prev (logged at error, the damaged file
 *   kept as limits.json.bad); with no good copy, fail closed: every call-back is
 *   refused (logged at error with the command that clears it) until an operator
 *   removes the files. Counting never silently starts from zero.
 */
export class SharedPolicyState implements PolicyState {
  private lockouts: Lockouts;
  /** The daily cap per name (see guardKeys). */
  private daily: Lockouts;
  private rates: RateLimiter;
  private readonly file: string;
  private readonly prev: string;
  /** Set while call-backs are refused because the saved state is damaged. */
  private damaged: string | undefined;

  constructor(
    private cfg: SecurityConfig,
    stateDir: string,
    private readonly log: Logger,
  ) {
    this.file = join(stateDir, 'limits.json');
    this.prev = `${this.file}.prev`;
    this.lockouts = Lockouts.fromJSON(cfg.lockout, undefined);
    this.daily = Lockouts.fromJSON(dailyCap(cfg.lockout), undefined, MAX_POLICY_KEYS, false);
    this.rates = RateLimiter.fromJSON(cfg.rateLimit, undefined);
    this.load();
  }

  /** The command an operator runs to clear a damaged state, in the log and the refusal. */
  get clearCommand(): string {
    return `rm -f ${this.file} ${this.prev}`;
  }

  private load(): void {
    const main = this.tryRead(this.file);
    if (main.kind === 'ok') return this.use(main.saved);
    const prev = this.tryRead(this.prev);
    if (main.kind === 'missing') {
      if (prev.kind === 'ok') {
        this.log.warn({ event: 'limits-restored', file: this.file, from: this.prev });
        this.use(prev.saved);
      }
      return; // first start (or cleared by the operator): nothing was counted yet
    }
    if (prev.kind === 'ok') {
      this.log.error({
        event: 'limits-restored',
        file: this.file,
        err: main.err,
        from: this.prev,
        keptAs: `${this.file}.bad`,
      });
      try {
        renameSync(this.file, `${this.file}.bad`);
      } catch {
        /* kept in place then; the next save replaces it */
      }
      this.use(prev.saved);
      return;
    }
    this.damaged = main.err;
    this.log.error({
      event: 'limits-damaged',
      file: this.file,
      err: main.err,
      effect: 'every call-back is refused until the file is cleared',
      clear: this.clearCommand,
    });
  }

  private use(saved: Saved): void {
    this.lockouts = Lockouts.fromJSON(this.cfg.lockout, saved.lockouts);
    this.daily = Lockouts.fromJSON(dailyCap(this.cfg.lockout), saved.daily, MAX_POLICY_KEYS, false);
    this.rates = RateLimiter.fromJSON(this.cfg.rateLimit, saved.rates);
  }

  private tryRead(
    file: string,
  ): { kind: 'ok'; saved: Saved } | { kind: 'missing' } | { kind: 'damaged'; err: string } {
    let text: string;
    try {
      // O_NOFOLLOW: a symlink planted here is refused, never read through.
      const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      try {
        text = readFileSync(fd, 'utf8');
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      return { kind: 'damaged', err: String(err) };
    }
    try {
      const saved = JSON.parse(text) as Saved;
      if (typeof saved !== 'object' || saved === null) throw new Error('not an object');
      // Check both parts now, so a damaged file is found at start and not at the first call.
      Lockouts.fromJSON(this.cfg.lockout, saved.lockouts);
      Lockouts.fromJSON(dailyCap(this.cfg.lockout), saved.daily, MAX_POLICY_KEYS, false);
      RateLimiter.fromJSON(this.cfg.rateLimit, saved.rates);
      return { kind: 'ok', saved };
    } catch (err) {
      return { kind: 'damaged', err: err instanceof Error ? err.message : String(err) };
    }
  }

  /** New limits on reload; what was counted so far is kept. */
  reconfigure(cfg: SecurityConfig): void {
    this.cfg = cfg;
    this.lockouts = Lockouts.fromJSON(cfg.lockout, this.lockouts.toJSON());
    this.daily = Lockouts.fromJSON(dailyCap(cfg.lockout), this.daily.toJSON(), MAX_POLICY_KEYS, false);
    this.rates = RateLimiter.fromJSON(cfg.rateLimit, this.rates.toJSON());
  }

  /** While damaged: the operator cleared the files, so counting may start again. */
  private stillDamaged(): boolean {
    if (this.damaged === undefined) return false;
    if (existsSync(this.file) || existsSync(this.prev)) return true;
    this.log.warn({ event: 'limits-cleared', file: this.file });
    this.damaged = undefined;
    return false;
  }

  private save(): void {
    // Never overwrite a damaged file: it is the operator's evidence and decision.
    if (this.stillDamaged()) return;
    try {
      const text = JSON.stringify({
        lockouts: this.lockouts.toJSON(),
        daily: this.daily.toJSON(),
        rates: this.rates.toJSON(),
      });
      if (existsSync(this.file)) renameSync(this.file, this.prev);
      writeFileSafely(this.file, text, 0o600);
    } catch (err) {
      this.log.warn({ event: 'limits-not-saved', file: this.file, err: String(err) });
    }
  }

  /** keys from the session: `name:<n>` and/or `cid:<id>`; see guardKeys for what locks what. */
  isLocked(keys: string[], now: number): boolean {
    const { growing, daily } = guardKeys(keys);
    return (
      growing.some((k) => this.lockouts.check(k, now).locked) ||
      daily.some((k) => this.daily.check(k, now).locked)
    );
  }

  failure(keys: string[], now: number): void {
    const { growing, daily } = guardKeys(keys);
    for (const [book, list, event] of [
      [this.lockouts, growing, 'locked-out'],
      [this.daily, daily, 'daily-cap-reached'],
    ] as const) {
      for (const k of list) {
        const before = book.check(k, now).locked;
        book.failure(k, now);
        const state = book.check(k, now);
        if (state.locked && !before)
          this.log.warn({ event, key: k, until: new Date(state.untilMs).toISOString() });
      }
    }
    this.save();
  }

  success(keys: string[]): void {
    // The daily cap is not reset by a success: it bounds guesses, whoever guessed.
    let changed = false;
    for (const k of guardKeys(keys).growing) changed = this.lockouts.success(k) || changed;
    // A caller with no failures on record changes nothing: no write (and no fsync) on
    // the way from the password to pppd.
    if (changed) this.save();
  }

  rateCheck(entry: string, number: string, now: number): { ok: true } | { ok: false; reason: string } {
    if (this.stillDamaged()) {
      return {
        ok: false,
        reason: `the saved limits in ${this.file} are damaged; call-backs stay refused until an operator runs: ${this.clearCommand}`,
      };
    }
    return this.rates.check({ entry, number }, now);
  }

  record(entry: string, number: string, now: number): void {
    this.rates.record({ entry, number }, now);
    this.save();
  }
}
