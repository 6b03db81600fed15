import { CallbackdError } from '../errors.js';

/**
 * mgetty-style chat scripts: whitespace-separated tokens, alternating expect and send,
 * starting with an expect. `""` or `''` is an empty expect (send without waiting).
 * In send strings `\d` pauses, `\c` suppresses the trailing CR, and `\r \n \s \\`
 * are the usual escapes.
 */

export type SendPart = { kind: 'text'; text: string } | { kind: 'pause' };

export interface ChatStep {
  /** Substring to wait for before sending; '' = do not wait. */
  expect: string;
  /** What to send after the expect matched; undefined for a trailing expect. */
  send?: SendPart[];
  /** The send token as written, for error messages. */
  sendSource?: string;
}

/** Splits a script into tokens; quotes group words and may be empty. */
export function tokenizeChat(script: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < script.length) {
    const c = script[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = script.indexOf(c, i + 1);
      if (end < 0) throw new CallbackdError('CONFIG_INVALID', `chat script: unterminated ${c} in: ${script}`);
      tokens.push(script.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < script.length && !/\s/.test(script[j]!)) j++;
    tokens.push(script.slice(i, j));
    i = j;
  }
  return tokens;
}

/** A send token's parts, with the trailing CR added unless it ends in `\c`. */
export function parseSend(token: string): SendPart[] {
  const parts: SendPart[] = [];
  let text = '';
  let addCr = true;
  const flush = () => {
    if (text) parts.push({ kind: 'text', text });
    text = '';
  };
  for (let i = 0; i < token.length; i++) {
    const c = token[i]!;
    if (c !== '\\' || i + 1 >= token.length) {
      text += c;
      continue;
    }
    const e = token[++i]!;
    if (e === 'd') {
      flush();
      parts.push({ kind: 'pause' });
    } else if (e === 'c' && i === token.length - 1) addCr = false;
    else if (e === 'r') text += '\r';
    else if (e === 'n') text += '\n';
    else if (e === 's') text += ' ';
    else if (e === '\\') text += '\\';
    else
      throw new CallbackdError(
        'CONFIG_INVALID',
        `chat script: unknown escape \\${e} in ${JSON.stringify(token)}`,
      );
  }
  if (addCr) text += '\r';
  flush();
  return parts;
}

export function parseChat(script: string): ChatStep[] {
  const tokens = tokenizeChat(script);
  if (tokens.length === 0) throw new CallbackdError('CONFIG_INVALID', 'chat script is empty');
  const steps: ChatStep[] = [];
  for (let i = 0; i < tokens.length; i += 2) {
    const expect = tokens[i]!;
    const send = tokens[i + 1];
    steps.push(send === undefined ? { expect } : { expect, send: parseSend(send), sendSource: send });
  }
  return steps;
}
