import type { CommandModule } from 'yargs';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../log.js';
import { startDaemon } from './daemon.js';

/** Where `callbackd run` looks for its config unless told. */
export const DEFAULT_CONFIG_PATH = '/etc/callbackd/callbackd.toml';

/** `callbackd run --config FILE`: the daemon in the foreground, JSON logs on stdout. */
export const runCommand: CommandModule<object, { config: string; 'log-level'?: string }> = {
  command: 'run',
  describe: 'run the daemon in the foreground (systemd starts it this way)',
  builder: (y) =>
    y
      .option('config', {
        alias: 'c',
        type: 'string',
        default: DEFAULT_CONFIG_PATH,
        describe: 'configuration file',
      })
      .option('log-level', { type: 'string', describe: 'override daemon.log_level' }) as never,
  handler: async (argv) => {
    let config;
    try {
      config = await loadConfig(argv.config);
    } catch (err) {
      process.stderr.write(`callbackd: ${(err as Error).message}\n`);
      process.exitCode = 1;
      return;
    }
    const log = createLogger({ level: argv['log-level'] ?? config.daemon.logLevel });
    await startDaemon({ config, configPath: argv.config, log, handleSignals: true });
  },
};

export const daemonCommands = [runCommand];
