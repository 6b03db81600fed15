/**
 * Finds the line of a key in the TOML text, so that a validation problem can be
 * reported as `file:line: key.path`. smol-toml gives positions only for syntax
 * errors, so we scan the text ourselves: table headers set the current table
 * (array tables get an index, `[lines.timing]` belongs to the latest `[[lines]]`),
 * and `key = ...` lines are recorded under that table. Good enough for the shapes a
 * person writes; anything we miss falls back to the enclosing table's line.
 */
export class KeyLocator {
  private readonly lines = new Map<string, number>();

  constructor(text: string) {
    const counts = new Map<string, number>();
    let table = '';
    let inMultiline: string | undefined;
    const rows = text.split(/\r?\n/);
    rows.forEach((raw, i) => {
      const lineNo = i + 1;
      if (inMultiline) {
        if (countOf(raw, inMultiline) % 2 === 1) inMultiline = undefined;
        return;
      }
      const row = raw.trim();
      const header = /^\[(\[?)\s*([^\]]+?)\s*\]\]?/.exec(row);
      if (header) {
        const parts = splitKey(header[2] as string);
        // Resolve each prefix of the header to the latest element of an array table.
        let path = '';
        for (let p = 0; p < parts.length; p++) {
          path = path === '' ? (parts[p] as string) : `${path}.${parts[p]}`;
          const isLast = p === parts.length - 1;
          if (isLast && header[1] === '[') {
            const n = counts.get(path) ?? 0;
            counts.set(path, n + 1);
            path = `${path}[${n}]`;
          } else if (counts.has(path)) {
            path = `${path}[${(counts.get(path) as number) - 1}]`;
          }
        }
        table = path;
        this.record(table, lineNo);
        return;
      }
      const kv =
        /^((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=\s*(.*)$/.exec(
          row,
        );
      if (!kv) return;
      const key = join(table, splitKey(kv[1] as string).join('.'));
      this.record(key, lineNo);
      const value = kv[2] as string;
      if (value.startsWith('{')) {
        // Inline table: its keys live on this line too.
        for (const m of value.matchAll(/([A-Za-z0-9_-]+)\s*=/g)) this.record(`${key}.${m[1]}`, lineNo);
      }
      for (const quote of ['"""', "'''"]) {
        if (value.includes(quote) && countOf(value, quote) % 2 === 1) inMultiline = quote;
      }
    });
  }

  private record(path: string, line: number): void {
    if (!this.lines.has(path)) this.lines.set(path, line);
  }

  /** Line of `path` (e.g. `lines[0].timing.answer`), or of its nearest recorded parent. */
  lineOf(path: string): number | undefined {
    let p = path;
    for (;;) {
      const found = this.lines.get(p);
      if (found !== undefined) return found;
      const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      if (cut <= 0) return undefined;
      p = p.slice(0, cut);
    }
  }
}

function join(table: string, key: string): string {
  return table === '' ? key : `${table}.${key}`;
}

function splitKey(key: string): string[] {
  const parts: string[] = [];
  for (const m of key.matchAll(/\s*("([^"]*)"|'([^']*)'|[^.\s]+)\s*(?:\.|$)/g)) {
    parts.push(m[2] ?? m[3] ?? (m[1] as string));
  }
  return parts;
}

function countOf(s: string, needle: string): number {
  return s.split(needle).length - 1;
}
