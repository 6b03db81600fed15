/**
 * Detects the `+++` escape in the data a DTE sends while online: the guard time of
 * silence, three escape characters no further apart than the guard time, and (checked
 * by the caller's timer) the guard time of silence after.
 */
export class EscapeDetector {
  private count = 0;
  private lastEscAt = 0;
  private lastByteAt = 0;

  /** Start of a data phase: the guard time counts from here. */
  reset(t: number): void {
    this.count = 0;
    this.lastByteAt = t;
  }

  /**
   * Feeds bytes that arrived at time t; true when they end with a complete escape,
   * so the caller arms a guard-time timer (and cancels it on the next feed).
   */
  feed(chunk: Buffer, t: number, escChar: number, guardMs: number): boolean {
    for (const b of chunk) {
      const isEsc = escChar <= 127 && b === escChar;
      if (isEsc && this.count === 0 && t - this.lastByteAt >= guardMs) this.count = 1;
      else if (isEsc && this.count > 0 && this.count < 3 && t - this.lastEscAt <= guardMs) this.count++;
      else this.count = 0;
      if (isEsc) this.lastEscAt = t;
      this.lastByteAt = t;
    }
    return this.count === 3;
  }
}
