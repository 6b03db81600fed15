import { spawn } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { CallbackdError } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * Hands the line to pppd: pppd gets the tty as its stdin and stdout and speaks PPP on it
 * directly. callbackd never copies a byte of the call.
 *
 * Order matters (measured, see docs/testing.md):
 * 1. Open a fresh fd on the tty. It keeps the tty open while the serial port closes, so
 *    HUPCL does not drop DTR and end the call in the gap.
 * 2. Close callbackd's serial port. Only closing stops its reader: a paused port still
 *    reads, and would steal the peer's first PPP frames.
 * 3. Spawn pppd with the fresh fd as fd 0 and 1. Never the serial port's own fd: Node
 *    makes a child's stdio blocking, the flag is shared, and closing the port then hangs.
 * 4. Give the UUCP lock to pppd's pid, then close our copy of the fd.
 *
 * The UUCP lock: pppd given an already open read/write tty on stdin treats it as opened
 * for it ("privopen", pppd tty.c) and neither checks nor takes a lock, even with `lock`
 * in /etc/ppp/options (seen with real pppd in test/e2e). So there is no race with pppd.
 * We still rewrite the lock to pppd's pid right after spawn: the lock then names the
 * process that really holds the line, and stays valid for cu, minicom or a second
 * callbackd if callbackd itself dies while pppd runs. callbackd takes it back when pppd
 * exits (the session's reclaim).
 */
export interface PppRun {
  pid: number;
  /** Resolves when pppd has exited and its stderr is drained. Never rejects. */
  exited: Promise<{ code: number | null; signal: string | null }>;
  /** SIGTERM, then SIGKILL after graceMs; resolves once pppd is gone. */
  stop(graceMs: number): Promise<void>;
  /** SIGHUP: what the kernel sends pppd when carrier drops; pppd exits 16 (modem hung up). */
  hangup(): void;
  /** The last few KiB pppd wrote to stderr, for logs and accounting. */
  stderrTail(): string;
}

export interface HandOverOptions {
  ttyPath: string;
  /** Closes callbackd's own handle on the tty (the serial port). */
  closeLine: () => Promise<void>;
  file: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  lock?: { handOver(pid: number): void | Promise<void> };
  log: Logger;
  /** Bytes of stderr kept for stderrTail(). */
  tailBytes?: number;
}

const DEFAULT_TAIL = 8 * 1024;

export async function handOverToPppd(o: HandOverOptions): Promise<PppRun> {
  let fd: number;
  try {
    fd = openSync(o.ttyPath, constants.O_RDWR | constants.O_NOCTTY);
  } catch (err) {
    throw new CallbackdError(
      'PPP_SPAWN',
      `cannot open ${o.ttyPath} for pppd: ${String(err)}`,
      { ttyPath: o.ttyPath },
      err,
    );
  }
  let fdOpen = true;
  const closeFd = () => {
    if (fdOpen) closeSync(fd);
    fdOpen = false;
  };
  try {
    await o.closeLine();
    // detached: pppd gets its own session, so a Ctrl-C meant for a foreground callbackd
    // does not reach it; callbackd stops it deliberately with stop().
    const child = spawn(o.file, o.args, {
      stdio: [fd, fd, 'pipe'],
      env: o.env ?? process.env,
      detached: true,
    });
    const pid = child.pid;
    if (pid === undefined) {
      // spawn reports ENOENT/EACCES asynchronously through 'error'.
      const err = await new Promise<Error>((res) => child.once('error', res));
      throw new CallbackdError('PPP_SPAWN', `cannot start ${o.file}: ${err.message}`, { file: o.file }, err);
    }
    const handed = o.lock?.handOver(pid);
    closeFd();
    const run = watch(child, pid, o);
    try {
      await handed;
    } catch (err) {
      o.log.error({ event: 'ppp-lock-handover-failed', pid, err: String(err) });
    }
    o.log.info({ event: 'ppp-spawned', pid, file: o.file, args: redactArgs(o.args) });
    return run;
  } finally {
    closeFd();
  }
}

function watch(child: ReturnType<typeof spawn>, pid: number, o: HandOverOptions): PppRun {
  const tailBytes = o.tailBytes ?? DEFAULT_TAIL;
  let tail = '';
  let partial = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    tail = (tail + text).slice(-tailBytes);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) o.log.info({ event: 'pppd', pid, msg: line.trimEnd() });
  });
  let done = false;
  const exited = new Promise<{ code: number | null; signal: string | null }>((res) => {
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      done = true;
      if (partial.trim()) o.log.info({ event: 'pppd', pid, msg: partial.trimEnd() });
      res({ code, signal });
    });
  });
  child.on('error', (err) => o.log.warn({ event: 'pppd-signal-failed', pid, err: String(err) }));

  const stop = async (graceMs: number): Promise<void> => {
    if (done) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((res) => {
      timer = setTimeout(() => res('late'), graceMs);
    });
    const first = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (first === 'late' && !done) {
      o.log.warn({ event: 'pppd-kill', pid, graceMs });
      child.kill('SIGKILL');
      await exited;
    }
  };
  const hangup = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGHUP');
  };
  return { pid, exited, stop, hangup, stderrTail: () => tail };
}

/** pppd's `password` option carries a secret in the next word; keep it out of the log. */
export function redactArgs(args: string[]): string[] {
  return args.map((w, i) => (i > 0 && args[i - 1] === 'password' ? '[redacted]' : w));
}
