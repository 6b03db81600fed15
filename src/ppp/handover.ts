import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync } from 'node:fs';
import { CallbackdError } from '../errors.js';
import type { Logger } from '../log.js';
import { waitFor, within } from '../wait.js';
import { OffLoopSpawner, type ChildLike } from './off-loop-spawn.js';

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
  /**
   * Resolves when pppd itself has exited, with its own exit status; its stderr is
   * drained for at most stderrDrainMs more (a child that pppd or a wrapper left behind
   * may hold stderr open for its whole life). Never rejects.
   */
  exited: Promise<{ code: number | null; signal: string | null }>;
  /** SIGTERM to pppd's process group, then SIGKILL after graceMs; resolves once pppd is gone. */
  stop(graceMs: number): Promise<void>;
  /**
   * What the kernel does on carrier loss, for lines whose carrier it cannot see (ptys):
   * SIGHUP to the process group (pppd exits 16), then SIGTERM and SIGKILL, each
   * hangupGraceMs later, for a child that ignores the hang-up.
   */
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
  /** How long stderr may stay open after pppd has exited. */
  stderrDrainMs?: number;
  /** hangup(): between SIGHUP, SIGTERM and SIGKILL (the session passes `ppp_stop`). */
  hangupGraceMs?: number;
  /**
   * Hand the tty over as a modem line (CLOCAL off, HUPCL on) and make it the child's
   * controlling tty, so the kernel's hang-up on carrier loss reaches the child whatever
   * it is. Default true; off only for tests that run without stty and setsid.
   */
  modemLine?: boolean;
  /**
   * Whether to set CLOCAL off and HUPCL on with stty before the child starts (with
   * modemLine; default true). Real pppd does both itself (tty.c set_up_tty, with its
   * default `modem`), so for pppd the stty process, one more fork of the daemon per
   * call, is skipped (start.ts).
   */
  stty?: boolean;
  /**
   * Where the child is spawned: `auto` (default) on the event loop while few children
   * run, through a worker thread from OFF_LOOP_FROM running children on; `always` and
   * `never` for tests.
   */
  offLoop?: 'auto' | 'always' | 'never';
}

/**
 * While another line's pppd runs, a new one is spawned by a worker thread, so the fork's
 * wait does not stop every other line (off-loop-spawn.ts); the worker stays
 * OFF_LOOP_LINGER_MS after the last pppd has exited. A lone call spawns directly.
 */
export const OFF_LOOP_FROM = 1;
const OFF_LOOP_LINGER_MS = 30_000;
const spawner = new OffLoopSpawner(OFF_LOOP_FROM, OFF_LOOP_LINGER_MS);
/** Children started here that have not exited yet. */
let running = 0;

const DEFAULT_TAIL = 8 * 1024;
const DEFAULT_STDERR_DRAIN_MS = 250;
/**
 * Real pppd may need seconds after SIGHUP when the peer had just ended LCP (seen over
 * 1.5 s under user-mode-linux). A pppd killed early loses its outcome and leaves the tty
 * in PPP's line discipline (a pty keeps it), so SIGKILL is only for a child that
 * ignored both signals for the whole grace.
 */
const DEFAULT_HANGUP_GRACE_MS = 1_000;
/** util-linux and coreutils, Essential in Debian; run with argv arrays, never a shell. */
const SETSID = '/usr/bin/setsid';
const STTY = 'stty';

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
    const modemLine = o.modemLine ?? true;
    if (modemLine && (o.stty ?? true)) await setModemLine(fd, o);
    // pppd gets its own session and process group, so a Ctrl-C meant for a foreground
    // callbackd does not reach it and callbackd can signal pppd with everything it
    // started. With setsid --ctty (not detached: setsid then execs without forking, so
    // the pid stays pppd's) the tty becomes the session's controlling tty, as with
    // mgetty and login: the kernel's SIGHUP on carrier loss reaches the child.
    const ctty = modemLine && existsSync(SETSID);
    if (ctty && o.file.includes('/')) {
      try {
        accessSync(o.file, constants.X_OK);
      } catch (err) {
        throw new CallbackdError(
          'PPP_SPAWN',
          `cannot start ${o.file}: ${String(err)}`,
          { file: o.file },
          err,
        );
      }
    }
    const file = ctty ? SETSID : o.file;
    const args = ctty ? ['--ctty', o.file, ...o.args] : o.args;
    const env = o.env ?? process.env;
    const mode = o.offLoop ?? 'auto';
    if (mode === 'always') await spawner.whenReady();
    const offLoop = mode === 'always' || (mode === 'auto' && spawner.wants(running));
    let child: ChildLike;
    if (offLoop) {
      try {
        child = await spawner.spawn({ file, args, fd, env, detached: !ctty });
      } catch (err) {
        throw spawnFailed(o.file, err as Error);
      }
    } else {
      child = spawn(file, args, { stdio: [fd, fd, 'pipe'], env, detached: !ctty });
    }
    const pid = child.pid;
    if (pid === undefined) {
      // spawn reports ENOENT/EACCES asynchronously through 'error'.
      const err = await new Promise<Error>((res) => child.once('error', res));
      throw spawnFailed(o.file, err);
    }
    running++;
    child.once('exit', () => {
      if (--running === 0) spawner.idle();
    });
    const run = watch(child, pid, o);
    // The lock names pppd as soon as it runs; if its exec fails below, the session's
    // reclaim takes the lock back.
    const handed = (async () => o.lock?.handOver(pid))().catch((err: unknown) => {
      o.log.error({ event: 'ppp-lock-handover-failed', pid, err: String(err) });
    });
    o.log.info({ event: 'ppp-spawned', pid, file: o.file, args: redactArgs(o.args) });
    if (ctty) {
      // setsid(1) reports an exec failure as exit 126 or 127, with its message on stderr.
      const failed = await execFailure(child);
      if (failed) {
        await handed;
        await run.exited;
        throw new CallbackdError(
          'PPP_SPAWN',
          `cannot start ${o.file}: ${run.stderrTail().trim() || `exit ${failed}`}`,
          { file: o.file },
        );
      }
    }
    closeFd();
    await handed;
    return run;
  } finally {
    closeFd();
  }
}

