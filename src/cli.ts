#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --lite-mode --no-expose-wasm --no-memory-reducer
import { parseArgs } from 'node:util';
import type { CommandModule } from 'yargs';

// The shebang's --lite-mode (no optimising compiler, lazy feedback vectors) takes about
// 13 MB off an idle daemon's RSS (68.6 -> 55.8 MB, 1 line, npm run bench:compare -- --only
// lines); the daemon waits on I/O and its one CPU-heavy step, scrypt, is native code.
// --no-expose-wasm: nothing here uses WebAssembly, and lite mode warns on every start without it.
// --no-memory-reducer: V8's timed GCs after start-up woke an idle daemon about 115 times and
// used 30 ms CPU in its first minute; without them: 3 wake-ups and 0 ms, RSS unchanged.
// MALLOC_MMAP_THRESHOLD_: each scrypt check takes 16 MB (N 2^14, r 8) on a libuv pool
// thread. glibc's dynamic threshold then serves the next ones from that thread's arena and
// keeps them: +64 MB RSS for good once four checks ran on the four pool threads. A fixed
// threshold mmaps and unmaps them, so RSS goes back after every check (the 32-line soak).

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Command = CommandModule<any, any>;

/**
 * Each area exports its own yargs command module; this file only lists them, one line
 * each: the command's name and where its module lives. A command's module is loaded
 * only when that command runs (or for --help), so `callbackd run` loads the daemon and
 * nothing else: not the simulator, not node-pty, not the other commands' code.
 * Handlers set process.exitCode rather than calling process.exit, so open handles are
 * closed in order.
 */
const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./daemon/commands.js')).runCommand,
  demo: async () => (await import('./demo/command.js')).demoCommand,
  'check-config': async () => (await import('./config/commands.js')).checkConfigCommand,
  'hash-password': async () => (await import('./config/commands.js')).hashPasswordCommand,
  status: async () => (await import('./daemon/status-command.js')).statusCommand,
  line: async () => (await import('./daemon/control-commands.js')).lineCommand,
  'test-call': async () => (await import('./daemon/control-commands.js')).testCallCommand,
  reload: async () => (await import('./daemon/control-commands.js')).reloadCommand,
  trace: async () => (await import('./daemon/control-commands.js')).traceCommand,
  'import-mgetty': async () => (await import('./config/import-mgetty/command.js')).importMgettyCommand,
  sim: async () => (await import('./sim/cli-command.js')).simCommand,
};

/**
 * `run` is what systemd starts, so its two options are read without yargs, which
 * would cost the daemon about 9 MB of RSS and 100 ms of start-up (measured, see
 * docs/benchmarks.md). Anything else on a `run` line (--help, a typo) goes to yargs,
 * which explains it.
 */
async function runWithoutYargs(argv: string[]): Promise<boolean> {
  if (argv[0] !== 'run') return false;
  let values: { config?: string; 'log-level'?: string; 'log-format'?: string };
  try {
    ({ values } = parseArgs({
      args: argv.slice(1),
      options: {
        config: { type: 'string', short: 'c' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch {
    return false;
  }
  const { runCommand, DEFAULT_CONFIG_PATH } = await import('./daemon/commands.js');
  const { LOG_FORMATS } = await import('./log.js');
  const format = values['log-format'];
  // An unknown format goes to yargs, which names the choices.
  if (format !== undefined && !(LOG_FORMATS as readonly string[]).includes(format)) return false;
  await runCommand.handler!({
    config: values.config ?? DEFAULT_CONFIG_PATH,
    'log-level': values['log-level'],
    'log-format': format as never,
    _: ['run'],
    $0: 'callbackd',
  });
  return true;
}

export async function main(argv: string[]): Promise<void> {
  if (await runWithoutYargs(argv)) return;
  const { default: yargs } = await import('yargs');
  // The command is the first word; anything else (--help, a typo) loads them all so
  // yargs can list them or say what is wrong.
  const first = argv[0];
  const names = first !== undefined && first in commands ? [first] : Object.keys(commands);
  let cli = yargs(argv)
    .scriptName('callbackd')
    .strict()
    .demandCommand(1, 'name a command; --help lists them')
    .help()
    .version();
  for (const c of await Promise.all(names.map((n) => commands[n]!()))) cli = cli.command(c);
  await cli.parseAsync();
}

process.title = 'callbackd'; // ps, pgrep and top name the daemon, not node
main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`callbackd: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
