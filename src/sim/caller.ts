import { spawn, execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { parseChat, runChat, type ChatIo } from './chat-script.js';
import { waitFor } from '../wait.js';

/**
 * The far end of a call-back, as a person's machine runs it: a chat script on a
 * modem tty (the real chat(8) when installed, else the built-in interpreter), then
 * a data phase on the same tty. Used by `callbackd demo` and the integration tests.
 */
export const CHAT_BINARY = '/usr/sbin/chat';

export interface ChatRun {
  ok: boolean;
  code: number | null;
  /** chat's own -v log (stderr), or the built-in interpreter's trace. */
  log: string;
  /** Closes the tty handle kept open across the end of the script. */
  release(): void;
}

/** Puts a pty slave in raw mode so the line discipline does not echo the modem's words back. */
export function rawTty(tty: string): void {
  execFileSync('stty', ['-F', tty, 'raw', '-echo', '-echoe', '-echok', '-icrnl', '-onlcr', '115200']);
}

export function haveRealChat(): boolean {
  return existsSync(CHAT_BINARY);
}

/**
 * Runs chat(8) with the tty as its stdin/stdout, as pppd's connect script would.
 * The tty stays open afterwards (call `release()`), as it does under pppd: when the
 * last holder of a modem tty closes it, HUPCL drops DTR and the call is gone.
 */
export async function runRealChat(
  tty: string,
  script: string,
  timeoutMs: number,
  onLog?: (line: string) => void,
): Promise<ChatRun> {
  const dir = mkdtempSync(join(tmpdir(), 'callbackd-chat-'));
  const file = join(dir, 'script');
  writeFileSync(file, script);
  rawTty(tty);
  const fd = openSync(tty, constants.O_RDWR | constants.O_NOCTTY);
  try {
    const child = spawn(CHAT_BINARY, ['-s', '-v', '-f', file], { stdio: [fd, fd, 'pipe'] });
    let log = '';
    let partial = '';
    child.stderr?.on('data', (b: Buffer) => {
      const text = b.toString('latin1');
      log += text;
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) onLog?.(l);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(timer);
    return { ok: code === 0, code, log, release: () => closeSync(fd) };
  } catch (err) {
    closeSync(fd);
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An open caller tty with the helpers a scripted peer needs. */
export class CallerPort {
  private buffer = '';
  /** Each returns true once it is done with the buffer (matched or aborted). */
  private waiters: { test: (b: string) => boolean }[] = [];
  readonly received: Buffer[] = [];

  private constructor(private readonly port: SerialPort) {
    port.on('data', (b: Buffer) => {
      this.received.push(b);
      this.buffer = (this.buffer + b.toString('latin1')).slice(-8192);
      this.waiters = this.waiters.filter((w) => !w.test(this.buffer));
    });
    port.on('error', () => undefined);
  }

  static async open(tty: string): Promise<CallerPort> {
    const port = new SerialPort({ path: tty, baudRate: 115200, lock: false, autoOpen: false, hupcl: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    return new CallerPort(port);
  }

  write(text: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.port.write(text, (e) => (e ? reject(e) : this.port.drain(() => resolve())));
    });
  }

  /** Forgets what arrived so far: the next expect() sees only what comes after this. */
  discard(): void {
    this.buffer = '';
    this.received.length = 0;
  }

  /** Waits until the text seen so far (since the last consume) contains `text`. */
  expect(text: string, timeoutMs: number, aborts: string[] = []): Promise<void> {
    return waitFor<void>(
      (done, fail) => {
        const waiter = {
          test: (b: string) => {
            const abort = aborts.find((a) => b.includes(a));
            if (abort) {
              fail(Object.assign(new Error(`chat aborted on ${JSON.stringify(abort)}`), { abort: true }));
              return true;
            }
            const i = b.indexOf(text);
            if (i < 0) return false;
            this.buffer = b.slice(i + text.length);
            done();
            return true;
          },
        };
        if (!waiter.test(this.buffer)) this.waiters.push(waiter);
        return () => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
        };
      },
      {
        timeoutMs,
        onTimeout: () => new Error(`timed out after ${timeoutMs} ms waiting for ${JSON.stringify(text)}`),
      },
    );
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

/** The built-in chat interpreter on an open caller port. */
export async function runBuiltinChat(
  port: CallerPort,
  script: string,
  trace: (s: string) => void,
): Promise<ChatRun> {
  let log = '';
  const io: ChatIo = {
    write: async (text) => {
      log += `send (${JSON.stringify(text)})\n`;
      trace(`send ${JSON.stringify(text)}`);
      await port.write(text);
    },
    expect: async (text, timeoutMs, aborts) => {
      log += `expect (${JSON.stringify(text)})\n`;
      await port.expect(text, timeoutMs, aborts);
      trace(`got ${JSON.stringify(text)}`);
    },
  };
  try {
    await runChat(parseChat(script), io);
    return { ok: true, code: 0, log, release: () => undefined };
  } catch (err) {
    return { ok: false, code: 3, log: `${log}${(err as Error).message}\n`, release: () => undefined };
  }
}
