import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import type { Logger } from '../log.js';
import { CODE, checkResponse, type Packet } from './packet.js';

/** One RADIUS server as the client sees it; the secret never leaves this process. */
export interface RadiusServer {
  host: string;
  authPort: number;
  acctPort: number;
  secret: Buffer;
}

export interface ClientOptions {
  /** Wait for one answer to one transmission. */
  timeoutMs: number;
  /** Retransmissions to one server before it is declared dead and the next one is tried. */
  retries: number;
  /** How long a dead server is skipped before it is tried again. */
  deadTimeMs: number;
  /** Local source address (so a FreeRADIUS client entry can tell us from other NAS software). */
  bindAddress?: string;
  log: Logger;
  now?: () => number;
}

export type Kind = 'auth' | 'acct';

/** What a request builder gets for each transmission. */
export interface Transmission {
  identifier: number;
  secret: Buffer;
  /** 0 for the first packet of the request, counting across servers. */
  count: number;
}

export interface Reply {
  packet: Packet;
  /** host:port that answered. */
  server: string;
}

interface Pending {
  server: RadiusServer;
  port: number;
  authenticator: Buffer;
  kind: Kind;
  resolve: (r: Packet) => void;
  /** Ends the wait without a reply (timeout or close). */
  abandon: () => void;
}

interface ServerState {
  deadUntil: number;
}

const RESPONSE_CODES: Record<Kind, number[]> = {
  auth: [CODE.AccessAccept, CODE.AccessReject, CODE.AccessChallenge],
  acct: [CODE.AccountingResponse],
};

/**
 * UDP transport to an ordered list of servers. A request goes to the first live server;
 * it is retransmitted `retries` times, `timeoutMs` apart; then that server is marked dead
 * for `deadTimeMs` and the next one is tried. When every server is dead, the one whose
 * dead time ends first gets one try, so a recovered server is noticed at the next request.
 * Replies are matched by identifier AND source address; anything that does not verify
 * (unknown identifier, wrong source, wrong authenticator, missing or wrong
 * Message-Authenticator) is dropped and logged, and the request keeps waiting.
 */
