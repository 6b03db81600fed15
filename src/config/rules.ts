import { isIPv4 } from 'node:net';
import { dialStringProblem } from './dial-string.js';
import { loginNameSyntaxProblem } from './login-name.js';

/**
 * Field formats shared by the section readers. Each returns a reason string when
 * the value is bad, undefined when it is fine. Reasons never quote secrets.
 */

/** Login names: what a caller can type at `login:` and what pppd may see as a user. */
export function loginNameProblem(name: string, maxLength: number): string | undefined {
  const problem = loginNameSyntaxProblem(name);
  if (problem !== undefined) return problem;
  if (name.length > maxLength)
    return `is longer than login.max_length (${maxLength}), so nobody could type it`;
  return undefined;
}

/**
 * Number rules are checked with the same functions the policy applies them with
 * (number-rules.ts, dial-string.ts sit below both), so that what the config accepts
 * is exactly what the policy can apply at call time.
 */
export { DIAL_MODIFIERS } from './dial-string.js';
export { digitPrefixProblem, modifiersProblem, numberRuleProblem } from './number-rules.js';

/** A fixed call-back number: digits plus dial modifiers, nothing an AT command could hide in. */
export function dialNumberProblem(number: string): string | undefined {
  return dialStringProblem(number);
}

/** Caller-ID screening tokens, mgetty dialin.config style. */
export function callerIdRuleProblem(rule: string): string | undefined {
  if (/^!?(all|none|\+?[0-9]+)$/.test(rule)) return undefined;
  return `"${rule}" is not a caller-ID rule (digits prefix, "all" or "none", optionally preceded by "!")`;
}

export function ipv4Problem(address: string): string | undefined {
  return isIPv4(address) ? undefined : `"${address}" is not an IPv4 address`;
}

export function absolutePathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return `"${path}" is not an absolute path`;
  if (/[\0\n]/.test(path)) return 'contains NUL or a newline';
  return undefined;
}

/** argv elements reach pppd unchanged (no shell), but NUL cannot be passed and newlines mean a mistake. */
export function argvProblem(args: string[]): string | undefined {
  const i = args.findIndex((a) => a === '' || /[\0\r\n]/.test(a));
  return i < 0 ? undefined : `element ${i} is empty or contains NUL or a newline`;
}

export const SPEEDS = [
  300, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600,
] as const;

export const DIAL_PREFIX = /^AT[D][TP]?$/i;

/** A listen address: an absolute unix socket path, or host:port ([v6]:port) with port 1..65535. */
export function listenProblem(v: string): string | undefined {
  if (v.startsWith('/')) return absolutePathProblem(v);
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    return 'must be host:port (e.g. "127.0.0.1:9464") or an absolute unix socket path';
  }
  return undefined;
}
