import { execFile } from 'node:child_process';
import type { Logger } from '../log.js';

/** Runs `systemd-notify` with these arguments; rejects when it fails. */
export type NotifyRunner = (args: readonly string[]) => Promise<void>;

export interface NotifierOptions {
  log: Logger;
  /** Defaults to process.env; NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID are read. */
  env?: NodeJS.ProcessEnv;
  /** The daemon's pid, reported as the sender and MAINPID. */
  pid?: number;
  runner?: NotifyRunner;
  /** Program to run; systemd-notify from PATH by default. */
  program?: string;
}

/** Upper bound for one systemd-notify run; it waits for systemd's BARRIER reply. */
const RUN_TIMEOUT_MS = 5_000;

/**
 * Runs the program with an argv array: no shell ever sees the status text. The child
 * gets `env`, which must carry NOTIFY_SOCKET for systemd-notify to find systemd.
 */
export function execFileRunner(program: string, env: NodeJS.ProcessEnv = process.env): NotifyRunner {
  return (args) =>
    new Promise((resolve, reject) => {
      execFile(program, [...args], { timeout: RUN_TIMEOUT_MS, env }, (err, _stdout, stderr) => {
        if (err) reject(new Error(`${program} failed: ${String(stderr).trim() || err.message}`));
        else resolve();
      });
    });
}

/**
 * systemd's notify protocol without a native addon. Node cannot send on a unix
 * datagram socket, so each message is one run of `systemd-notify`. Because that
 * child exits before systemd reads the message, `--pid=` names the daemon as the
 * sender (the unit needs NotifyAccess=all). Outside systemd (no NOTIFY_SOCKET)
 * every method does nothing. Failures are logged once and never stop the daemon:
 * a missing notify is systemd's timeout to handle, not ours.
 */
export class Notifier {
  readonly enabled: boolean;
  /** Ping period, half of WATCHDOG_USEC as sd_watchdog_enabled(3) advises; 0 = no watchdog. */
  readonly watchdogMs: number;
  private readonly log: Logger;
  private readonly pid: number;
  private readonly runner: NotifyRunner;
  private timer: NodeJS.Timeout | undefined;
  private warned = false;
  private closed = false;

  constructor(opts: NotifierOptions) {
    const env = opts.env ?? process.env;
    this.log = opts.log;
    this.pid = opts.pid ?? process.pid;
    this.runner = opts.runner ?? execFileRunner(opts.program ?? 'systemd-notify', env);
    this.enabled = typeof env.NOTIFY_SOCKET === 'string' && env.NOTIFY_SOCKET !== '';
    this.watchdogMs = this.enabled ? watchdogPeriod(env, this.pid, this.log) : 0;
  }

  ready(): Promise<void> {
    return this.send(['--ready']);
  }

  /** One-line status shown by `systemctl status`. */
  status(text: string): Promise<void> {
    // A newline would end the STATUS= assignment and start a new one.
    return this.send([`--status=${text.replace(/[\r\n]+/g, ' ')}`]);
  }

  stopping(): Promise<void> {
    return this.send(['STOPPING=1']);
  }

  /** Pings the watchdog every watchdogMs while isHealthy() says so; systemd restarts us otherwise. */
  startWatchdog(isHealthy: () => boolean): void {
    if (this.watchdogMs === 0 || this.timer || this.closed) return;
    this.timer = setInterval(() => {
      let healthy = false;
      try {
        healthy = isHealthy();
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'watchdog health check threw');
      }
      if (healthy) void this.send(['WATCHDOG=1']);
      else this.log.warn('watchdog ping withheld: daemon reports itself unhealthy');
    }, this.watchdogMs);
    // The watchdog alone must not keep the process alive at shutdown.
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async send(args: string[]): Promise<void> {
    if (!this.enabled || this.closed) return;
    try {
      await this.runner([`--pid=${this.pid}`, ...args]);
    } catch (err) {
      if (!this.warned) {
        this.warned = true;
        this.log.warn({ err: (err as Error).message }, 'systemd notify failed; further failures not logged');
      }
    }
  }
}

function watchdogPeriod(env: NodeJS.ProcessEnv, pid: number, log: Logger): number {
  const usecText = env.WATCHDOG_USEC;
  if (usecText === undefined || usecText === '') return 0;
  // WATCHDOG_PID names the process the watchdog is meant for; a child that inherited
  // the environment must not ping on its parent's behalf.
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid) return 0;
  const usec = Number(usecText);
  if (!Number.isSafeInteger(usec) || usec <= 0) {
    log.warn({ WATCHDOG_USEC: usecText }, 'ignoring WATCHDOG_USEC: not a positive whole number');
    return 0;
  }
  return Math.max(1, Math.floor(usec / 2_000));
}
