import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Config, LineConfig } from '../config/types.js';
import { loadConfig } from '../config/index.js';
import { observeLog, type Logger } from '../log.js';
import { releaseAllSync, UucpLock } from '../serial/index.js';
import { createSerialTransport } from '../serial/index.js';
import { connectSimSignals } from '../serial/index.js';
import { startPppd } from '../ppp/index.js';
import { Radius } from '../radius/index.js';
import type { RadiusConfig } from '../config/radius.js';
import { ControlServer, type ControlStatus, type ReloadResult } from './control.js';
import { Metrics, MetricsServer } from './metrics.js';
import { Notifier } from './notify.js';
import { LineTracer, tracedTransport } from './trace.js';
import { StatusFile, type LineStatus } from './status.js';
import { Supervisor, type SupervisorDeps } from './supervisor.js';
import { KdfThreads } from './kdf-thread.js';
import { verifySecret } from '../policy/index.js';

/**
 * The daemon proper: config, supervisor, signals, systemd and the status file.
 * `callbackd run` and `callbackd demo` both start it through here.
 */
export interface DaemonHandle {
  supervisor: Supervisor;
  /** Re-reads the config file; a config that fails validation is logged and ignored. */
  reload(): Promise<boolean>;
  /** The same, with the problems of a rejected file (`callbackd reload`). */
  reloadResult(): Promise<ReloadResult>;
  /** What `callbackd status` shows over the control socket. */
  status(): ControlStatus;
  stop(): Promise<void>;
  /**
   * Resolves when every line has finished its first open and init (up, or its failure
   * logged), or READY_BOUND_MS has passed: then the status file is written, `started` is
   * logged and systemd gets READY=1.
   */
  ready: Promise<void>;
}

/**
 * READY=1 waits at most this long for the lines' first open and init: a modem that
 * neither answers nor fails (a tty whose open hangs, a lock another program holds)
 * must not hold start-up until systemd's TimeoutStartSec kills the daemon. A silent
 * modem fails its reset well within it.
 */
export const READY_BOUND_MS = 10_000;

/**
 * Watches the line states for the end of each line's first open and init attempt: the
 * line is up (any state but `line-down`) or reports its failure (lastError).
 */
function firstAttempts(names: readonly string[]) {
  const waiting = new Set(names);
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  if (waiting.size === 0) resolve();
  return {
    done,
    pending: () => [...waiting],
    see(lines: readonly LineStatus[]): void {
      if (waiting.size === 0) return;
      for (const l of lines) {
        if (waiting.has(l.name) && (l.state !== 'line-down' || l.lastError !== undefined))
          waiting.delete(l.name);
      }
      if (waiting.size === 0) resolve();
    },
  };
}

/** The daemon's key derivations (one set for the process; threads only while checks run). */
const kdfThreads = new KdfThreads();

export function realDeps(log: Logger): Omit<SupervisorDeps, 'onStatus'> {
  return {
    log,
    openTransport: (line: LineConfig) =>
      createSerialTransport({
        path: line.device,
        baudRate: line.speed,
        flowControl: line.flowControl,
        signals:
          line.signals.kind === 'sim' ? connectSimSignals(line.signals.socket, line.device) : undefined,
        log: log.child({ line: line.name }),
      }),
    makeLock: (line: LineConfig, lockDir: string) => new UucpLock(line.device, { dir: lockDir, log }),
    startPpp: startPppd,
    // scrypt on threads below the event loop's priority, not on libuv's pool.
    verifySecret: (hash, secret) => verifySecret(hash, secret, kdfThreads.derive),
    // A thread takes tens of ms to start: start it while the caller types the password.
    prepareSecretCheck: () => kdfThreads.warm(),
    watchCarrier: (line, fn) => {
      if (line.signals.kind !== 'sim') return undefined;
      const signals = connectSimSignals(line.signals.socket, line.device);
      const off = signals.onCarrier(fn);
      return () => {
        off();
        signals.close();
      };
    },
  };
}

