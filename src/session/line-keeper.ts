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
/**
 * Where the line is. One state at a time, and one way down (`takeDown`):
 * - `down`: no tty open; the reopen loop (`bringing`) brings it back unless retrying
 *   has stopped;
 * - `up`: the tty is open and the modem initialised;
 * - `handed-over`: a child (pppd) has the tty;
 * - `closed`: the daemon stopped the line for good.
 * Whether we hold the UUCP lock is a separate fact (`locked`): an idle line that is up
 * does not hold it, a call does.
 */
type KeeperState =
  | { tag: 'down' }
  | { tag: 'up'; transport: Transport; modem: Modem }
  | { tag: 'handed-over' }
  | { tag: 'closed' };

export class LineKeeper {
  private state: KeeperState = { tag: 'down' };
  /** A tty being opened and initialised (by the reopen loop or after pppd): the one opener. */
  private opening: { transport: Transport } | undefined;
  private locked = false;
  private retrying = true;
  private abort: AbortController | undefined;
  /** The reopen loop, while it runs: the only owner of retries. */
  private bringing: Promise<void> | undefined;
  private unsubClose: (() => void) | undefined;
  private healthTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: SessionDeps,
    private readonly onUp: () => void,
    private readonly onDown: (err: Error) => void,
  ) {}

  get up(): boolean {
    return this.state.tag === 'up';
  }

  get modem(): Modem | undefined {
    return this.state.tag === 'up' ? this.state.modem : undefined;
  }

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
    if (this.bringing || !this.retrying || this.state.tag === 'closed') return;
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
        open: () => this.openAndInit(),
        onFailure: (err) => this.onDown(err),
      });
    } catch (err) {
      if (isCallbackdError(err, 'ABORTED')) return;
      throw err;
    }
    // openWithRetry returns with the lock held; an idle line does not keep it.
    this.locked = true;
    await this.releaseLock();
    this.log.info({ event: 'line-ready', line: this.name, device: this.deps.line.device });
    this.onUp();
    this.scheduleHealth();
  }

  /** Opens the tty and resets the modem; on failure nothing is left open. */
  private async openAndInit(): Promise<void> {
    const transport = this.deps.openTransport(this.deps.line);
    this.opening = { transport };
    try {
      await transport.open();
      const modem = new Modem(transport, {
        timing: this.deps.line.timing,
        log: this.log,
        line: this.name,
        dialPrefix: this.deps.line.dialPrefix,
      });
      this.unsubClose = transport.onUnexpectedClose((err) => this.lost(err));
      this.state = { tag: 'up', transport, modem };
      await modem.reset(this.deps.line.init);
    } catch (err) {
      await this.release(false);
      throw err;
    } finally {
      this.opening = undefined;
    }
  }

  /** The device went away under us: down, and the reopen loop brings it back. */
  private lost(err: Error): void {
    this.log.error({ event: 'device-gone', line: this.name, err: err.message });
    void this.takeDown(err);
  }

  /**
   * The one way down: stop the health check, drop the modem, close the tty, tell the
   * session (unless `quiet`), and let the reopen loop bring the line back (unless
   * retrying has stopped).
   */
  private async takeDown(err: Error, o: { quiet?: boolean; bringBack?: boolean } = {}): Promise<void> {
    await this.release(false);
    if (!o.quiet) this.onDown(err);
    if (o.bringBack ?? true) this.bringUp();
  }

  /** Drops the modem and closes the tty; the state becomes `down` (or `closed`). */
  private async release(closed: boolean): Promise<void> {
    clearTimeout(this.healthTimer);
    this.healthTimer = undefined;
    const s = this.state;
    if (s.tag === 'up') s.modem.dispose();
    this.state = closed ? { tag: 'closed' } : this.state.tag === 'closed' ? this.state : { tag: 'down' };
    this.unsubClose?.();
    this.unsubClose = undefined;
    const t = s.tag === 'up' ? s.transport : this.opening?.transport;
    if (t?.isOpen) await t.close().catch(() => undefined);
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
    const modem = this.modem;
    if (!modem) return;
    try {
      await modem.write(data);
    } catch (err) {
      this.log.debug({ event: 'write-failed', line: this.name, err: String(err) });
    }
  }

  async answer(): Promise<AnswerOutcome | { kind: 'lock-held' | 'line-down' }> {
    if (!this.modem) return { kind: 'line-down' };
    if (!(await this.takeLock())) {
      // Another program holds the UUCP lock: close the tty so not a byte of its
      // session is read here; the reopen loop waits for the lock to go.
      await this.takeDown(new Error('line locked by another program'), { bringBack: false });
      return { kind: 'lock-held' };
    }
    return this.modem.answer();
  }

  async dial(number: string): Promise<DialOutcome | { kind: 'lock-held' | 'line-down' }> {
    if ((await this.ensureOpen()) === 'down') return { kind: 'line-down' };
    if (!(await this.takeLock())) return { kind: 'lock-held' };
    return this.modem!.dial(number);
  }

  /**
   * The tty open and the modem ready, for a hang-up or a dial after pppd had the line.
   * 'reset' when it had to open it: opening resets the modem (DTR drop and init),
   * which is a hang-up already. The reopen loop, when it runs, is the opener.
   */
  private async ensureOpen(): Promise<'open' | 'reset' | 'down'> {
    if (this.state.tag === 'up') return 'open';
    if (this.bringing) {
      await this.bringing;
      return this.up ? 'reset' : 'down';
    }
    if (this.state.tag === 'closed') return 'down';
    try {
      await this.openAndInit();
      this.onUp();
      return 'reset';
    } catch (err) {
      this.log.error({ event: 'reopen-failed', line: this.name, err: (err as Error).message });
      return 'down';
    }
  }

  /**
   * On hook and back to the init state, once: after pppd the reopen has done both. A
   * modem that will not reset takes the line down.
   */
  async hangup(): Promise<void> {
    if ((await this.ensureOpen()) !== 'open') return;
    const modem = this.modem!;
    try {
      await modem.hangup();
      await modem.init(this.deps.line.init);
    } catch (err) {
      this.log.error({ event: 'reset-failed', line: this.name, err: (err as Error).message });
      await this.takeDown(err as Error, { bringBack: false });
    }
  }

  /** Call over: release the lock; bring the line back if it went down. */
  async idle(): Promise<void> {
    await this.releaseLock();
    if (!this.up) this.bringUp();
    else this.scheduleHealth();
  }

  /**
   * The idle health check (mgetty: AT every hour, tried twice by the modem; no answer
   * is fatal for the line). It is the only timer of a waiting line. It takes the UUCP
   * lock for the moment it talks to the modem, so a dial-out program that took the
   * line meanwhile is noticed and left alone.
   */
  private scheduleHealth(): void {
    clearTimeout(this.healthTimer);
    const every = this.deps.line.timing.healthCheckMs;
    if (every > 0 && this.retrying) this.healthTimer = setTimeout(() => void this.checkHealth(), every);
  }

  private async checkHealth(): Promise<void> {
    const modem = this.modem;
    if (this.locked || !modem) return this.scheduleHealth();
    const lock = await this.acquireLock();
    if (!lock?.ok) {
      this.log.info({ event: 'line-locked', line: this.name, heldBy: lock?.heldBy });
      return this.takeDown(new Error('line locked by another program'));
    }
    const ok = await modem.healthCheck().catch(() => false);
    // A call may have taken the lock while we checked (locked is then set): keep it.
    if (!this.locked) await this.deps.lock.release();
    if (ok) return this.scheduleHealth();
    this.log.error({ event: 'health-check-failed', line: this.name });
    await this.takeDown(new Error('modem does not answer AT'));
  }

  /** Gives the tty to a child: `start` gets a function that closes our handle. */
  async handOver(start: (closeLine: () => Promise<void>) => Promise<PppRun>): Promise<PppRun> {
    const run = await start(async () => {
      await this.release(false);
      this.state = { tag: 'handed-over' };
    });
    this.locked = false; // the child holds it now
    return run;
  }

  /** Takes the lock back from a child that has exited. */
  async reclaim(): Promise<void> {
    await this.deps.lock.reclaim();
    this.locked = true;
  }

  /**
   * Daemon stop: hang up if a call is up, close, leave no lock behind. A command in
   * flight (a dial waits up to a minute for its result) is cut short first, so the
   * hang-up does not queue behind it.
   */
  async close(): Promise<void> {
    this.retrying = false;
    this.abort?.abort();
    await this.bringing;
    const modem = this.modem;
    if (modem) {
      modem.abortCommand();
      await modem.hangup().catch(() => undefined);
    }
    await this.release(true);
    await this.releaseLock();
  }

  /** A stop that is overdue: close without talking to the modem (HUPCL drops DTR). */
  async abandon(): Promise<void> {
    this.retrying = false;
    this.abort?.abort();
    await this.release(true);
    this.locked = true; // whatever we hold, release it (release() leaves others' locks)
    await this.releaseLock().catch(() => undefined);
  }
}
