// Markdown (the subset our docs use) to a man(7) page. The man pages are generated from
// the documentation at package build time, so there is one source and nothing to drift:
//   callbackd.toml(5) <- docs/configuration.md
//   callbackd(8)      <- packaging/man/callbackd.8.md
// Handled: ## and ### headings, paragraphs, `- ` lists, fenced code, tables (first
// column as the tag, the others as "header: value"), `code`, **bold**, [text](link).

/** roff-escapes plain text: backslash, hyphen-minus, and anything beyond ASCII as \[uXXXX]. */
function esc(text) {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/[^\x00-\x7f]/gu, (c) => `\\[u${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}

function protectLine(line) {
  return /^[.']/.test(line) ? `\\&${line}` : line;
}

/** Inline markup: `code` and **bold** in bold, links as their text. */
export function inline(md) {
  let out = '';
  const re = /`([^`]*)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\([^)]*\)/g;
  let last = 0;
  for (let m; (m = re.exec(md));) {
    out += esc(md.slice(last, m.index));
    if (m[1] !== undefined) out += `\\fB${esc(m[1])}\\fR`;
    else if (m[2] !== undefined) out += `\\fB${esc(m[2])}\\fR`;
    else out += esc(m[3]);
    last = re.lastIndex;
  }
  return out + esc(md.slice(last));
}

function cells(row) {
  return row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/**
 * @param {string} md the Markdown source; its first `# ` heading is dropped (the man
 *   page has NAME instead)
 * @param {{ name: string, section: string, date: string, version: string, summary: string }} page
 */
export function markdownToMan(md, page) {
  const out = [
    `.\\" Generated from Markdown by packaging/man/md2man.mjs; edit the source, not this file.`,
    `.TH ${page.name.toUpperCase()} ${page.section} ${page.date} "callbackd ${page.version}" "callbackd"`,
    '.SH NAME',
    `${esc(page.name)} \\- ${esc(page.summary)}`,
  ];
  const lines = md.split('\n');
  let para = [];
  const flush = () => {
    if (para.length) out.push('.PP', ...para.map((l) => protectLine(inline(l))));
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^# /.test(line)) continue;
    if (/^## /.test(line)) {
      flush();
      out.push(`.SH ${inline(line.slice(3).toUpperCase())}`);
    } else if (/^### /.test(line)) {
      flush();
      out.push(`.SS ${inline(line.slice(4))}`);
    } else if (/^```/.test(line)) {
      flush();
      out.push('.PP', '.RS 4', '.nf');
      for (i++; i < lines.length && !/^```/.test(lines[i]); i++) out.push(protectLine(esc(lines[i])));
      out.push('.fi', '.RE');
    } else if (/^\s*\|/.test(line)) {
      flush();
      const header = cells(line);
      i++; // the | --- | row
      for (; i + 1 < lines.length && /^\s*\|/.test(lines[i + 1]);) {
        const row = cells(lines[++i]);
        out.push('.TP', protectLine(`\\fB${inline(row[0]).replace(/\\fB|\\fR/g, '')}\\fR`));
        for (let c = 1; c < row.length; c++) {
          if (!row[c] || row[c] === '—') continue;
          out.push(
            protectLine(c === row.length - 1 ? inline(row[c]) : `${inline(header[c])}: ${inline(row[c])}.`),
          );
          if (c < row.length - 1) out.push('.br');
        }
      }
    } else if (/^\s*- /.test(line)) {
      flush();
      let item = line.replace(/^\s*- /, '');
      while (i + 1 < lines.length && /^\s{2,}\S/.test(lines[i + 1]) && !/^\s*- /.test(lines[i + 1])) {
        item += ' ' + lines[++i].trim();
      }
      out.push('.IP \\(bu 2', protectLine(inline(item)));
    } else if (line.trim() === '') {
      flush();
    } else {
      para.push(line.trim());
    }
  }
  flush();
  return out.join('\n') + '\n';
}