/**
 * CLOCAL off and HUPCL on, as mgetty sets the line before login: carrier loss then
 * hangs the tty up in the kernel. Node cannot set termios; stty acts on its stdin.
 * A failure is logged, not fatal: the hand-over still works, only without that help.
 */
async function setModemLine(fd: number, o: HandOverOptions): Promise<void> {
  const c = spawn(STTY, ['-clocal', 'hupcl'], { stdio: [fd, 'ignore', 'pipe'] });
  let err = '';
  c.stderr?.setEncoding('utf8');
  c.stderr?.on('data', (t: string) => (err = (err + t).slice(-500)));
  // stty waits for output to drain (TCSADRAIN): a line stuck in flow control gets a deadline.
  const code = await waitFor<number | null | 'timeout'>(
    (done) => {
      const onError = (e: Error) => {
        err = e.message;
        done(null);
      };
      c.once('error', onError);
      c.once('close', done);
      return () => {
        c.off('error', onError);
        c.off('close', done);
      };
    },
    { timeoutMs: STTY_DEADLINE_MS, onTimeout: () => 'timeout' as const },
  );
  if (code === 'timeout') c.kill('SIGKILL');
  if (code !== 0)
    o.log.warn({ event: 'tty-modem-mode-failed', tty: o.ttyPath, err: err.trim() || `exit ${String(code)}` });
}
const STTY_DEADLINE_MS = 2_000;

const spawnFailed = (file: string, err: Error): CallbackdError =>
  new CallbackdError('PPP_SPAWN', `cannot start ${file}: ${err.message}`, { file }, err);

/**
 * setsid(1)'s exit code when it could not exec the program (126, 127) within a moment,
 * else undefined: the program runs, and its own exit comes later.
 */
function execFailure(child: ChildLike): Promise<number | undefined> {
  if (child.exitCode !== null) return Promise.resolve(isExecFailure(child.exitCode));
  return waitFor<number | undefined>(
    (done) => {
      const onExit = (code: number | null) => done(isExecFailure(code));
      child.once('exit', onExit);
      return () => child.off('exit', onExit);
    },
    { timeoutMs: EXEC_CHECK_MS, onTimeout: () => undefined },
  );
}
const isExecFailure = (code: number | null) => (code === 126 || code === 127 ? code : undefined);
/** setsid execs at once; a program that has not failed by then has started. */
const EXEC_CHECK_MS = 100;

function watch(child: ChildLike, pid: number, o: HandOverOptions): PppRun {
  const tailBytes = o.tailBytes ?? DEFAULT_TAIL;
  const drainMs = o.stderrDrainMs ?? DEFAULT_STDERR_DRAIN_MS;
  const graceMs = o.hangupGraceMs ?? DEFAULT_HANGUP_GRACE_MS;
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
  /** Signals pppd's process group: pppd and anything it or a wrapper started. */
  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH')
        o.log.warn({ event: 'pppd-signal-failed', pid, signal: sig, err: String(err) });
    }
  };
  const stderrClosed = new Promise<void>((res) => {
    if (!child.stderr || child.stderr.closed) return res();
    child.stderr.once('close', () => res());
  });
  // The status is the process's own ('exit'), not stderr closing ('close').
  const exited = new Promise<{ code: number | null; signal: string | null }>((res) => {
    child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      done = true;
      void within(stderrClosed, drainMs, () => 'open' as const).then((r) => {
        if (r === 'open') {
          // Something pppd left behind holds stderr: stop reading it, end the leftovers.
          o.log.warn({ event: 'pppd-leftover', pid, drainMs }, 'pppd exited; a child still holds its stderr');
          child.stderr?.destroy();
          signalGroup('SIGTERM');
        }
        if (partial.trim()) o.log.info({ event: 'pppd', pid, msg: partial.trimEnd() });
        partial = '';
        res({ code, signal });
      });
    });
  });
  child.on('error', (err) => o.log.warn({ event: 'pppd-signal-failed', pid, err: String(err) }));

  const stop = async (stopGraceMs: number): Promise<void> => {
    if (done) return;
    signalGroup('SIGTERM');
    if ((await within(exited, stopGraceMs, () => 'late' as const)) === 'late' && !done) {
      o.log.warn({ event: 'pppd-kill', pid, graceMs: stopGraceMs });
      signalGroup('SIGKILL');
    }
    await exited;
  };
  let hangingUp = false;
  const hangup = (): void => {
    if (done || hangingUp) return;
    hangingUp = true;
    void (async () => {
      for (const sig of ['SIGHUP', 'SIGTERM', 'SIGKILL'] as const) {
        if (done) return;
        if (sig !== 'SIGHUP') o.log.warn({ event: 'pppd-ignores-hangup', pid, signal: sig, graceMs });
        signalGroup(sig);
        if ((await within(exited, graceMs, () => 'late' as const)) !== 'late') return;
      }
    })();
  };
  return { pid, exited, stop, hangup, stderrTail: () => tail };
}

/** pppd's `password` option carries a secret in the next word; keep it out of the log. */
export function redactArgs(args: string[]): string[] {
  return args.map((w, i) => (i > 0 && args[i - 1] === 'password' ? '[redacted]' : w));
}
