import type { CallerIdInfo } from './results.js';
import type { RingEvent } from './types.js';

/**
 * Groups RINGs into calls (RINGs more than ringGapMs apart start a new one) and keeps
 * the caller ID heard around them. Pure: the caller passes the time in.
 */
export class RingTracker {
  private count = 0;
  private lastAt = -Infinity;
  private cid: Omit<RingEvent, 'count'> | undefined;
  private cidAt = -Infinity;

  constructor(private readonly ringGapMs: number) {}

  callerId(info: CallerIdInfo, now: number): void {
    if (now - this.cidAt > this.ringGapMs) this.cid = undefined;
    const c = { ...(this.cid ?? {}) };
    if (info.kind === 'number') c.callerId = info.number;
    else if (info.kind === 'withheld') c.callerIdWithheld = info.reason;
    else if (info.kind === 'name') c.callerName = info.name;
    this.cid = c;
    this.cidAt = now;
  }

  ring(now: number): RingEvent {
    if (now - this.lastAt > this.ringGapMs) {
      this.count = 0;
      // Caller ID may come before the first RING (some exchanges): keep it if recent.
      if (now - this.cidAt > this.ringGapMs) this.cid = undefined;
    }
    this.count++;
    this.lastAt = now;
    return { count: this.count, ...(this.cid ?? {}) };
  }
}
