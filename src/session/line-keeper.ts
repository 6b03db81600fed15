import { isCallbackdError } from '../errors.js';
import { Modem, type AnswerOutcome, type DialOutcome } from '../modem/index.js';
import { openWithRetry } from '../serial/index.js';
import type { Transport } from '../serial/transport.js';
import type { PppRun } from '../ppp/index.js';
import type { SessionDeps } from './deps.js';

/**
 * Keeps one line usable: UUCP lock, tty, modem init, and reopening with backoff when
 * the device is missing, vanishes or refuses us. The call state machine never sees
 * these details; it sees a line that is up (with a modem) or down.
 *
 * The lock is held only while a call is in progress, as mgetty does, so dial-out
 * programs (minicom, cu, pppd) can use the line while it waits for a call. When one
 * of them holds the lock, the keeper does not touch the modem: it closes the tty and
 * looks again every lockRecheckMs.
 */
export class LineKeeper {
  private transport: Transport | undefined;
  modem: Modem | undefined;
  up = false;
  private locked = false;
  private retrying = true;
  private abort: AbortController | undefined;
  private bringing: Promise<void> | undefined;
  private unsubClose: (() => void) | undefined;
  private healthTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: SessionDeps,
    private readonly onUp: () => void,
    private readonly onDown: (err: Error) => void,
  ) {}

  private get log() {
    return this.deps.log;
  }

  private get name() {
    return this.deps.line.name;
  }

  start(): void {
    this.bringUp();
  }

  stopRetrying(): void {
    this.retrying = false;
    this.abort?.abort();
  }

  private bringUp(): void {
    if (this.bringing || !this.retrying) return;
    this.bringing = this.loop().finally(() => (this.bringing = undefined));
  }

  private async loop(): Promise<void> {
    this.abort = new AbortController();
    try {
      await openWithRetry({
        line: this.name,
        timing: this.deps.line.timing,
        log: this.log,
        lock: this.deps.lock,
        signal: this.abort.signal,
        open: () =>
          this.openAndInit().catch(async (err: unknown) => {
            await this.closeTransport();
            throw err;
          }),
        onFailure: (err) => this.onDown(err),
      });
    } catch (err) {
      if (isCallbackdError(err, 'ABORTED')) return;
      throw err;
    }
    // openWithRetry returns with the lock held; an idle line does not keep it.
    this.locked = true;
    this.up = true;
    await this.releaseLock();
    this.log.info({ event: 'line-ready', line: this.name, device: this.deps.line.device });
    this.onUp();
    this.scheduleHealth();
  }

  private async openAndInit(): Promise<void> {
    const t = this.deps.openTransport(this.deps.line);
    this.transport = t;
    await t.open();
    this.unsubClose = t.onUnexpectedClose((err) => this.lost(err));
    this.modem = new Modem(t, {
      timing: this.deps.line.timing,
      log: this.log,
      line: this.name,
      dialPrefix: this.deps.line.dialPrefix,
    });
    await this.modem.reset(this.deps.line.init);
  }

  private lost(err: Error): void {
    clearTimeout(this.healthTimer);
    this.log.error({ event: 'device-gone', line: this.name, err: err.message });
    this.up = false;
    this.modem?.dispose();
    this.modem = undefined;
    this.transport = undefined;
    this.onDown(err);
    this.bringUp();
  }

  private async releaseLock(): Promise<void> {
    if (!this.locked) return;
    this.locked = false;
    await this.deps.lock.release();
  }

  /** The lock, or undefined when it cannot even be tried (lock directory missing, say). */
  private async acquireLock(): Promise<{ ok: true } | { ok: false; heldBy: number } | undefined> {
    try {
      return await this.deps.lock.acquire();
    } catch (err) {
      this.log.error({ event: 'lock-failed', line: this.name, err: (err as Error).message });
      this.onDown(err as Error);
      return undefined;
    }
  }

  private async takeLock(): Promise<boolean> {
    if (this.locked) return true;
    const r = (await this.acquireLock()) ?? { ok: false as const, heldBy: 0 };
    if (r.ok) this.locked = true;
    else
      this.log.warn({
        event: 'call-ignored',
        line: this.name,
        reason: 'line locked by another program',
        heldBy: r.heldBy,
      });
    return r.ok;
  }

  async write(data: Buffer | string): Promise<void> {
    if (!this.modem) return;
    try {
      await this.modem.write(data);
    } catch (err) {
      this.log.debug({ event: 'write-failed', line: this.name, err: String(err) });
    }
  }

  async answer(): Promise<AnswerOutcome | { kind: 'lock-held' | 'line-down' }> {
    if (!this.modem) return { kind: 'line-down' };
    if (!(await this.takeLock())) {
      await this.yieldLine();
      return { kind: 'lock-held' };
    }
    return this.modem.answer();
  }

  /**
   * Another program holds the UUCP lock: close the tty so not a byte of its session is
   * read here, and come back (re-initialising the modem) once the lock is gone.
   */
  private async yieldLine(): Promise<void> {
    clearTimeout(this.healthTimer);
    this.modem?.dispose();
    this.modem = undefined;
    await this.closeTransport();
    this.up = false;
    this.onDown(new Error('line locked by another program'));
  }

  async dial(number: string): Promise<DialOutcome | { kind: 'lock-held' | 'line-down' }> {
    if ((await this.ensureOpen()) === 'down') return { kind: 'line-down' };
    if (!(await this.takeLock())) return { kind: 'lock-held' };
    return this.modem!.dial(number);
  }

  /**
   * Reopens the tty after pppd had it. 'reset' when it did: opening resets the modem
   * (DTR drop and init), which is a hang-up already.
   */
  private async ensureOpen(): Promise<'open' | 'reset' | 'down'> {
    if (this.modem && this.transport?.isOpen) return 'open';
    try {
      await this.openAndInit();
      this.up = true;
      this.onUp();
      return 'reset';
    } catch (err) {
      this.log.error({ event: 'reopen-failed', line: this.name, err: (err as Error).message });
      await this.closeTransport();
      this.up = false;
      return 'down';
    }
  }

  /**
   * On hook and back to the init state, once: after pppd the reopen has done both. A
   * modem that will not reset takes the line down.
   */
  async hangup(): Promise<void> {
    if ((await this.ensureOpen()) !== 'open') return;
    try {
      await this.modem!.hangup();
      await this.modem!.init(this.deps.line.init);
    } catch (err) {
      this.log.error({ event: 'reset-failed', line: this.name, err: (err as Error).message });
      await this.closeTransport();
      this.up = false;
      this.onDown(err as Error);
    }
  }

  /** Call over: release the lock; bring the line back if it went down. */
  async idle(): Promise<void> {
    await this.releaseLock();
    if (!this.up) this.bringUp();
    else this.scheduleHealth();
  }

  /**
   * The idle health check (mgetty: AT every hour, tried twice; no answer is fatal for
   * the line). It is the only timer of a waiting line. It takes the UUCP lock for the
   * moment it talks to the modem, so a dial-out program that took the line meanwhile
   * is noticed and left alone.
   */
  private scheduleHealth(): void {
    clearTimeout(this.healthTimer);
    const every = this.deps.line.timing.healthCheckMs;
    if (every > 0 && this.retrying) this.healthTimer = setTimeout(() => void this.checkHealth(), every);
  }

  private async checkHealth(): Promise<void> {
    const modem = this.modem;
    if (!this.up || this.locked || !modem) return this.scheduleHealth();
    const lock = await this.acquireLock();
    if (!lock?.ok) {
      this.log.info({ event: 'line-locked', line: this.name, heldBy: lock?.heldBy });
      await this.yieldLine();
      return this.bringUp();
    }
    const ok =
      (await modem.healthCheck().catch(() => false)) || (await modem.healthCheck().catch(() => false));
    // A call may have taken the lock while we checked (locked is then set): keep it.
    if (!this.locked) await this.deps.lock.release();
    if (ok) return this.scheduleHealth();
    this.log.error({ event: 'health-check-failed', line: this.name });
    await this.yieldLine();
    this.bringUp();
  }

  /** Gives the tty to a child: `start` gets a function that closes our handle. */
  async handOver(start: (closeLine: () => Promise<void>) => Promise<PppRun>): Promise<PppRun> {
    const run = await start(async () => {
      this.modem?.dispose();
      this.modem = undefined;
      await this.closeTransport();
    });
    this.locked = false; // the child holds it now
    return run;
  }

  /** Takes the lock back from a child that has exited. */
  async reclaim(): Promise<void> {
    await this.deps.lock.reclaim();
    this.locked = true;
  }

  /** A stop that is overdue: close without talking to the modem (HUPCL drops DTR). */
  async abandon(): Promise<void> {
    this.retrying = false;
    clearTimeout(this.healthTimer);
    this.abort?.abort();
    this.modem?.dispose();
    this.modem = undefined;
    await this.closeTransport();
    this.up = false;
    this.locked = true; // whatever we hold, release it
    await this.releaseLock().catch(() => undefined);
  }

  private async closeTransport(): Promise<void> {
    this.unsubClose?.();
    this.unsubClose = undefined;
    const t = this.transport;
    this.transport = undefined;
    if (t?.isOpen) await t.close().catch(() => undefined);
  }

  /**
   * Daemon stop: hang up if a call is up, close, leave no lock behind. A command in
   * flight (a dial waits up to a minute for its result) is cut short first, so the
   * hang-up does not queue behind it.
   */
  async close(): Promise<void> {
    this.retrying = false;
    clearTimeout(this.healthTimer);
    this.abort?.abort();
    await this.bringing;
    if (this.modem && this.transport?.isOpen) {
      this.modem.abortCommand();
      await this.modem.hangup().catch(() => undefined);
    }
    this.modem?.dispose();
    this.modem = undefined;
    await this.closeTransport();
    this.up = false;
    await this.releaseLock();
  }
}
