import { hostname } from 'node:os';
import type { Config, LineConfig } from '../config/types.js';
import { loadConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import { releaseAllSync, UucpLock } from '../serial/index.js';
import { createSerialTransport } from '../serial/index.js';
import { connectSimSignals } from '../serial/index.js';
import { startPppd } from '../ppp/index.js';
import { Notifier } from './notify.js';
import { StatusFile } from './status.js';
import { Supervisor, type SupervisorDeps } from './supervisor.js';

/**
 * The daemon proper: config, supervisor, signals, systemd and the status file.
 * `callbackd run` and `callbackd demo` both start it through here.
 */
export interface DaemonHandle {
  supervisor: Supervisor;
  /** Re-reads the config file; a config that fails validation is logged and ignored. */
  reload(): Promise<boolean>;
  stop(): Promise<void>;
}

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
}): Promise<DaemonHandle> {
  const { log } = o;
  let config = o.config;
  if (!config.daemon.hostname) config = { ...config, daemon: { ...config.daemon, hostname: hostname() } };
  const notifier = new Notifier({ log });
  const status = new StatusFile(config.daemon.stateDir, { configSource: config.source, log });
  const supervisor = new Supervisor(config, {
    ...(o.deps ?? realDeps(log)),
    onStatus: (lines) => {
      status.update(lines);
      const busy = lines.filter((l) => l.state !== 'idle' && l.state !== 'line-down').length;
      notifier.status(`${lines.length} line(s), ${busy} in a call`);
    },
  });

  let stopping: Promise<void> | undefined;
  const handle: DaemonHandle = {
    supervisor,
    async reload() {
      if (!o.configPath) return false;
      try {
        const next = await loadConfig(o.configPath);
        supervisor.reload(next);
        void status.setConfigSource(next.source);
        return true;
      } catch (err) {
        log.error({ event: 'reload-rejected', source: o.configPath, err: (err as Error).message });
        return false;
      }
    },
    stop() {
      stopping ??= (async () => {
        log.info({ event: 'stopping' });
        notifier.stopping();
        await supervisor.stop();
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
  log.info({
    event: 'started',
    source: config.source,
    lines: config.lines.map((l) => l.name),
    pid: process.pid,
  });
  notifier.ready();
  notifier.startWatchdog(() => true);
  return handle;
}
