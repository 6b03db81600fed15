import { tokenizeChat } from '../modem/chat.js';

/**
 * A small interpreter for chat(8) scripts: the demo's caller when the real `chat`
 * (Debian package ppp) is not installed. It understands what the call-back HOWTO's
 * client script uses: TIMEOUT, ABORT, expect/send pairs, `-` sub-expects
 * (`ogin:-\r-ogin:`), quoting, and the escapes \c \d \n \r \t \\ and ''.
 */
export type ChatStep =
  | { kind: 'timeout'; seconds: number }
  | { kind: 'abort'; text: string }
  | { kind: 'expect'; alternatives: { expect: string; send?: string }[]; send: string };

export interface ChatIo {
  write(text: string): Promise<void>;
  /** Resolves with the matching text, or rejects on timeout / abort string. */
  expect(text: string, timeoutMs: number, aborts: string[]): Promise<void>;
}

/** chat(8) tokens: the modem init's tokenizer, with chat's `#` comment lines left out. */
export function tokenize(script: string): string[] {
  return tokenizeChat(
    script
      .split('\n')
      .filter((l) => !/^\s*#/.test(l))
      .join('\n'),
  );
}

export function parseChat(script: string): ChatStep[] {
  const t = tokenize(script);
  const steps: ChatStep[] = [];
  for (let i = 0; i < t.length; i += 2) {
    const word = t[i]!;
    const arg = t[i + 1] ?? '';
    if (word === 'TIMEOUT') steps.push({ kind: 'timeout', seconds: Number(arg) });
    else if (word === 'ABORT') steps.push({ kind: 'abort', text: unescape(arg) });
    else steps.push({ kind: 'expect', alternatives: subExpects(word), send: arg });
  }
  return steps;
}

/** `a-s-b`: expect a; if it times out, send s and expect b (`a-s` sends s and goes on). */
function subExpects(word: string): { expect: string; send?: string }[] {
  const parts = word.split('-');
  const out: { expect: string; send?: string }[] = [{ expect: unescape(parts[0]!) }];
  for (let i = 1; i < parts.length; i += 2) {
    out.push({ send: parts[i]!, expect: unescape(parts[i + 1] ?? '') });
  }
  return out;
}

export function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_m, c: string) =>
    c === 'n'
      ? '\n'
      : c === 'r'
        ? '\r'
        : c === 't'
          ? '\t'
          : c === 's'
            ? ' '
            : c === 'c' || c === 'd'
              ? ''
              : c,
  );
}

/** chat sends a carriage return after each string unless it ends in \c. */
export function sendText(s: string): string {
  const body = unescape(s.replace(/\\c$/, ''));
  return s.endsWith('\\c') ? body : `${body}\r`;
}

export async function runChat(steps: ChatStep[], io: ChatIo): Promise<void> {
  let timeoutMs = 45_000;
  const aborts: string[] = [];
  for (const step of steps) {
    if (step.kind === 'timeout') timeoutMs = step.seconds * 1000;
    else if (step.kind === 'abort') aborts.push(step.text);
    else {
      await expectOne(step.alternatives, timeoutMs, aborts, io);
      // An empty send string still sends the carriage return, as chat(8) does.
      await io.write(sendText(step.send));
    }
  }
}

async function expectOne(
  alternatives: { expect: string; send?: string }[],
  timeoutMs: number,
  aborts: string[],
  io: ChatIo,
): Promise<void> {
  for (let i = 0; i < alternatives.length; i++) {
    const alt = alternatives[i]!;
    if (alt.send !== undefined) await io.write(sendText(alt.send));
    if (alt.expect === '') return;
    try {
      await io.expect(alt.expect, timeoutMs, aborts);
      return;
    } catch (err) {
      if (i === alternatives.length - 1 || (err as { abort?: boolean }).abort) throw err;
    }
  }
}
