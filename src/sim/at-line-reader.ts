/**
 * Collects a Hayes command line from the bytes a DTE sends in command mode: skips
 * everything up to `AT`, edits with backspace, ends at S3 (CR), and turns `A/` into
 * a repeat of the last line. Pure: it says what to echo and what to run.
 */
export interface LineAction {
  /** Bytes to echo (when E1). */
  echo: string;
  /** A complete line body (the text after AT) to execute. */
  execute?: string;
  /** The line grew past the limit and was thrown away. */
  overflow?: boolean;
}

/** Longest command line kept; real modems have buffers of 40 to 256 characters. */
export const MAX_LINE = 255;

export class CommandLineReader {
  private phase: 'seekA' | 'seekT' | 'line' = 'seekA';
  private body = '';
  private last = '';

  reset(): void {
    this.phase = 'seekA';
    this.body = '';
  }

  feed(byte: number, cr: number, backspace: number): LineAction {
    const code = byte & 0x7f;
    const ch = String.fromCharCode(code);
    const up = ch.toUpperCase();
    if (this.phase === 'seekA') {
      if (up === 'A') this.phase = 'seekT';
      return { echo: '' };
    }
    if (this.phase === 'seekT') {
      if (up === 'T') {
        this.phase = 'line';
        this.body = '';
        return { echo: `A${ch}` };
      }
      if (ch === '/') {
        this.phase = 'seekA';
        return { echo: 'A/', execute: this.last };
      }
      if (up !== 'A') this.phase = 'seekA';
      return { echo: '' };
    }
    if (code === cr) {
      this.phase = 'seekA';
      this.last = this.body;
      return { echo: ch, execute: this.body };
    }
    if (code === backspace || code === 0x7f) {
      this.body = this.body.slice(0, -1);
      return { echo: ch };
    }
    if (code < 0x20) return { echo: '' };
    this.body += ch;
    if (this.body.length > MAX_LINE) {
      this.reset();
      return { echo: ch, overflow: true };
    }
    return { echo: ch };
  }
}
