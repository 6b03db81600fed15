import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { lstat, unlink } from 'node:fs/promises';
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
  /** Client connections open now. */
  readonly connections: number;
  /** Resolves once at most n client connections are open. */
  whenConnectionsAtMost(n: number): Promise<void>;
  close(): Promise<void>;
}

/** Longest request line accepted; a client sending more is cut off. */
const MAX_LINE = 4096;

export async function serveControl(exchange: Exchange, socketPath: string): Promise<ControlServer> {
  await removeStaleSocket(socketPath);
  const sockets = new Set<Socket>();
  const countWaiters = new Set<() => void>();
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
      for (const w of [...countWaiters]) w();
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
    get connections() {
      return sockets.size;
    },
    whenConnectionsAtMost(n: number) {
      return new Promise<void>((resolve) => {
        const check = () => {
          if (sockets.size > n) return;
          countWaiters.delete(check);
          resolve();
        };
        countWaiters.add(check);
        check();
      });
    },
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

// The client side lives with serial (the daemon uses it); re-exported for the simulator's users.
export { connectSimSignals } from '../serial/sim-signals.js';
export type { SimSignalsClient, SimSignalsOptions } from '../serial/sim-signals.js';
