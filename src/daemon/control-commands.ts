import type { CommandModule } from 'yargs';
import { controlRequest, type ControlRequest, type ControlResponse } from './control.js';
import { EXIT_NOT_RUNNING } from './status-command.js';

/**
 * The commands that talk to the running daemon over its control socket
 * (`[daemon] control_socket`, default /run/callbackd/control; root only).
 */
export const DEFAULT_CONTROL_SOCKET = '/run/callbackd/control';

const socketOption = {
  type: 'string',
  default: DEFAULT_CONTROL_SOCKET,
  describe: "the daemon's control socket (config: daemon.control_socket)",
} as const;

/** Sends one request; prints the error and returns the exit code when it fails. */
export async function ask(
  socket: string,
  req: ControlRequest,
  err: (t: string) => void = (t) => process.stderr.write(t),
): Promise<{ code: number; res?: ControlResponse }> {
  let res: ControlResponse;
  try {
    res = await controlRequest(socket, req);
  } catch (e) {
    err(`callbackd: cannot reach the daemon on ${socket}: ${(e as Error).message}\n`);
    return { code: EXIT_NOT_RUNNING };
  }
  if (!res.ok) {
    err(`callbackd: ${res.error ?? 'refused'}\n`);
    for (const p of (res.problems as string[] | undefined) ?? []) err(`  ${p}\n`);
    return { code: 1, res };
  }
  return { code: 0, res };
}

export const lineCommand: CommandModule<object, { action: string; line: string; socket: string }> = {
  command: 'line <action> <line>',
  describe: 'disable or enable answering on a line of the running daemon (until enabled or restarted)',
  builder: (y) =>
    y
      .positional('action', { choices: ['disable', 'enable'], demandOption: true })
      .positional('line', { type: 'string', demandOption: true, describe: 'line name, e.g. ttyS1' })
      .option('socket', socketOption) as never,
  handler: async (argv) => {
    const { code } = await ask(argv.socket, {
      cmd: 'line',
      line: argv.line,
      enabled: argv.action === 'enable',
    });
    if (code === 0) process.stdout.write(`${argv.line}: ${argv.action}d\n`);
    process.exitCode = code;
  },
};

export const testCallCommand: CommandModule<
  object,
  { entry: string; line?: string; number?: string; socket: string }
> = {
  command: 'test-call <entry>',
  describe: "dial a call-back entry's number now (same number rules and rate limits; accounted)",
  builder: (y) =>
    y
      .positional('entry', { type: 'string', demandOption: true, describe: 'call-back entry name' })
      .option('line', {
        type: 'string',
        describe: 'dial on this line (default: the entry’s dial lines, any idle one)',
      })
      .option('number', { type: 'string', describe: 'for an entry whose callers supply the number' })
      .option('socket', socketOption) as never,
  handler: async (argv) => {
    const { code, res } = await ask(argv.socket, {
      cmd: 'test-call',
      entry: argv.entry,
      line: argv.line,
      number: argv.number,
    });
    if (code === 0) process.stdout.write(`dialling on ${String(res!.line)}, call ${String(res!.callId)}\n`);
    process.exitCode = code;
  },
};

export const reloadCommand: CommandModule<object, { socket: string }> = {
  command: 'reload',
  describe: 'make the running daemon re-read its config; exits 1 with the problems when the file is rejected',
  builder: (y) => y.option('socket', socketOption) as never,
  handler: async (argv) => {
    const { code, res } = await ask(argv.socket, { cmd: 'reload' });
    if (code === 0) process.stdout.write(`reloaded, config sha256 ${String(res!.configHash)}\n`);
    process.exitCode = code;
  },
};

export const controlCommands = [lineCommand, testCallCommand, reloadCommand];
