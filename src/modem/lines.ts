/**
 * Splits the modem's command-mode output into lines (CR or LF ends a line) with a hard
 * cap, so a modem or caller that never sends a line end cannot grow a buffer forever.
 */
export const MAX_LINE = 256;

export class LineAssembler {
  private buf = '';
  private discarding = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onOverlong: (start: string) => void,
  ) {}

  reset(): void {
    this.buf = '';
    this.discarding = false;
  }

  /** The unterminated text received so far. */
  get partial(): string {
    return this.buf;
  }

  /**
   * Consumes bytes until the end, or until a completed line made `stop()` true (the
   * modem went online: the rest of the chunk is data, not lines). Returns bytes used.
   */
  feedUntilSwitch(chunk: Buffer, stop: () => boolean): number {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === 0x0d || b === 0x0a) {
        const line = this.buf;
        const skipped = this.discarding;
        this.reset();
        if (!skipped) {
          this.onLine(line);
          // CR LF after the line that switched us online belongs to that line.
          if (stop()) return b === 0x0d && chunk[i + 1] === 0x0a ? i + 2 : i + 1;
        }
        continue;
      }
      if (this.discarding) continue;
      this.buf += String.fromCharCode(b);
      if (this.buf.length > MAX_LINE) {
        this.onOverlong(this.buf);
        this.buf = '';
        this.discarding = true;
      }
    }
    return chunk.length;
  }
}
