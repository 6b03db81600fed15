import { chmod, mkdir, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../log.js';
import type { StatusSnapshot } from './status.js';

/**
 * The control socket: JSON lines over a unix stream socket (default
 * /run/callbackd/control, mode 0600 in a root-only directory). One request object a
 * line, one answer object a line, in order:
 *
 *   {"cmd":"status"}                                   -> {"ok":true,"status":{...}}
 *   {"cmd":"line","line":"ttyS1","enabled":false}      -> {"ok":true}
 *   {"cmd":"test-call","entry":"call","line":"ttyS2"}  -> {"ok":true,"line":"ttyS2","callId":"..."}
 *   {"cmd":"reload"}                                   -> {"ok":false,"error":"...","problems":[...]}
 *
 * The daemon implements ControlTarget; this module knows nothing of lines or sessions.
 */
export interface ControlStatus extends StatusSnapshot {
  /** sha256 of the configuration file's bytes the running config was parsed from. */
  configHash: string;
  lastReload?: { at: string; ok: boolean; problems?: string[] };
}

export type ReloadResult = { ok: true; configHash: string } | { ok: false; problems: string[] };

export interface ControlTarget {
  status(): ControlStatus;
  /** Throws a message for the operator when the line does not exist. */
  setLineEnabled(line: string, enabled: boolean): void;
  testCall(entry: string, opts: { line?: string; number?: string }): { line: string; callId: string };
  reload(): Promise<ReloadResult>;
  /** Follows a line's trace until the returned function is called. */
  trace?(line: string, fn: (traceLine: string) => void): () => void;
}

export type ControlRequest =
  | { cmd: 'status' }
  | { cmd: 'line'; line: string; enabled: boolean }
  | { cmd: 'test-call'; entry: string; line?: string; number?: string }
  | { cmd: 'reload' }
  | { cmd: 'trace'; line: string };

export type ControlResponse = { ok: boolean; error?: string } & Record<string, unknown>;

const MAX_REQUEST = 4096;

export async function handleRequest(target: ControlTarget, raw: string): Promise<ControlResponse> {
  let req: Partial<ControlRequest> & Record<string, unknown>;
  try {
    req = JSON.parse(raw) as typeof req;
  } catch {
    return { ok: false, error: 'not a JSON object' };
  }
  const str = (k: string): string | undefined =>
    typeof req[k] === 'string' ? (req[k] as string) : undefined;
  try {
    switch (req.cmd) {
      case 'status':
        return { ok: true, status: target.status() };
      case 'line': {
        const line = str('line');
        if (!line || typeof req.enabled !== 'boolean')
          return { ok: false, error: 'line needs "line" and "enabled"' };
        target.setLineEnabled(line, req.enabled);
        return { ok: true };
      }
      case 'test-call': {
        const entry = str('entry');
        if (!entry) return { ok: false, error: 'test-call needs "entry"' };
        return { ok: true, ...target.testCall(entry, { line: str('line'), number: str('number') }) };
      }
      case 'reload': {
        const r = await target.reload();
        return r.ok
          ? { ok: true, configHash: r.configHash }
          : { ok: false, error: 'configuration rejected', problems: r.problems };
      }
      default:
        return { ok: false, error: `unknown command ${JSON.stringify(String(req.cmd))}` };
    }
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

export class ControlServer {
  private server?: Server;
  private readonly clients = new Set<Socket>();

  constructor(
    private readonly path: string,
    private readonly target: ControlTarget,
    private readonly log: Logger,
  ) {}

  /** Listens; a failure is logged and the daemon runs on without a control socket. */
  async start(): Promise<boolean> {
    try {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o750 });
      if (await answers(this.path)) {
        this.log.error({ event: 'control-failed', socket: this.path, err: 'another daemon answers on it' });
        return false;
      }
      await unlink(this.path).catch(() => undefined); // a stale socket of an earlier run
      const server = createServer((s) => this.serve(s));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.path, () => resolve());
      });
      await chmod(this.path, 0o600);
      server.on('error', (err) =>
        this.log.error({ event: 'control-failed', socket: this.path, err: err.message }),
      );
      this.server = server;
      this.log.info({ event: 'control-listening', socket: this.path });
      return true;
    } catch (err) {
      this.log.error({ event: 'control-failed', socket: this.path, err: (err as Error).message });
      return false;
    }
  }

  private serve(sock: Socket): void {
    this.clients.add(sock);
    sock.once('close', () => this.clients.delete(sock));
    let buf = '';
    let chain = Promise.resolve();
    sock.setEncoding('utf8');
    sock.on('error', () => undefined);
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REQUEST && !buf.includes('\n')) {
        sock.end(JSON.stringify({ ok: false, error: 'request too long' }) + '\n');
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        if (this.follow(sock, line)) continue;
        chain = chain.then(async () => {
          const res = await handleRequest(this.target, line);
          if (!sock.destroyed) sock.write(JSON.stringify(res) + '\n');
        });
      }
    });
  }

  /** `{"cmd":"trace","line":L}`: the line's trace, one `{"trace":...}` a line, until the client goes. */
  private follow(sock: Socket, raw: string): boolean {
    let req: { cmd?: unknown; line?: unknown };
    try {
      req = JSON.parse(raw) as typeof req;
    } catch {
      return false;
    }
    if (req.cmd !== 'trace') return false;
    try {
      if (!this.target.trace || typeof req.line !== 'string') throw new Error('trace needs "line"');
      const off = this.target.trace(req.line, (t) => {
        if (!sock.destroyed) sock.write(JSON.stringify({ trace: t }) + '\n');
      });
      sock.write(JSON.stringify({ ok: true, following: req.line }) + '\n');
      sock.once('close', off);
    } catch (err) {
      sock.end(JSON.stringify({ ok: false, error: (err as Error).message }) + '\n');
    }
    return true;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const c of this.clients) c.destroy(); // `callbackd trace` clients stay connected
    await closed;
    await unlink(this.path).catch(() => undefined);
  }
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** One request to the daemon's control socket and its answer (the CLI side). */
export function controlRequest(
  path: string,
  req: ControlRequest,
  timeoutMs = 30_000,
): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer on ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.setEncoding('utf8');
    s.once('connect', () => s.write(JSON.stringify(req) + '\n'));
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      s.end();
      try {
        resolve(JSON.parse(buf.slice(0, nl)) as ControlResponse);
      } catch {
        reject(new Error(`unreadable answer on ${path}`));
      }
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
