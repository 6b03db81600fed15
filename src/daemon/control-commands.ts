import { connect } from 'node:net';
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

/** `callbackd trace LINE`: the line's trace, live, until interrupted or the daemon stops. */
export const traceCommand: CommandModule<object, { line: string; socket: string }> = {
  command: 'trace <line>',
  describe:
    "follow a line's modem bytes, AT commands and results and state changes live (secrets as their length)",
  builder: (y) =>
    y
      .positional('line', { type: 'string', demandOption: true, describe: 'line name, e.g. ttyS1' })
      .option('socket', socketOption) as never,
  handler: async (argv) => {
    process.exitCode = await new Promise<number>((resolve) => {
      const s = connect(argv.socket);
      let buf = '';
      let code = 0;
      s.setEncoding('utf8');
      s.once('connect', () => s.write(JSON.stringify({ cmd: 'trace', line: argv.line }) + '\n'));
      s.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const msg = JSON.parse(buf.slice(0, nl)) as { ok?: boolean; error?: string; trace?: string };
          buf = buf.slice(nl + 1);
          if (msg.trace !== undefined)
            process.stdout.write(msg.trace.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '?') + '\n');
          else if (msg.ok === false) {
            process.stderr.write(`callbackd: ${msg.error ?? 'refused'}\n`);
            code = 1;
          }
        }
      });
      s.once('error', (err) => {
        process.stderr.write(`callbackd: cannot reach the daemon on ${argv.socket}: ${err.message}\n`);
        resolve(EXIT_NOT_RUNNING);
      });
      s.once('close', () => resolve(code));
      process.once('SIGINT', () => s.destroy());
    });
  },
};

export const controlCommands = [lineCommand, testCallCommand, reloadCommand, traceCommand];
