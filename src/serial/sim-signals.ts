import { createConnection, type Socket } from 'node:net';
import { CallbackdError } from '../errors.js';
import type { ModemSignals } from './transport.js';
import { waitFor } from '../wait.js';

/**
 * The client side of the simulator's control socket (src/sim/control.ts serves it):
 * DTR and carrier of a simulated line, one JSON line per request. It lives with serial
 * because the daemon uses it for lines configured with `signals = sim`; the daemon
 * never loads simulator code.
 */
export interface SimSignalsClient extends ModemSignals {
  /**
   * Drops the connection (the transport's close() calls it); the next request or
   * carrier watch connects again. Each transport holds at most one connection.
   */
  release(): void;
  /** Drops the connection and stops reconnecting for good. */
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
  const pending = new Map<number, { resolve: (m: Reply) => void; reject: (e: Error) => void }>();
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
    if (msg.ok) p.resolve(msg);
    else p.reject(gone(msg.error ?? 'request failed'));
  };

  const dropped = (why: string): void => {
    sock = undefined;
    watching = false;
    for (const p of [...pending.values()]) p.reject(gone(why));
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
    return waitFor<Reply>(
      (resolve, reject) => {
        pending.set(id, { resolve, reject });
        return () => pending.delete(id);
      },
      {
        act: () => s.write(`${JSON.stringify({ ...req, id, tty: ttyPath })}\n`),
        timeoutMs: requestTimeoutMs,
        onTimeout: () => gone(`no answer to ${String(req.op)} within ${requestTimeoutMs} ms`),
      },
    );
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
    release() {
      // Not a reconnect: whoever still listens for carrier asks again (ensureWatch).
      const s = sock ?? undefined;
      sock = undefined;
      watching = false;
      s?.destroy();
      for (const p of [...pending.values()]) p.reject(gone('released'));
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
