import { isIPv4 } from 'node:net';

/**
 * Field formats shared by the section readers. Each returns a reason string when
 * the value is bad, undefined when it is fine. Reasons never quote secrets.
 */

/** Login names: what a caller can type at `login:` and what pppd may see as a user. */
export function loginNameProblem(name: string, maxLength: number): string | undefined {
  if (name === '') return 'must not be empty';
  if (name.startsWith('-')) return 'must not start with "-" (it would read as an option)';
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return 'may contain only letters, digits, ".", "_" and "-"';
  if (name.length > 32) return 'is longer than 32 characters';
  if (name.length > maxLength)
    return `is longer than login.max_length (${maxLength}), so nobody could type it`;
  return undefined;
}

/** Modifiers the modem layer accepts in a dial string besides digits. */
export const DIAL_MODIFIERS = ',W*#+';

/** A fixed call-back number: digits plus dial modifiers, nothing an AT command could hide in. */
export function dialNumberProblem(number: string): string | undefined {
  if (!/[0-9]/.test(number)) return 'must contain digits';
  const bad = [...number].filter((c) => !/[0-9]/.test(c) && !DIAL_MODIFIERS.includes(c));
  if (bad.length > 0) return `may contain only digits and the dial modifiers ${DIAL_MODIFIERS}`;
  if (number.length > 40) return 'is longer than 40 characters';
  return undefined;
}

export function modifiersProblem(modifiers: string): string | undefined {
  const bad = [...modifiers].filter((c) => !DIAL_MODIFIERS.includes(c));
  return bad.length > 0 ? `may contain only ${DIAL_MODIFIERS}` : undefined;
}

/** A number rule: a digit prefix, or a /regex/ that compiles. */
export function numberRuleProblem(rule: string): string | undefined {
  if (rule.length >= 2 && rule.startsWith('/') && rule.endsWith('/')) {
    try {
      new RegExp(rule.slice(1, -1));
      return undefined;
    } catch (e) {
      return `regular expression does not compile: ${(e as Error).message}`;
    }
  }
  if (/^[0-9]+$/.test(rule)) return undefined;
  return `"${rule}" is neither a digit prefix nor a /regex/`;
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