export class RadiusClient {
  private readonly pending = new Map<number, Pending>();
  private readonly states: ServerState[];
  private nextId = Math.floor(Math.random() * 256);
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly servers: readonly RadiusServer[],
    private readonly opts: ClientOptions,
  ) {
    this.states = servers.map(() => ({ deadUntil: 0 }));
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
    socket.on('error', (e) => opts.log.warn({ err: e.message }, 'radius: socket error'));
  }

  static async open(servers: readonly RadiusServer[], opts: ClientOptions): Promise<RadiusClient> {
    // Replies are matched by source address, so names are resolved once, here.
    const resolved = await Promise.all(
      servers.map(async (s) => {
        if (isIPv4(s.host)) return s;
        try {
          return { ...s, host: (await lookup(s.host, { family: 4 })).address };
        } catch (e) {
          opts.log.error({ server: s.host, err: (e as Error).message }, 'radius: cannot resolve server name');
          return s;
        }
      }),
    );
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: opts.bindAddress, port: 0 }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new RadiusClient(socket, resolved, opts);
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** Servers in the order to try now. */
  private order(): number[] {
    const now = this.now();
    const live = this.servers
      .map((_, i) => i)
      .filter((i) => (this.states[i] as ServerState).deadUntil <= now);
    if (live.length > 0) return live;
    if (this.servers.length === 0) return [];
    const soonest = this.servers
      .map((_, i) => i)
      .reduce((a, b) =>
        (this.states[b] as ServerState).deadUntil < (this.states[a] as ServerState).deadUntil ? b : a,
      );
    return [soonest];
  }

  /**
   * Sends one request and resolves with the verified reply, or undefined when no server
   * answered. `build` is called for each server (auth: one packet, retransmitted as is)
   * or for every transmission when `rebuild` is set (accounting: Acct-Delay-Time changes,
   * so each transmission is a new packet with a new identifier, RFC 5080 §2.2.1).
   */
  async request(
    kind: Kind,
    build: (t: Transmission) => { packet: Buffer; authenticator: Buffer },
    opts: { rebuild?: boolean } = {},
  ): Promise<Reply | undefined> {
    let count = 0;
    for (const index of this.order()) {
      if (this.closed) return undefined;
      const server = this.servers[index] as RadiusServer;
      const port = kind === 'auth' ? server.authPort : server.acctPort;
      const name = `${server.host}:${port}`;
      let built: { packet: Buffer; authenticator: Buffer; identifier: number } | undefined;
      for (let t = 0; t <= this.opts.retries; t++) {
        if (this.closed) return undefined;
        if (built === undefined || opts.rebuild) {
          if (built) this.pending.delete(built.identifier);
          const identifier = this.allocate();
          if (identifier === undefined) {
            this.opts.log.warn('radius: 256 requests in flight; no identifier free');
            return undefined;
          }
          built = { ...build({ identifier, secret: server.secret, count }), identifier };
        }
        count++;
        const packet = await this.transmit(server, port, kind, built);
        if (packet) {
          const state = this.states[index] as ServerState;
          if (state.deadUntil !== 0) {
            this.opts.log.info({ server: name }, 'radius: server answers again');
            state.deadUntil = 0;
          }
          return { packet, server: name };
        }
      }
      (this.states[index] as ServerState).deadUntil = this.now() + this.opts.deadTimeMs;
      this.opts.log.warn(
        { server: name, deadForMs: this.opts.deadTimeMs },
        'radius: server did not answer; trying the next one',
      );
    }
    return undefined;
  }

  private allocate(): number | undefined {
    for (let i = 0; i < 256; i++) {
      const id = (this.nextId + i) & 0xff;
      if (!this.pending.has(id)) {
        this.nextId = (id + 1) & 0xff;
        return id;
      }
    }
    return undefined;
  }

  private transmit(
    server: RadiusServer,
    port: number,
    kind: Kind,
    built: { packet: Buffer; authenticator: Buffer; identifier: number },
  ): Promise<Packet | undefined> {
    return new Promise((resolve) => {
      const finish = (p: Packet | undefined): void => {
        clearTimeout(timer);
        if (this.pending.get(built.identifier)?.resolve === done) this.pending.delete(built.identifier);
        resolve(p);
      };
      const done = (p: Packet): void => finish(p);
      const timer = setTimeout(() => finish(undefined), this.opts.timeoutMs);
      this.pending.set(built.identifier, {
        server,
        port,
        authenticator: built.authenticator,
        kind,
        resolve: done,
        abandon: () => finish(undefined),
      });
      this.socket.send(built.packet, port, server.host, (err) => {
        if (err)
          this.opts.log.warn({ server: `${server.host}:${port}`, err: err.message }, 'radius: send failed');
      });
    });
  }

  private onMessage(msg: Buffer, address: string, port: number): void {
    const from = `${address}:${port}`;
    if (msg.length < 20) {
      this.opts.log.warn({ from, bytes: msg.length }, 'radius: runt packet dropped');
      return;
    }
    const identifier = msg[1] as number;
    const p = this.pending.get(identifier);
    if (!p) {
      this.opts.log.warn(
        { from, identifier },
        'radius: reply with an identifier we are not waiting for dropped',
      );
      return;
    }
    if (p.server.host !== address || p.port !== port) {
      this.opts.log.warn(
        { from, identifier },
        'radius: reply from a source the request was not sent to dropped',
      );
      return;
    }
    const checked = checkResponse(msg, p.authenticator, p.server.secret);
    if (!checked.ok) {
      this.opts.log.warn({ from, identifier, reason: checked.reason }, 'radius: reply dropped');
      return;
    }
    if (!RESPONSE_CODES[p.kind].includes(checked.packet.code)) {
      this.opts.log.warn(
        { from, identifier, code: checked.packet.code },
        'radius: reply of the wrong kind dropped',
      );
      return;
    }
    p.resolve(checked.packet);
  }

  /** Servers marked dead now, as host:auth port (for status and tests). */
  deadServers(): string[] {
    const now = this.now();
    return this.servers
      .filter((_, i) => (this.states[i] as ServerState).deadUntil > now)
      .map((s) => `${s.host}:${s.authPort}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Requests in flight end now as "no answer" instead of waiting out their timers.
    for (const p of [...this.pending.values()]) p.abandon();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
