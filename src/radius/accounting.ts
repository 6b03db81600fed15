import { TERMINATE_CAUSES, type TerminateCause } from '../call-end.js';
import type { Logger } from '../log.js';
import type { NasIdentity } from './auth.js';
import type { RadiusClient } from './client.js';
import { ACCT_STATUS, ATTR, encodeAccountingRequest, int, ipv4, str, type Attribute } from './packet.js';
import { Spool } from './spool.js';

/** RFC 2866 §5.10 Acct-Terminate-Cause values, from the typed end of a call (value = index + 1). */
export const TERMINATE_CAUSE_CODES: Readonly<Record<TerminateCause, number>> = Object.fromEntries(
  TERMINATE_CAUSES.map((c, i) => [c, i + 1]),
) as Record<TerminateCause, number>;

/** One leg of a call: the answered call, or the call-back. */
export interface Leg {
  /** Acct-Session-Id: unique per leg (e.g. `<callId>-1`, `<callId>-2`). */
  sessionId: string;
  /** Acct-Multi-Session-Id: the call id, shared by both legs of a call-back. */
  multiSessionId: string;
  userName?: string;
  line: string;
  lineIndex: number;
  callerId?: string;
  calledId?: string;
  /** Whether RADIUS authenticated this leg (Acct-Authentic RADIUS) or the local file did. */
  authentic: 'radius' | 'local';
}

export interface LegStop {
  /** Seconds from the leg's start. */
  sessionTime: number;
  terminateCause: TerminateCause;
  inputOctets?: number;
  outputOctets?: number;
  inputPackets?: number;
  outputPackets?: number;
}

/** What the spool holds: enough to build the packet again after a restart. */
interface SpooledRecord {
  status: 'start' | 'stop' | 'interim';
  /** ms since the epoch when the event happened (Event-Timestamp; Acct-Delay-Time counts from it). */
  at: number;
  leg: Leg;
  stop?: LegStop;
  nas: NasIdentity;
}

export interface AccountingOptions {
  client: RadiusClient;
  nas: NasIdentity;
  /** The spool directory (under the state directory). */
  spoolDir: string;
  log: Logger;
  /** After no server answered, wait this long before sending again. */
  retryMs: number;
  now?: () => number;
}

/**
 * RADIUS accounting with a write-ahead spool. Every record is put in the spool (fsync'd)
 * before anything is sent; one sender sends the oldest record until a server
 * acknowledges it, then removes it and goes on. So records go out in order (Start before
 * Stop), survive restarts and outages, and leave the spool only once acknowledged. Each
 * transmission is a fresh packet with the current Acct-Delay-Time. The only duplicate
 * possible is a crash between a server's acknowledgement and the unlink; the resent
 * packet has the same Acct-Session-Id, status and Event-Timestamp, which is what
 * accounting servers de-duplicate on.
 */
export class RadiusAccounting {
  private running = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  private constructor(
    private readonly spool: Spool<SpooledRecord>,
    private readonly o: AccountingOptions,
  ) {}