export async function startDaemon(o: {
  config: Config;
  configPath?: string;
  log: Logger;
  deps?: Omit<SupervisorDeps, 'onStatus'>;
  handleSignals?: boolean;
  /** systemd's notify channel (tests pass their own runner). */
  notifier?: Notifier;
  /** Overrides READY_BOUND_MS. */
  readyBoundMs?: number;
}): Promise<DaemonHandle> {
  const { log } = o;
  let config = o.config;
  if (!config.daemon.hostname) config = { ...config, daemon: { ...config.daemon, hostname: hostname() } };
  const notifier = o.notifier ?? new Notifier({ log });
  const status = new StatusFile(config.daemon.stateDir, { configSource: config.source, log });
  const deps = o.deps ?? realDeps(log);
  // callbackd as a RADIUS NAS: opened before the lines, so the first call can ask it.
  // A secret file that others can read stops the start here, like any config problem.
  let radius = config.radius
    ? await Radius.open(config.radius, { stateDir: config.daemon.stateDir, log })
    : undefined;
  // Every line's modem bytes pass a tracer: to trace_dir per call, and to `callbackd trace`.
  const tracers = new Map<string, LineTracer>();
  const tracer = (name: string): LineTracer => {
    let t = tracers.get(name);
    if (!t) {
      const d = () => supervisor.currentConfig.daemon;
      t = new LineTracer(name, {
        dir: d().traceDir || undefined,
        keep: d().traceKeep ?? 50,
        passwordPrompt: () => supervisor.currentConfig.login.passwordPrompt,
      });
      tracers.set(name, t);
    }
    return t;
  };
  observeLog(log, (e) => {
    if (e.event === 'state' && typeof e.line === 'string') {
      tracers.get(e.line)?.note(`state ${String(e.from)} -> ${String(e.to)} (${String(e.cause)})`);
    }
  });
  const firstInit = firstAttempts(config.lines.map((l) => l.name));
  // systemd's STATUS= follows the status file's coalesced writes: one systemd-notify
  // process per write, not one per state change.
  let latest: readonly LineStatus[] = [];
  let notifyQueued = false;
  const notifyStatus = (): void => {
    notifyQueued = false;
    const busy = latest.filter((l) => l.state !== 'idle' && l.state !== 'line-down').length;
    void notifier.status(`${latest.length} line(s), ${busy} in a call`);
  };
  const supervisor = new Supervisor(config, {
    ...deps,
    openTransport: (line) => tracedTransport(deps.openTransport(line), tracer(line.name)),
    radius: () => radius,
    onStatus: (lines) => {
      for (const l of lines) tracers.get(l.name)?.call(l.callId);
      firstInit.see(lines);
      latest = lines;
      const written = status.update(lines);
      if (!notifyQueued) {
        notifyQueued = true;
        void written.then(notifyStatus);
      }
    },
  });

  let stopping: Promise<void> | undefined;
  let configHash = hashConfig(o.configPath, config);
  let lastReload: ControlStatus['lastReload'];
  const startedAt = new Date().toISOString();
  const handle: DaemonHandle = {
    supervisor,
    async reload() {
      return (await handle.reloadResult()).ok;
    },
    async reloadResult() {
      const at = new Date().toISOString();
      if (!o.configPath) return { ok: false, problems: ['the daemon was started without a config file'] };
      try {
        const hash = hashConfig(o.configPath);
        const next = await loadConfig(o.configPath);
        if (radiusChanged(supervisor.currentConfig.radius, next.radius)) {
          // Opened before the old one closes: a bad secret file rejects the reload and keeps it.
          const fresh = next.radius
            ? await Radius.open(next.radius, { stateDir: next.daemon.stateDir, log })
            : undefined;
          const old = radius;
          radius = fresh;
          log.info({ event: 'radius-reopened', enabled: fresh !== undefined });
          void old?.close(old.config.timeoutMs);
        }
        supervisor.reload(next);
        void status.setConfigSource(next.source);
        configHash = hash;
        lastReload = { at, ok: true };
        return { ok: true, configHash };
      } catch (err) {
        const message = (err as Error).message;
        log.error({ event: 'reload-rejected', source: o.configPath, err: message });
        lastReload = { at, ok: false, problems: message.split('\n') };
        return { ok: false, problems: lastReload.problems! };
      }
    },
    status() {
      const cfg = supervisor.currentConfig;
      return {
        pid: process.pid,
        startedAt,
        configSource: cfg.source,
        updatedAt: new Date().toISOString(),
        configHash,
        lastReload,
        lines: supervisor.statuses().map((l) => ({
          ...l,
          nologin: existsSync(join(cfg.daemon.nologinDir, `nologin.${l.name}`)),
          disabled: supervisor.isDisabled(l.name),
        })),
      };
    },
    ready: Promise.resolve(),
    stop() {
      stopping ??= (async () => {
        log.info({ event: 'stopping' });
        notifier.stopping();
        await control?.stop();
        await metricsServer?.stop();
        metrics?.close();
        await supervisor.stop();
        // Records not yet acknowledged stay in the spool for the next start.
        await radius?.close(radius.config.timeoutMs);
        // The last state is written before the file goes (a pending write never waits).
        await status.flush();
        await status.remove();
        notifier.close();
        log.info({ event: 'stopped' });
      })();
      return stopping;
    },
  };

  if (o.handleSignals) {
    // Whatever the way out, no UUCP lock of ours stays behind to block minicom or pppd.
    process.on('exit', () => releaseAllSync());
    process.on('uncaughtException', (err) => {
      log.fatal({ event: 'crashed', err: err.stack ?? String(err) });
      process.exit(70); // systemd's Restart=on-failure brings the daemon back
    });
    process.on('SIGHUP', () => {
      log.info({ event: 'sighup' });
      void handle.reload();
    });
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.on(sig, () => {
        log.info({ event: 'signal', signal: sig });
        void handle.stop().then(() => process.exit(0));
      });
    }
  }

  supervisor.start();
  const control = config.daemon.controlSocket
    ? new ControlServer(
        config.daemon.controlSocket,
        {
          status: () => handle.status(),
          setLineEnabled: (line, enabled) => supervisor.setLineEnabled(line, enabled),
          testCall: (entry, opts) => supervisor.testCall(entry, opts),
          reload: () => handle.reloadResult(),
          trace: (line, fn) => {
            if (!supervisor.statuses().some((l) => l.name === line)) {
              throw new Error(`no line named ${JSON.stringify(line)}`);
            }
            return tracer(line).follow(fn);
          },
        },
        log,
      )
    : undefined;
  await control?.start();
  const metrics = config.daemon.metricsListen
    ? new Metrics({
        lines: () => handle.status().lines,
        accountingQueue: () => supervisor.accountingQueue(),
      })
    : undefined;
  if (metrics) observeLog(log, (e) => metrics.observe(e));
  const metricsServer = metrics ? new MetricsServer(config.daemon.metricsListen!, metrics, log) : undefined;
  await metricsServer?.start();
  // READY=1 once every line has had its first open and init (or the bound passed):
  // systemd's ordering (After=callbackd.service) then means the lines answer calls.
  const boundMs = o.readyBoundMs ?? READY_BOUND_MS;
  let boundTimer: NodeJS.Timeout | undefined;
  const bound = new Promise<'late'>((r) => {
    boundTimer = setTimeout(() => r('late'), boundMs);
    boundTimer.unref(); // a daemon stopped during start-up exits at once
  });
  handle.ready = Promise.race([firstInit.done, bound]).then(async (r) => {
    // Node keeps the (empty) list of a cleared timer that is unref'd, and its one libuv
    // timer stays set for that list's deadline: the idle daemon would wake once, 10 s
    // after start, for nothing. Ref'd again, the timer's list goes with it; a timer due
    // now then pulls libuv's timer in, and once it has run no timer is left to wake us.
    boundTimer?.ref();
    clearTimeout(boundTimer);
    setTimeout(() => undefined, 0).unref();
    if (stopping) return;
    const pending = firstInit.pending();
    if (r === 'late')
      log.warn({ event: 'lines-not-ready', lines: pending, boundMs }, 'READY=1 without these lines');
    await status.flush();
    log.info({
      event: 'started',
      source: config.source,
      lines: config.lines.map((l) => l.name),
      notReady: pending.length ? pending : undefined,
      pid: process.pid,
    });
    notifier.ready();
    notifier.startWatchdog(() => true);
  });
  return handle;
}

function radiusChanged(a: RadiusConfig | undefined, b: RadiusConfig | undefined): boolean {
  return JSON.stringify(a ?? null) !== JSON.stringify(b ?? null);
}

/** sha256 of the file the config comes from (what `sha256sum` prints), or of the config itself. */
function hashConfig(path: string | undefined, config?: Config): string {
  const h = createHash('sha256');
  try {
    h.update(path ? readFileSync(path) : JSON.stringify(config));
  } catch {
    h.update(JSON.stringify(config ?? null));
  }
  return h.digest('hex');
}
