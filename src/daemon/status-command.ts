import type { CommandModule } from 'yargs';
import { controlRequest, type ControlStatus } from './control.js';
import { isPidAlive, readStatus, statusPath, type StatusSnapshot } from './status.js';

/** Exit code for "not running", as LSB init scripts use for `status`. */
export const EXIT_NOT_RUNNING = 3;

export const DEFAULT_STATE_DIR = '/var/lib/callbackd';

interface StatusArgs {
  'state-dir': string;
  json: boolean;
  socket: string;
}

export interface StatusDeps {
  out: (text: string) => void;
  err: (text: string) => void;
  now?: () => Date;
  isAlive?: (pid: number) => boolean;
}

/**
 * The whole command, minus yargs: returns the exit code. The control socket answers with
 * everything (nologin, disabled, last reload, config hash); without it (another user than
 * root, an older daemon) the status file still gives the line states.
 */
export async function runStatus(
  stateDir: string,
  json: boolean,
  deps: StatusDeps,
  socket?: string,
): Promise<number> {
  if (socket) {
    const live = await controlRequest(socket, { cmd: 'status' }, 10_000).catch(() => undefined);
    if (live?.ok && live.status) {
      const st = live.status as ControlStatus;
      deps.out(
        json ? JSON.stringify(st, null, 2) + '\n' : formatStatus(st, (deps.now ?? (() => new Date()))()),
      );
      return 0;
    }
  }
  const read = await readStatus(stateDir);
  const file = statusPath(stateDir);
  if (read.kind === 'missing') {
    deps.err(`callbackd is not running (no ${file})\n`);
    return EXIT_NOT_RUNNING;
  }
  if (read.kind === 'invalid') {
    deps.err(`callbackd status unknown: ${file} is unreadable: ${read.reason}\n`);
    return EXIT_NOT_RUNNING;
  }
  const alive = (deps.isAlive ?? isPidAlive)(read.status.pid);
  if (!alive) {
    deps.err(`callbackd is not running (pid ${read.status.pid} from ${file} is gone)\n`);
    return EXIT_NOT_RUNNING;
  }
  deps.out(
    json
      ? JSON.stringify(read.status, null, 2) + '\n'
      : formatStatus(read.status, (deps.now ?? (() => new Date()))()),
  );
  return 0;
}

/** Human table: one row a line, time in state as an age so nobody does date arithmetic. */
export function formatStatus(s: StatusSnapshot & Partial<ControlStatus>, now: Date): string {
  const head = [
    `callbackd running, pid ${s.pid}, up ${age(s.startedAt, now)} (since ${s.startedAt})`,
    `config: ${s.configSource}${s.configHash ? ` (sha256 ${s.configHash})` : ''}`,
    ...(s.lastReload
      ? [
          `last reload: ${s.lastReload.at} ${s.lastReload.ok ? 'applied' : 'REJECTED'}`,
          ...(s.lastReload.problems ?? []).map((p) => `  ${printable(p)}`),
        ]
      : []),
    '',
  ];
  if (s.lines.length === 0) return [...head, 'no lines configured', ''].join('\n');
  const rows = [
    ['LINE', 'DEVICE', 'STATE', 'FOR', 'CALL', 'CALLER', 'LAST ERROR'],
    ...s.lines.map((l) => [
      l.name,
      l.device,
      l.disabled ? `${l.state} (disabled)` : l.nologin ? `${l.state} (nologin)` : l.state,
      age(l.since, now),
      l.callId ?? '-',
      l.callerId ?? '-',
      l.lastError ?? '-',
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => printable(r[c]!).length)));
  const table = rows.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? printable(cell) : printable(cell).padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
  return [...head, ...table, ''].join('\n');
}

/** A caller ID or error text from the line must not drive the admin's terminal. */
function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]/g, '?');
}

export function age(iso: string, now: Date): string {
  const ms = now.getTime() - Date.parse(iso);
  if (!Number.isFinite(ms)) return '?';
  let rest = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(rest / 86_400);
  rest -= d * 86_400;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const sec = rest - m * 60;
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return `${m}m${sec}s`;
  return `${sec}s`;
}

export const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status',
  describe: 'Show the state of each line of the running daemon (exit 3 when not running)',
  builder: (y) =>
    y
      .option('state-dir', {
        type: 'string',
        default: DEFAULT_STATE_DIR,
        describe: 'Directory holding status.json (config: daemon.state_dir)',
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print the raw status as JSON' })
      .option('socket', {
        type: 'string',
        default: '/run/callbackd/control',
        describe: "the daemon's control socket, asked first (config: daemon.control_socket)",
      }),
  handler: async (argv) => {
    process.exitCode = await runStatus(
      argv['state-dir'],
      argv.json,
      { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) },
      // An explicit --state-dir names another daemon than the default socket's.
      argv['state-dir'] !== DEFAULT_STATE_DIR && argv.socket === '/run/callbackd/control'
        ? undefined
        : argv.socket,
    );
  },
};
