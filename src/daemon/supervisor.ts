import type { Config, LineConfig } from '../config/types.js';
import { diffConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import { randomUUID } from 'node:crypto';
import { resolveCallback, verifySecret } from '../policy/index.js';
import { LineSession } from '../session/line-session.js';
import type { CallRecord, LineLock, PppStarter, SessionDeps } from '../session/deps.js';
import type { Transport } from '../serial/transport.js';
import { Accounting, recordOf, type AccountingRecord } from './accounting.js';
import { SharedPolicyState } from './policy-state.js';
import type { LineStatus } from './status.js';

export type { LineStatus };

/**
 * How long a stop may take before lines are closed without waiting for their modems:
 * well under the unit's TimeoutStopSec (30 s), after which systemd would SIGKILL us
 * and the records of calls in progress would be lost.
 */
const STOP_BOUND_MS = 10_000;

export interface SupervisorDeps {
  log: Logger;
  openTransport: (line: LineConfig) => Transport;
  makeLock: (line: LineConfig, lockDir: string) => LineLock;
  startPpp: PppStarter;
  watchCarrier?: SessionDeps['watchCarrier'];
  /** Called on every line state change with the whole picture (status file, systemd). */
  onStatus?: (lines: LineStatus[]) => void;
  /** Where accounting records go; defaults to the config's accounting file. */
  accounting?: { write(rec: AccountingRecord): Promise<void> };
  now?: () => number;
  /** The open RADIUS NAS, when the config has [radius] (the daemon opens and reopens it). */
  radius?: SessionDeps['radius'];
  /** The secret check; defaults to policy's verifySecret on libuv's pool. */
  verifySecret?: SessionDeps['verifySecret'];
  prepareSecretCheck?: SessionDeps['prepareSecretCheck'];
}

interface Managed {
  line: LineConfig;
  session: LineSession;
  status: LineStatus;
  /** Reload action waiting for the line to become idle. */
  pending?: 'restart' | 'remove';
  /** The line's session is being stopped for a reload; it stays in the map until then. */
  applying?: boolean;
}

/**
 * Runs one LineSession per configured line and applies reloads without dropping
 * calls: an unchanged line just sees the new config at its next call; a changed or
 * removed line is restarted or stopped once its call is over.
 */
export class Supervisor {
  private readonly lines = new Map<string, Managed>();
  private config: Config;
  private readonly policy: SharedPolicyState;
  private readonly accounting: { write(rec: AccountingRecord): Promise<void> };
  /** Lines the operator disabled over the control socket, until enabled or restart. */
  private readonly disabled = new Set<string>();
  /** Records on their way to the accounting file; stop() waits for them. */
  private readonly writes = new Set<Promise<void>>();
  private stopping = false;

  constructor(
    config: Config,
    private readonly deps: SupervisorDeps,
  ) {
    this.config = config;
    this.policy = new SharedPolicyState(config.security, config.daemon.stateDir, deps.log);
    this.accounting = deps.accounting ?? new Accounting(config.daemon.accountingFile, deps.log);
  }

  get currentConfig(): Config {
    return this.config;
  }

  start(): void {
    for (const line of this.config.lines) this.startLine(line);
  }

  statuses(): LineStatus[] {
    return [...this.lines.values()].map((m) => m.status);
  }

  private startLine(line: LineConfig): void {
    const status: LineStatus = { name: line.name, device: line.device, state: 'starting', since: this.iso() };
    const managed: Managed = { line, status, session: undefined as unknown as LineSession };
    const log = this.deps.log.child({ line: line.name });
    managed.session = new LineSession({
      line,
      config: () => this.config,
      log,
      openTransport: this.deps.openTransport,
      lock: this.deps.makeLock(line, this.config.daemon.lockDir),
      policy: this.policy,
      startPpp: this.deps.startPpp,
      watchCarrier: this.deps.watchCarrier,
      transferCallback: (req) => this.transferCallback(req),
      verifySecret: this.deps.verifySecret ?? verifySecret,
      prepareSecretCheck: this.deps.prepareSecretCheck,
      now: this.deps.now,
      finish: (rec) => this.record(rec),
      onState: (s) => this.onState(managed, s),
      disabled: () => this.disabled.has(line.name),
      radius: this.deps.radius,
    });
    this.lines.set(line.name, managed);
    managed.session.start();
  }

  private iso(): string {
    return new Date(this.deps.now?.() ?? Date.now()).toISOString();
  }

  private onState(
    m: Managed,
    s: { state: string; callId?: string; callerId?: string; error?: string },
  ): void {
    if (s.state !== m.status.state) m.status.since = this.iso();
    m.status.state = s.state;
    m.status.callId = s.callId;
    m.status.callerId = s.callerId;
    if (s.error) m.status.lastError = s.error;
    this.deps.onStatus?.(this.statuses());
    if (m.pending && !m.session.busy) void this.applyPending(m);
  }

  /**
   * Applies a line's reload once it is idle. One at a time per line: a reload that
   * arrives while the old session is still stopping only updates `pending`, and the
   * line restarts once, with the config current at that moment. Two sessions on one
   * tty are never possible.
   */
  private async applyPending(m: Managed): Promise<void> {
    if (m.applying || this.stopping) return;
    m.applying = true;
    await m.session.stop();
    m.pending = undefined;
    this.lines.delete(m.line.name);
    const next = this.config.lines.find((l) => l.name === m.line.name);
    const action = next ? 'restart' : 'remove';
    if (next && !this.stopping) this.startLine(next);
    this.deps.log.info({ event: 'line-reloaded', line: m.line.name, action });
    this.deps.onStatus?.(this.statuses());
  }

  /** Swaps in a validated config; lines in a call are changed when the call ends. */
  reload(next: Config): void {
    const diff = diffConfig(this.config, next);
    this.config = next;
    this.policy.reconfigure(next.security);
    this.deps.log.info({ event: 'config-reloaded', source: next.source, ...diff });
    for (const name of diff.linesRemoved) this.schedule(name, 'remove');
    for (const name of diff.linesChanged) this.schedule(name, 'restart');
    for (const name of diff.linesAdded) {
      // A line removed by an earlier reload may still be stopping: it restarts after.
      if (this.lines.has(name)) this.schedule(name, 'restart');
      else {
        const line = next.lines.find((l) => l.name === name);
        if (line) this.startLine(line);
      }
    }
  }

  private schedule(name: string, action: 'restart' | 'remove'): void {
    const m = this.lines.get(name);
    if (!m) return;
    m.pending = action;
    if (m.session.busy) {
      this.deps.log.info({ event: 'reload-deferred', line: name, action, reason: 'call in progress' });
    } else {
      void this.applyPending(m);
    }
  }

  /** A call-back for one of the entry's dial-out lines: the first idle one takes it. */
  private transferCallback(
    req: Parameters<NonNullable<SessionDeps['transferCallback']>>[0],
  ): string | undefined {
    for (const name of req.entry.dialLines) {
      const m = this.lines.get(name);
      if (m && m.line.dialOut && !m.pending && m.session.acceptCallback(req)) return name;
    }
    return undefined;
  }

  /** Accounting records queued for a retry (metrics). */
  accountingQueue(): number {
    return (this.accounting as { pendingCount?: number }).pendingCount ?? 0;
  }

  isDisabled(name: string): boolean {
    return this.disabled.has(name);
  }

  /** `callbackd line disable|enable`: a disabled line does not answer (as with a nologin file). */
  setLineEnabled(name: string, enabled: boolean): void {
    if (!this.lines.has(name)) throw new Error(`no line named ${JSON.stringify(name)}`);
    if (enabled) this.disabled.delete(name);
    else this.disabled.add(name);
    this.deps.log.notice({ event: enabled ? 'line-enabled' : 'line-disabled', line: name });
    this.deps.onStatus?.(this.statuses());
  }

  /**
   * `callbackd test-call`: the entry's call-back now, on an idle dial-out line, through
   * the same number check and rate limits as a caller's (and counted in them); the call
   * is accounted like any other.
   */
  testCall(entryName: string, o: { line?: string; number?: string } = {}): { line: string; callId: string } {
    const entry = this.config.callbacks.find((e) => e.name === entryName);
    if (!entry) throw new Error(`no call-back entry named ${JSON.stringify(entryName)}`);
    const checked = resolveCallback(entry, o.number);
    if (!checked.ok) throw new Error(`${entryName}: ${checked.reason}`);
    const now = this.deps.now?.() ?? Date.now();
    const limit = this.policy.rateCheck(entry.name, checked.dial, now);
    if (!limit.ok) throw new Error(`rate limit: ${limit.reason}`);
    const names = o.line ? [o.line] : entry.dialLines.length ? entry.dialLines : [...this.lines.keys()];
    const call = {
      callId: randomUUID(),
      startedAt: now,
      logins: [],
      callback: { entry: entry.name, number: checked.dial, attempts: 0 },
    };
    for (const name of names) {
      const m = this.lines.get(name);
      if (!m || !m.line.dialOut || m.pending || this.disabled.has(name)) continue;
      // No caller to wait for: dial at once.
      if (!m.session.acceptCallback({ call, entry: { ...entry, delayMs: 0 }, number: checked.dial }))
        continue;
      this.policy.record(entry.name, checked.dial, now);
      this.deps.log.info({
        event: 'test-call',
        line: name,
        entry: entry.name,
        number: checked.dial,
        callId: call.callId,
      });
      return { line: name, callId: call.callId };
    }
    throw new Error(`no idle, enabled dial-out line among ${names.join(', ')}`);
  }

  /**
   * SIGTERM: every line hangs up (pppd stopped first) and releases its lock, within
   * `boundMs` whatever state it is in; a line that has not finished by then is closed
   * without waiting for its modem. Every call in progress is recorded, and stop()
   * returns only once every record is in the accounting file.
   */
  async stop(boundMs = STOP_BOUND_MS): Promise<void> {
    this.stopping = true;
    const lines = [...this.lines.values()];
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), boundMs)));
    const all = Promise.all(lines.map((m) => m.session.stop()));
    if ((await Promise.race([all.then(() => 'done' as const), bound])) === 'late') {
      const late = lines.filter((m) => !m.session.isStopped).map((m) => m.line.name);
      this.deps.log.error({ event: 'stop-overdue', lines: late, boundMs });
      await Promise.all(lines.map((m) => m.session.abandon()));
    }
    clearTimeout(timer);
    await Promise.all([...this.writes]);
  }

  private record(rec: CallRecord): void {
    const out = recordOf(rec);
    // Logged once the record is written (or queued for retry): a reader of the log can
    // rely on the accounting file holding the call.
    const write = this.accounting
      .write(out)
      .then(() => this.deps.log.info({ event: 'call-end', ...out, detail: rec.detail }))
      .catch((err: unknown) =>
        this.deps.log.error({ event: 'accounting-failed', callId: out.callId, err: String(err) }),
      )
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }
}
