import { spawn, execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseChat, runChat, type ChatIo } from './chat-script.js';
import type { Terminal } from './terminal.js';
import { stdioWithoutMasters } from './pty.js';

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
    const child = spawn(CHAT_BINARY, ['-s', '-v', '-f', file], {
      stdio: stdioWithoutMasters([fd, fd, 'pipe']),
    });
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

/** The built-in chat interpreter on an open caller port. */
export async function runBuiltinChat(
  port: Terminal,
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
