/** A small TOML writer for import-mgetty: keys, strings, arrays and comments only. */

/**
 * A TOML string holding exactly `s`. Literal '...' when possible, so mgetty's
 * backslash tokens (\d, \n) read as written; basic "..." with escapes otherwise.
 */
export function quote(s: string): string {
  if (!/['\x00-\x08\x0a-\x1f\x7f]/.test(s)) return `'${s}'`;
  const esc = s.replace(/[\\"\x00-\x1f\x7f]/g, (c) => {
    if (c === '\\') return '\\\\';
    if (c === '"') return '\\"';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return `"${esc}"`;
}

export type TomlValue = string | number | boolean | string[];

export function value(v: TomlValue): string {
  if (Array.isArray(v)) return `[${v.map(quote).join(', ')}]`;
  if (typeof v === 'string') return quote(v);
  return String(v);
}

/** TOML comments may hold tabs but no other control character (found by `npm run fuzz`). */
function printable(s: string): string {
  return s.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '?');
}

export class Toml {
  private readonly rows: string[] = [];

  comment(text: string): void {
    // A newline inside a comment would start a line of TOML; other control bytes are not allowed in one.
    for (const part of text.split(/\r?\n/)) this.rows.push(part === '' ? '#' : `# ${printable(part)}`);
  }

  table(name: string): void {
    this.rows.push(`[${name}]`);
  }

  arrayTable(name: string): void {
    this.rows.push(`[[${name}]]`);
  }

  kv(key: string, v: TomlValue, note?: string): void {
    const text = note === undefined ? '' : `  # ${printable(note.replace(/[\r\n]+/g, ' '))}`;
    this.rows.push(`${key} = ${value(v)}${text}`);
  }

  /** Rows already formatted (a block built by another Toml). */
  raw(row: string): void {
    this.rows.push(row);
  }

  blank(): void {
    if (this.rows.length > 0 && this.rows[this.rows.length - 1] !== '') this.rows.push('');
  }

  text(): string {
    return this.rows.join('\n').replace(/\n+$/, '') + '\n';
  }
}
