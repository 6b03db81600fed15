import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import type { StdioOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import { errnoCode } from '../errors.js';
import { borrowPoller, POLL_EVENTS, type FdPoller } from '../serial/fd-poller.js';
import { after, cancel, now, type TimerHandle } from './clock.js';

/**
 * One pseudo-terminal seen from the modem's side (the master).
 *
 * Why polling and no slave fd of our own (measured, see docs/simulator.md): a real
 * modem sees its DTE go away (HUPCL drops DTR). On a pty the master learns that only
 * when the last slave fd closes: reads then fail with EIO. If we held a slave fd
 * ourselves that would never happen. Without one, the /dev/pts/N path still stays
 * valid as long as the master is open, and reopening it works (reads go back to
 * EAGAIN). But Node's stream wrappers close the fd on the first EIO, which would
 * destroy the pty, so the master is read with non-blocking readSync on a short timer.
 */
const require = createRequire(import.meta.url);

interface NativePty {
  open(cols: number, rows: number): { master: number; slave: number; pty: string };
}

function nativePty(): NativePty {
  // node-pty's run-time open() wraps both fds in resumed streams; its native layer
  // gives the bare fds, which is what we need here.
  const mod = require('node-pty') as { native?: NativePty };
  if (!mod.native) throw new Error('node-pty native module not available');
  return mod.native;
}

/**
 * Masters open in this process. node-pty's native open() does not set close-on-exec,
 * so every child spawned here (a daemon under test, mgetty, chat) would inherit a copy
 * of every modem's master, and closing ours (an unplug, the end of a run) would then
 * never hang the line up for the program on the slave: it would wait forever.
 */
const liveMasters = new Set<number>();
let devNull: number | undefined;

/**
 * Stdio for spawn() that covers every live master fd with /dev/null in the child, so
 * the child holds no master. Give it the usual [stdin, stdout, stderr, ...] array.
 */
export function stdioWithoutMasters(stdio: Exclude<StdioOptions, string>): StdioOptions {
  if (liveMasters.size === 0) return stdio;
  devNull ??= openSync('/dev/null', 'r+');
  const out = [...stdio];
  for (const fd of liveMasters) {
    if (fd < out.length && out[fd] !== undefined && out[fd] !== null) continue;
    while (out.length < fd) out.push('ignore');
    out[fd] = devNull;
  }
  return out;
}

/** `stty raw -echo -iexten` on the slave; no pty fd of this process goes with it. */
function stty(tty: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('stty', ['-F', tty, 'raw', '-echo', '-iexten'], {
      stdio: stdioWithoutMasters(['ignore', 'ignore', 'pipe']),
    });
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(err.trim() || `stty exited ${code}`)),
    );
  });
}

export interface PtyHandlers {
  onData(chunk: Buffer): void;
  /** A program opened the slave (first holder). */
  onOpen(): void;
  /** The last holder closed the slave. */
  onClose(): void;
}

export interface PtyOptions {
  /**
   * How the master is read while a program holds the slave: 'events' as soon as it is
   * readable (libuv's poll), 'timer' by polling at pollMs / idlePollMs.
   */
  reads: 'events' | 'timer';
  /** Read poll interval for hotMs after bytes moved ('timer'); retry interval for a full tty queue. */
  pollMs: number;
  /** Poll interval while a program holds the slave but the line is quiet ('timer'). */
  idlePollMs: number;
  /** Poll interval while nobody holds it (only to notice the next open). */
  closedPollMs: number;
  hotMs: number;
}

/**
 * Each empty poll costs a failed read(2) plus the Error Node builds for EAGAIN;
 * measured: a constant 2 ms poll on one open and two closed modems took ~8% of a
 * core, so the timer poll slows down when the line is quiet. With 'events' an open line
 * costs nothing while quiet, and bytes are read when they arrive: the timer poll saw
 * them up to idlePollMs late, and that lateness was in every time measured from the
 * simulator's event log (RING -> ATA was 6 ms, mostly waiting for the next poll).
 */
export const DEFAULT_PTY_OPTIONS: Readonly<PtyOptions> = Object.freeze({
  reads: 'events',
  pollMs: 2,
  idlePollMs: 10,
  closedPollMs: 25,
  hotMs: 300,
});

export class PtyLine {
  /** True while at least one program has the slave open. */
  isOpen = false;
  private closed = false;
  private timer: TimerHandle | undefined;
  private readonly buf = Buffer.alloc(4096);
  private pending: Buffer[] = [];
  private lastActivity = 0;
  /** The master's native poller ('events'), started while a program holds the slave. */
  private poller: FdPoller | undefined;
  private watching = false;

  private constructor(
    readonly path: string,
    private readonly master: number,
    private readonly handlers: PtyHandlers,
    private readonly opts: PtyOptions,
  ) {}

