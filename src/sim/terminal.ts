import { SerialPort } from 'serialport';

export interface TerminalOptions {
  /**
   * Drop DTR when the tty is closed (the default, as a terminal program does). A caller
   * that hands its tty to another program keeps it up: `false`.
   */
  hupcl?: boolean;
}

/**
 * A terminal program on a virtual modem's tty: the caller in the demo and the
 * scripted peer of tests. Writes commands and waits for text by event, never by
 * sleeping. Uses serialport, as callbackd does, so the tty is set up the same way.
 */
export class Terminal {
  /** Everything received since open (latin1), for assertions on exact bytes. */
  text = '';
  private consumed = 0;
  private waiters = new Set<() => void>();

  private constructor(private readonly port: SerialPort) {
    port.on('data', (b: Buffer) => {
      this.text += b.toString('latin1');
      for (const w of [...this.waiters]) w();
    });
    // A tty whose master went away reports an error; tests see it as a closed port.
    port.on('error', () => undefined);
  }

  static async open(path: string, opts: TerminalOptions = {}): Promise<Terminal> {
    const port = new SerialPort({
      path,
      baudRate: 115200,
      lock: false,
      autoOpen: false,
      ...(opts.hupcl === false ? { hupcl: false } : {}),
    });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    return new Terminal(port);
  }

  get isOpen(): boolean {
    return this.port.isOpen;
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.port.write(data, (e) => (e ? reject(e) : this.port.drain((e2) => (e2 ? reject(e2) : resolve()))));
    });
  }

  /** Forgets what arrived so far: the next expect() sees only what comes after this. */
  discard(): void {
    this.consumed = this.text.length;
  }

  /** Sends `AT<body>\r`. */
  at(body: string): Promise<void> {
    return this.write(`AT${body}\r`);
  }

  /**
   * Waits for text (or a pattern) after what earlier expects consumed; resolves with
   * the text up to and including the match and consumes it. Any of `aborts` seen
   * first rejects with an error whose `abort` is true, as chat(8)'s ABORT strings do.
   */
  expect(what: string | RegExp, timeoutMs = 3_000, aborts: string[] = []): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const rest = this.text.slice(this.consumed);
        let end = -1;
        if (typeof what === 'string') {
          const i = rest.indexOf(what);
          if (i >= 0) end = i + what.length;
        } else {
          const m = new RegExp(what.source, what.flags.replace('g', '')).exec(rest);
          if (m) end = m.index + m[0].length;
        }
        const abort = aborts.find((a) => {
          const i = rest.indexOf(a);
          return i >= 0 && (end < 0 || i < end);
        });
        if (abort !== undefined) {
          reject(Object.assign(new Error(`chat aborted on ${JSON.stringify(abort)}`), { abort: true }));
          return true;
        }
        if (end < 0) return false;
        this.consumed += end;
        resolve(rest.slice(0, end));
        return true;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const rest = this.text.slice(this.consumed);
        reject(
          new Error(
            `terminal: no ${String(what)} within ${timeoutMs} ms; unconsumed: ${JSON.stringify(rest.slice(-500))}`,
          ),
        );
      }, timeoutMs);
      const waiter = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
    });
  }

  /** Text received and not yet consumed by expect(). */
  get unread(): string {
    return this.text.slice(this.consumed);
  }

  /**
   * Sends `text` again every `everyMs` until `answer` comes back, as a PPP peer repeats
   * a Configure-Request: what arrives before the far end's program has the line is lost.
   */
  async sendUntilAnswered(text: string, answer: string, tries = 10, everyMs = 1_000): Promise<void> {
    for (let i = 1; ; i++) {
      await this.write(text);
      try {
        await this.expect(answer, everyMs);
        return;
      } catch (err) {
        if (i >= tries) throw err;
      }
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}
