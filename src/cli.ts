#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import type { CommandModule } from 'yargs';
import { configCommands } from './config/commands.js';
import { daemonCommands } from './daemon/commands.js';
import { statusCommand } from './daemon/status-command.js';
import { importMgettyCommand } from './config/import-mgetty/command.js';
import { controlCommands } from './daemon/control-commands.js';
import { simCommand } from './sim/command.js';

/**
 * Each area of the daemon exports its own yargs command module; this file only
 * lists them. Handlers set process.exitCode rather than calling process.exit, so
 * open handles are closed in order.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const commands: CommandModule<any, any>[] = [
  ...daemonCommands,
  ...configCommands,
  statusCommand,
  ...controlCommands,
  importMgettyCommand,
  simCommand,
];

export async function main(argv: string[]): Promise<void> {
  let cli = yargs(argv)
    .scriptName('callbackd')
    .strict()
    .demandCommand(1, 'name a command; --help lists them')
    .help()
    .version();
  for (const c of commands) cli = cli.command(c);
  await cli.parseAsync();
}

process.title = 'callbackd'; // ps, pgrep and top name the daemon, not node
main(hideBin(process.argv)).catch((err: unknown) => {
  process.stderr.write(`callbackd: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