  static async open(o: AccountingOptions): Promise<RadiusAccounting> {
    const a = new RadiusAccounting(await Spool.open<SpooledRecord>(o.spoolDir), o);
    const queued = (await a.spool.list()).length;
    if (queued > 0) o.log.info({ queued }, 'radius: accounting records left in the spool; sending them');
    a.kick();
    return a;
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  start(leg: Leg): Promise<void> {
    return this.record({ status: 'start', at: this.now(), leg, nas: this.o.nas });
  }

  interim(leg: Leg, progress: LegStop): Promise<void> {
    return this.record({ status: 'interim', at: this.now(), leg, stop: progress, nas: this.o.nas });
  }

  /**
   * Sends an Interim-Update every `intervalMs` with what `progress()` says, until the
   * returned function is called (before the leg's Stop). A failure to spool is logged.
   */
  every(leg: Leg, intervalMs: number, progress: () => LegStop): () => void {
    if (intervalMs <= 0) return () => {};
    const timer = setInterval(() => {
      this.interim(leg, progress()).catch((e: unknown) =>
        this.o.log.error(
          { err: (e as Error).message, session: leg.sessionId },
          'radius: cannot spool an interim update',
        ),
      );
    }, intervalMs);
    return () => clearInterval(timer);
  }

  stop(leg: Leg, stop: LegStop): Promise<void> {
    return this.record({ status: 'stop', at: this.now(), leg, stop, nas: this.o.nas });
  }

  /** Resolves once the record is on disk; delivery happens in the background. */
  private async record(r: SpooledRecord): Promise<void> {
    await this.spool.put(r);
    this.kick();
  }

  /** Number of records waiting. */
  async queued(): Promise<number> {
    return (await this.spool.list()).length;
  }

  /** Resolves when the spool is empty and the sender idle (tests, shutdown). */
  async drained(): Promise<void> {
    for (;;) {
      if (!this.running && (await this.queued()) === 0) return;
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  /** Send now (a new record, or a retry); a no-op while the sender runs. */
  kick(): void {
    if (this.closed || this.running) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.running = true;
    void this.drain()
      .catch((e: unknown) =>
        this.o.log.error({ err: (e as Error).message }, 'radius: accounting spool error'),
      )
      .finally(() => {
        this.running = false;
        for (const w of this.idleWaiters.splice(0)) w();
      });
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const [name] = await this.spool.list();
      if (name === undefined) return;
      const rec = await this.spool.read(name);
      if (rec === undefined) {
        this.o.log.error({ file: name }, 'radius: unreadable accounting spool file set aside (.bad)');
        continue;
      }
      const reply = await this.o.client.request(
        'acct',
        (t) => encodeAccountingRequest(t.identifier, this.attributes(rec), t.secret),
        { rebuild: true },
      );
      if (!reply) {
        this.o.log.warn(
          { queued: (await this.spool.list()).length, retryMs: this.o.retryMs },
          'radius: no accounting server answered; records stay in the spool',
        );
        if (!this.closed) this.retryTimer = setTimeout(() => this.kick(), this.o.retryMs);
        return;
      }
      await this.spool.remove(name);
      this.o.log.debug(
        { server: reply.server, status: rec.status, session: rec.leg.sessionId },
        'radius: accounting record delivered',
      );
    }
  }

  private attributes(r: SpooledRecord): Attribute[] {
    const { leg, nas } = r;
    const status = { start: ACCT_STATUS.Start, stop: ACCT_STATUS.Stop, interim: ACCT_STATUS.InterimUpdate }[
      r.status
    ];
    const attrs: Attribute[] = [
      int(ATTR.AcctStatusType, status),
      str(ATTR.AcctSessionId, leg.sessionId),
      str(ATTR.AcctMultiSessionId, leg.multiSessionId),
    ];
    if (leg.userName) attrs.push(str(ATTR.UserName, leg.userName));
    if (nas.nasIdentifier) attrs.push(str(ATTR.NasIdentifier, nas.nasIdentifier));
    if (nas.nasIpAddress) attrs.push(ipv4(ATTR.NasIpAddress, nas.nasIpAddress));
    attrs.push(int(ATTR.NasPort, leg.lineIndex), str(ATTR.NasPortId, leg.line), int(ATTR.NasPortType, 0));
    if (leg.callerId) attrs.push(str(ATTR.CallingStationId, leg.callerId));
    if (leg.calledId) attrs.push(str(ATTR.CalledStationId, leg.calledId));
    attrs.push(int(ATTR.AcctAuthentic, leg.authentic === 'radius' ? 1 : 2));
    attrs.push(int(ATTR.EventTimestamp, Math.floor(r.at / 1000)));
    attrs.push(int(ATTR.AcctDelayTime, Math.max(0, Math.floor((this.now() - r.at) / 1000))));
    const s = r.stop;
    if (s) {
      attrs.push(int(ATTR.AcctSessionTime, Math.max(0, Math.floor(s.sessionTime))));
      if (s.inputOctets !== undefined) attrs.push(int(ATTR.AcctInputOctets, s.inputOctets % 2 ** 32));
      if (s.outputOctets !== undefined) attrs.push(int(ATTR.AcctOutputOctets, s.outputOctets % 2 ** 32));
      if (s.inputPackets !== undefined) attrs.push(int(ATTR.AcctInputPackets, s.inputPackets % 2 ** 32));
      if (s.outputPackets !== undefined) attrs.push(int(ATTR.AcctOutputPackets, s.outputPackets % 2 ** 32));
      if (r.status === 'stop') {
        attrs.push(
          int(
            ATTR.AcctTerminateCause,
            TERMINATE_CAUSE_CODES[s.terminateCause] ?? TERMINATE_CAUSE_CODES['NAS-Error'],
          ),
        );
      }
    }
    return attrs;
  }

  /**
   * Stops sending. Resolves once the sender is idle, so no second instance on the same
   * spool (a reload) can send a record this one is still sending. Close the client after
   * calling this (not after awaiting it) to end a request in flight at once.
   */
  close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (!this.running) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
