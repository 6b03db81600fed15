import type { CommandModule } from 'yargs';
import { allWarnings, loadConfig } from '../config/index.js';
import { createLogger, LOG_FORMATS, type LogFormat } from '../log.js';
import { startDaemon } from './daemon.js';

/**
 * `callbackd run --config FILE`: the daemon in the foreground, logs on stdout: with `<N>`
 * priority prefixes when stdout is the journal, JSON lines otherwise.
 */
export const runCommand: CommandModule<
  object,
  { config: string; 'log-level'?: string; 'log-format'?: LogFormat }
> = {
  command: 'run',
  describe: 'run the daemon in the foreground (systemd starts it this way)',
  builder: (y) =>
    y
      .option('config', {
        alias: 'c',
        type: 'string',
        default: '/etc/callbackd/callbackd.toml',
        describe: 'configuration file',
      })
      .option('log-level', { type: 'string', describe: 'override daemon.log_level' })
      .option('log-format', {
        choices: LOG_FORMATS,
        describe:
          'journal (priority prefix, text, JSON), json or text; default: journal when stdout is the journal, else json',
      }) as never,
  handler: async (argv) => {
    let config;
    try {
      config = await loadConfig(argv.config);
    } catch (err) {
      process.stderr.write(`callbackd: ${(err as Error).message}\n`);
      process.exitCode = 1;
      return;
    }
    const log = createLogger({
      level: argv['log-level'] ?? config.daemon.logLevel,
      format: argv['log-format'],
    });
    for (const w of allWarnings(config))
      log.warn({ event: 'config-warning', key: w.key, warning: w.message });
    await startDaemon({ config, configPath: argv.config, log, handleSignals: true });
  },
};

/** `callbackd demo`: the whole call-back on the virtual exchange, with a transcript. */
export const demoCommand: CommandModule<object, { 'ring-ms': number; 'log-file'?: string; chat: string }> = {
  command: 'demo',
  describe: 'run a whole call-back on the built-in virtual modem exchange and print a transcript',
  builder: (y) =>
    y
      .option('ring-ms', { type: 'number', default: 1500, describe: 'milliseconds between RINGs' })
      .option('log-file', { type: 'string', describe: "also write the daemon's JSON log here" })
      .option('chat', {
        choices: ['auto', 'builtin'],
        default: 'auto',
        describe: 'auto: the real chat(8) when installed; builtin: the built-in interpreter',
      }) as never,
  handler: async (argv) => {
    const { runDemo } = await import('./demo.js');
    process.exitCode = await runDemo({
      ringMs: argv['ring-ms'],
      logFile: argv['log-file'],
      out: process.stdout,
      chat: argv.chat === 'builtin' ? 'builtin' : 'auto',
    });
  },
};

export const daemonCommands = [runCommand, demoCommand];
