import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { lstat, unlink } from 'node:fs/promises';
import { CallbackdError } from '../errors.js';
import type { ModemSignals } from '../serial/transport.js';
import type { Exchange } from './exchange.js';

/**
 * DTR and carrier of the virtual modems for a program in another process (a
 * callbackd started separately), over a unix stream socket carrying JSON lines:
 *
 *   -> {"id":1,"op":"dtr","tty":"/dev/pts/3","on":false}   <- {"id":1,"ok":true}
 *   -> {"id":2,"op":"carrier","tty":"/dev/pts/3"}          <- {"id":2,"ok":true,"on":true}
 *   -> {"id":3,"op":"watch","tty":"/dev/pts/3"}            <- {"id":3,"ok":true,"on":true}
 *                                                  later <- {"event":"carrier","tty":"...","on":false}
 * Failures answer {"id":..,"ok":false,"error":"..."}. `tty` may be a link made by addModem.
 */
export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

/** Longest request line accepted; a client sending more is cut off. */
const MAX_LINE = 4096;

export async function serveControl(exchange: Exchange, socketPath: string): Promise<ControlServer> {
  await removeStaleSocket(socketPath);
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    const unwatch: (() => void)[] = [];
    let buf = '';
    const send = (msg: object): void => {
      if (!sock.destroyed) sock.write(`${JSON.stringify(msg)}\n`);
    };
    sock.setEncoding('utf8');
    sock.on('data', (text: string) => {
      buf += text;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) void handle(line).then(send);
      }
      if (buf.length > MAX_LINE) {
        send({ ok: false, error: 'request line too long' });
        sock.destroy();
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      sockets.delete(sock);
      for (const u of unwatch) u();
    });

    async function handle(line: string): Promise<object> {
      let req: { id?: unknown; op?: unknown; tty?: unknown; on?: unknown };
      try {
        req = JSON.parse(line) as typeof req;
      } catch {
        return { ok: false, error: 'not JSON' };
      }
      const id = req.id;
      const fail = (error: string): object => ({ id, ok: false, error });
      if (typeof req.tty !== 'string') return fail('tty must be a string');
      const modem = exchange.modemByTty(req.tty);
      if (!modem) return fail(`no simulated modem on ${req.tty}`);
      const tty = req.tty;
      switch (req.op) {
        case 'dtr':
          if (typeof req.on !== 'boolean') return fail('on must be true or false');
          await modem.signals.setDtr(req.on);
          return { id, ok: true };
        case 'carrier':
          return { id, ok: true, on: await modem.signals.getCarrier() };
        case 'watch':
          unwatch.push(modem.signals.onCarrier((on) => send({ event: 'carrier', tty, on })));
          return { id, ok: true, on: await modem.signals.getCarrier() };
        default:
          return fail(`unknown op ${JSON.stringify(req.op)}`);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closed = false;
  return {
    path: socketPath,
    async close() {
      if (closed) return;
      closed = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await unlink(socketPath).catch(() => undefined);
    },
  };
}

/** A socket file left by a killed simulator would make listen() fail with EADDRINUSE. */
async function removeStaleSocket(path: string): Promise<void> {
  try {
    const st = await lstat(path);
    if (!st.isSocket()) throw new Error(`sim: ${path} exists and is not a socket`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const alive = await new Promise<boolean>((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`sim: another simulator is serving ${path}`);
  await unlink(path);
}

export interface SimSignalsClient extends ModemSignals {
  /** Drops the connection and stops reconnecting. */
  close(): void;
}

export interface SimSignalsOptions {
  /** How long a request may wait for its answer. */
  requestTimeoutMs?: number;
  /** Wait before re-establishing a carrier watch after the connection broke. */
  reconnectMs?: number;
}

/**
 * ModemSignals reached through a simulator's control socket. Connects on first use
 * and again after a failure; every failure is a rejected promise (CallbackdError
 * DEVICE_GONE), never an exception or an 'error' event.
 */
export function connectSimSignals(
  socketPath: string,
  ttyPath: string,
  opts: SimSignalsOptions = {},
): SimSignalsClient {
  const requestTimeoutMs = opts.requestTimeoutMs ?? 2_000;
  const reconnectMs = opts.reconnectMs ?? 500;
  let sock: Socket | undefined;
  let connecting: Promise<Socket> | undefined;
  let nextId = 1;
  let closed = false;
  let buf = '';
  let watching = false;
  let lastCarrier: boolean | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const pending = new Map<
    number,
    { resolve: (m: Reply) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }
  >();
  const listeners = new Set<(on: boolean) => void>();

  type Reply = { id?: number; ok?: boolean; on?: boolean; error?: string; event?: string };
  const gone = (why: string): CallbackdError =>
    new CallbackdError('DEVICE_GONE', `sim control ${socketPath}: ${why}`, {
      socket: socketPath,
      tty: ttyPath,
    });

  const notify = (on: boolean): void => {
    if (on === lastCarrier) return;
    lastCarrier = on;
    for (const fn of [...listeners]) {
      try {
        fn(on);
      } catch {
        // the listener's problem, not the line's
      }
    }
  };

  const onLine = (line: string): void => {
    let msg: Reply;
    try {
      msg = JSON.parse(line) as Reply;
    } catch {
      return;
    }
    if (msg.event === 'carrier' && typeof msg.on === 'boolean') return notify(msg.on);
    const p = typeof msg.id === 'number' ? pending.get(msg.id) : undefined;
    if (!p) return;
    pending.delete(msg.id!);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg);
    else p.reject(gone(msg.error ?? 'request failed'));
  };

  const dropped = (why: string): void => {
    sock = undefined;
    watching = false;
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      p.reject(gone(why));
      pending.delete(id);
    }
    // Carrier listeners expect events to keep coming: re-establish the watch.
    if (!closed && listeners.size > 0 && retry === undefined) {
      retry = setTimeout(() => {
        retry = undefined;
        void ensureWatch();
      }, reconnectMs);
    }
  };

  const connect = (): Promise<Socket> => {
    if (closed) return Promise.reject(gone('client closed'));
    if (sock) return Promise.resolve(sock);
    connecting ??= new Promise<Socket>((resolve, reject) => {
      const s = createConnection(socketPath);
      s.setEncoding('utf8');
      s.once('connect', () => {
        connecting = undefined;
        sock = s;
        resolve(s);
      });
      s.on('data', (text: string) => {
        buf += text;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          onLine(line);
        }
      });
      s.on('error', (err) => {
        if (connecting) {
          connecting = undefined;
          reject(gone(err.message));
        }
      });
      s.on('close', () => {
        buf = '';
        if (sock === s) dropped('connection closed');
      });
    });
    return connecting;
  };

  const request = async (req: Record<string, unknown>): Promise<Reply> => {
    const s = await connect();
    const id = nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(gone(`no answer to ${String(req.op)} within ${requestTimeoutMs} ms`));
      }, requestTimeoutMs);
      pending.set(id, { resolve, reject, timer });
      s.write(`${JSON.stringify({ ...req, id, tty: ttyPath })}\n`);
    });
  };

  const ensureWatch = async (): Promise<void> => {
    if (watching || closed || listeners.size === 0) return;
    watching = true;
    try {
      const r = await request({ op: 'watch' });
      if (typeof r.on === 'boolean') notify(r.on);
    } catch {
      watching = false;
      if (!closed && listeners.size > 0 && retry === undefined) {
        retry = setTimeout(() => {
          retry = undefined;
          void ensureWatch();
        }, reconnectMs);
      }
    }
  };

  return {
    async setDtr(on: boolean) {
      await request({ op: 'dtr', on });
    },
    async getCarrier() {
      const r = await request({ op: 'carrier' });
      return r.on === true;
    },
    onCarrier(fn) {
      listeners.add(fn);
      void ensureWatch();
      return () => {
        listeners.delete(fn);
      };
    },
    close() {
      closed = true;
      if (retry !== undefined) clearTimeout(retry);
      retry = undefined;
      listeners.clear();
      sock?.destroy();
      dropped('client closed');
    },
  };
}
