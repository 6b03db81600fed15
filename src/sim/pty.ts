import { execFile } from 'node:child_process';
import { closeSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { errnoCode } from '../errors.js';
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
const execFileAsync = promisify(execFile);
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

export interface PtyHandlers {
  onData(chunk: Buffer): void;
  /** A program opened the slave (first holder). */
  onOpen(): void;
  /** The last holder closed the slave. */
  onClose(): void;
}

export interface PtyOptions {
  /** Read poll interval for hotMs after bytes moved in either direction. */
  pollMs: number;
  /** Poll interval while a program holds the slave but the line is quiet. */
  idlePollMs: number;
  /** Poll interval while nobody holds it (only to notice the next open). */
  closedPollMs: number;
  hotMs: number;
}

/**
 * Each empty poll costs a failed read(2) plus the Error Node builds for EAGAIN;
 * measured: a constant 2 ms poll on one open and two closed modems took ~8% of a
 * core, so the poll slows down when the line is quiet.
 */
export const DEFAULT_PTY_OPTIONS: Readonly<PtyOptions> = Object.freeze({
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

  private constructor(
    readonly path: string,
    private readonly master: number,
    private readonly handlers: PtyHandlers,
    private readonly opts: PtyOptions,
  ) {}

  static async create(handlers: PtyHandlers, opts: PtyOptions = DEFAULT_PTY_OPTIONS): Promise<PtyLine> {
    const t = nativePty().open(80, 24);
    try {
      // Raw and without echo from the start: bytes a modem writes before a program
      // sets its own mode are not echoed back, and programs like chat restore this
      // mode (not cooked) when they exit.
      await execFileAsync('stty', ['-F', t.pty, 'raw', '-echo', '-iexten']);
    } catch (err) {
      closeSync(t.slave);
      closeSync(t.master);
      throw new Error(`sim: cannot set ${t.pty} raw: ${(err as Error).message}`);
    }
    closeSync(t.slave);
    const line = new PtyLine(t.pty, t.master, handlers, opts);
    line.poll();
    return line;
  }

  /** Queues bytes for the program on the slave; dropped when nobody holds it. */
  write(data: Buffer | string): boolean {
    if (this.closed || !this.isOpen) return false;
    this.pending.push(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    this.lastActivity = now();
    this.flush();
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    cancel(this.timer);
    this.pending = [];
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

  private poll = (): void => {
    this.timer = undefined;
    if (this.closed) return;
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
    if (!this.closed) this.timer = after(this.nextPollMs(), this.poll);
  };

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
