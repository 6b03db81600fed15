import type { CommandModule } from 'yargs';

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
