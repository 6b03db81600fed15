import type { TerminateCause } from '../call-end.js';
import type { Logger } from '../log.js';
import type { Leg, LegStop, RadiusAccounting } from './accounting.js';

/** What pppd reported at exit (src/ppp/traffic.ts). */
export interface Traffic {
  bytesIn: number;
  bytesOut: number;
  packetsIn?: number;
  packetsOut?: number;
}

interface OpenLeg {
  leg: Leg;
  startedAt: number;
  cancelInterim: () => void;
}

/**
 * The RADIUS accounting of one call: leg 1 is the answered call, leg 2 the call-back.
 * Acct-Session-Id is `<call id>-<leg>`, Acct-Multi-Session-Id the call id. The session
 * calls start() when a leg connects, stop() when leg 1 ends for the call-back, and end()
 * once at teardown, which stops whatever leg is still open with the call's typed
 * terminate cause. Every record is spooled before these return; nothing here throws.
 */
export class CallAccounting {
  private readonly open = new Map<1 | 2, OpenLeg>();

  constructor(
    private readonly acct: RadiusAccounting,
    private readonly call: { callId: string; line: string; lineIndex: number; callerId?: string },
    private readonly o: { log: Logger; now?: () => number; interimMs?: number },
  ) {}

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  async start(
    n: 1 | 2,
    who: { userName?: string; calledId?: string; authentic: 'radius' | 'local' },
  ): Promise<void> {
    if (this.open.has(n)) return;
    const leg: Leg = {
      sessionId: `${this.call.callId}-${n}`,
      multiSessionId: this.call.callId,
      line: this.call.line,
      lineIndex: this.call.lineIndex,
      authentic: who.authentic,
    };
    if (who.userName) leg.userName = who.userName;
    // Leg 1: the caller called us. Leg 2: we called the call-back number.
    if (n === 1 && this.call.callerId) leg.callerId = this.call.callerId;
    if (who.calledId) leg.calledId = who.calledId;
    const startedAt = this.now();
    const cancelInterim = this.acct.every(leg, this.o.interimMs ?? 0, () => ({
      sessionTime: Math.floor((this.now() - startedAt) / 1000),
      terminateCause: 'User-Request',
    }));
    this.open.set(n, { leg, startedAt, cancelInterim });
    await this.safely(() => this.acct.start(leg), leg);
  }

  async stop(n: 1 | 2, terminateCause: TerminateCause, traffic?: Traffic): Promise<void> {
    const open = this.open.get(n);
    if (!open) return;
    this.open.delete(n);
    open.cancelInterim();
    const stop: LegStop = { sessionTime: Math.floor((this.now() - open.startedAt) / 1000), terminateCause };
    if (traffic) {
      stop.inputOctets = traffic.bytesIn;
      stop.outputOctets = traffic.bytesOut;
      if (traffic.packetsIn !== undefined) stop.inputPackets = traffic.packetsIn;
      if (traffic.packetsOut !== undefined) stop.outputPackets = traffic.packetsOut;
    }
    await this.safely(() => this.acct.stop(open.leg, stop), open.leg);
  }

  /**
   * Teardown: every leg still open stops with the call's cause. pppd's traffic belongs to
   * the leg pppd ran on: leg 2, or leg 1 when PPP started without a call-back.
   */
  async end(terminateCause: TerminateCause, traffic?: Traffic): Promise<void> {
    const onLeg2 = this.open.has(2);
    await this.stop(1, terminateCause, onLeg2 ? undefined : traffic);
    await this.stop(2, terminateCause, traffic);
  }

  private async safely(fn: () => Promise<void>, leg: Leg): Promise<void> {
    try {
      await fn();
    } catch (e) {
      // The spool could not be written (disk full, say): the local JSONL record still exists.
      this.o.log.error(
        { err: (e as Error).message, session: leg.sessionId },
        'radius: cannot spool an accounting record',
      );
    }
  }
}
