import { createConnection, type Socket } from 'node:net';
import { CallbackdError } from '../errors.js';
import type { ModemSignals } from '../serial/transport.js';

/** The client side of the control socket described in control.ts. */
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
