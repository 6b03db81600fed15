/**
 * mgetty-style tokens in the issue text, prompts and messages. Values that come
 * from outside (caller ID and CONNECT text are sent by the modem, so ultimately by
 * the caller or the exchange) are cut down to printable ASCII before they reach the
 * caller's terminal, and a value is never expanded again.
 */
export interface TokenContext {
  tty: string;
  callerId?: string;
  connect?: string;
  speed?: number;
  host: string;
  now: Date;
  /** The call-back number, shown as given. */
  number?: string;
}

function printable(s: string | undefined): string {
  return (s ?? '').replace(/[^\x20-\x7e]/g, '');
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** Local date as YYYY-MM-DD (the caller's terminal has no time zone of its own). */
function date(d: Date): string {
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

function time(d: Date): string {
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

function escape(c: string, ctx: TokenContext): string | undefined {
  switch (c) {
    case 'P':
    case 'L':
      return printable(ctx.tty);
    case 'Y':
      return printable(ctx.callerId) || 'none';
    case 'I':
      return printable(ctx.connect);
    case 'S':
      return ctx.speed === undefined ? '' : String(ctx.speed);
    case 'D':
      return date(ctx.now);
    case 'T':
      return time(ctx.now);
    case 'N':
      return printable(ctx.number);
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'g':
      return '\x07';
    case '\\':
      return '\\';
    case '@':
      return '@';
    default:
      return undefined;
  }
}

/**
 * Expands `@` (host name) and the backslash tokens \P \L \Y \I \S \D \T \N
 * \n \r \t \b \g \\ \@. An unknown escape is kept as written, so a typo shows up
 * in the text instead of vanishing. Every line end becomes CR LF, because the
 * caller's terminal is raw: a bare LF would only move the cursor down.
 */
export function expandTokens(template: string, ctx: TokenContext): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i] as string;
    if (c === '@') {
      out += printable(ctx.host);
    } else if (c === '\\' && i + 1 < template.length) {
      const next = template[i + 1] as string;
      const value = escape(next, ctx);
      out += value ?? `\\${next}`;
      i++;
    } else {
      out += c;
    }
  }
  return out.replace(/\r*\n/g, '\r\n');
}