  static async create(handlers: PtyHandlers, opts: PtyOptions = DEFAULT_PTY_OPTIONS): Promise<PtyLine> {
    const t = nativePty().open(80, 24);
    // The slave fd lives only until stty is done, but a child spawned meanwhile (another
    // modem's stty) would inherit it and look like a program holding this line.
    liveMasters.add(t.master).add(t.slave);
    try {
      // Raw and without echo from the start: bytes a modem writes before a program
      // sets its own mode are not echoed back, and programs like chat restore this
      // mode (not cooked) when they exit.
      await stty(t.pty);
    } catch (err) {
      liveMasters.delete(t.master);
      liveMasters.delete(t.slave);
      closeSync(t.slave);
      closeSync(t.master);
      throw new Error(`sim: cannot set ${t.pty} raw: ${(err as Error).message}`);
    }
    liveMasters.delete(t.slave);
    closeSync(t.slave);
    const line = new PtyLine(t.pty, t.master, handlers, opts);
    if (opts.reads === 'events') {
      line.poller = borrowPoller(t.master, (err, flags) => line.onReadable(err, flags));
    }
    // Not now: the caller has no handle on the line before this returns.
    line.timer = after(0, line.poll);
    return line;
  }

  /** Queues bytes for the program on the slave; dropped when nobody holds it. */
  write(data: Buffer | string): boolean {
    if (this.closed || !this.isOpen) return false;
    this.pending.push(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    this.lastActivity = now();
    this.flush();
    // A full tty queue: retry soon (a watched line has no poll timer of its own).
    if (this.pending.length > 0 && this.timer === undefined) this.timer = after(this.opts.pollMs, this.poll);
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    cancel(this.timer);
    this.pending = [];
    // Given back, stopped, while the fd is still ours (see fd-poller.ts).
    this.poller?.destroy();
    this.watching = false;
    liveMasters.delete(this.master);
    try {
      closeSync(this.master);
    } catch {
      // already gone
    }
  }

  private flush(): void {
    while (this.pending.length > 0) {
      const chunk = this.pending[0]!;
      let n: number;
      try {
        n = writeSync(this.master, chunk);
      } catch (err) {
        // EAGAIN: the program is not reading and the tty queue is full; retry on the
        // next poll. Anything else means the line is gone.
        if (errnoCode(err) !== 'EAGAIN') this.pending = [];
        return;
      }
      if (n < chunk.length) {
        this.pending[0] = chunk.subarray(n);
        return;
      }
      this.pending.shift();
    }
  }

  /** Reads what the master holds; notices opens (EAGAIN, data) and the last close (EIO). */
  private drain(): void {
    this.flush();
    for (let i = 0; i < 64 && !this.closed; i++) {
      let n: number;
      try {
        n = readSync(this.master, this.buf, 0, this.buf.length, null);
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'EAGAIN') this.setOpen(true);
        else if (code === 'EIO') this.setOpen(false);
        break;
      }
      if (n === 0) break;
      this.lastActivity = now();
      this.setOpen(true);
      this.handlers.onData(Buffer.from(this.buf.subarray(0, n)));
    }
  }

  private poll = (): void => {
    this.timer = undefined;
    if (this.closed) return;
    this.drain();
    this.schedule();
  };

  private onReadable = (err: Error | null, flags: number): void => {
    // One shot: the native poller stops watching what it reported (or everything, on an error).
    if (err || flags & POLL_EVENTS.READABLE) this.watching = false;
    if (this.closed) return;
    if (err) {
      // The poll itself failed (not expected on a pty): back to reading on the timer.
      this.poller?.destroy();
      this.poller = undefined;
      this.schedule();
      return;
    }
    this.drain();
    this.schedule();
  };

  /** The next read: on the poller while the slave is held, else (or for a full queue) on the timer. */
  private schedule(): void {
    if (this.closed) return;
    const watch = this.poller !== undefined && this.isOpen;
    if (watch && !this.watching) {
      this.watching = true;
      this.poller!.poll(POLL_EVENTS.READABLE);
    } else if (!watch && this.watching) {
      this.watching = false;
      this.poller!.stop();
    }
    if (this.timer !== undefined) return;
    if (!watch) this.timer = after(this.nextPollMs(), this.poll);
    else if (this.pending.length > 0) this.timer = after(this.opts.pollMs, this.poll);
  }

  private nextPollMs = (): number => {
    if (!this.isOpen) return this.opts.closedPollMs;
    if (this.pending.length > 0 || now() - this.lastActivity < this.opts.hotMs) return this.opts.pollMs;
    return this.opts.idlePollMs;
  };

  private setOpen(open: boolean): void {
    if (open === this.isOpen) return;
    this.isOpen = open;
    if (!open) this.pending = [];
    if (open) this.handlers.onOpen();
    else this.handlers.onClose();
  }
}
