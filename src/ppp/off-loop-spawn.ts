import { EventEmitter } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { workerClass } from '../worker-class.js';

/**
 * Starting a child off the daemon's event loop. child_process.spawn is synchronous: the
 * calling thread forks the whole daemon and then waits until the child has exec'd. On
 * an idle machine that is under a millisecond; with many lines cycling on two busy
 * cores the child waits for a CPU before it can exec, and the daemon's loop stood still
 * for 21 ms per spawn (48 ms p90; measured in the scale benchmark). A worker thread that
 * does the spawn waits instead, and the loop goes on.
 *
 * The worker lives only while it is needed: the first spawn while `fromRunning` or more
 * children run starts it (that spawn itself still goes direct: the worker needs about
 * 100 ms to start), and it ends `lingerMs` after the last of the children has exited
 * (calls come and go in bursts; restarting it for each would send most spawns direct).
 * An idle daemon has no worker (a worker costs about 8 MB).
 *
 * What crosses to the worker is the file, argv, environment and a file descriptor
 * number (threads share the process's descriptors); back come the pid, stderr's bytes,
 * and the exit status. Signals go from the daemon to the pid directly.
 */

/** The part of a ChildProcess the hand-over uses. */
export interface ChildLike extends EventEmitter {
  readonly pid?: number | undefined;
  readonly exitCode: number | null;
  readonly stderr: Readable | null;
}

export interface SpawnSpec {
  file: string;
  args: string[];
  /** The descriptor that becomes the child's stdin and stdout. */
  fd: number;
  env: NodeJS.ProcessEnv;
  detached: boolean;
}

type FromWorker =
  | { id: number; ev: 'spawned'; pid: number }
  | { id: number; ev: 'error'; message: string; code?: string }
  | { id: number; ev: 'stderr'; data: Uint8Array }
  | { id: number; ev: 'stderr-close' }
  | { id: number; ev: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  | { ev: 'ready' };

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { spawn } = require('node:child_process');
const kids = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'destroy-stderr') return kids.get(m.id)?.stderr?.destroy();
  if (m.op !== 'spawn') return;
  const post = (x) => parentPort.postMessage({ id: m.id, ...x });
  let child;
  try {
    child = spawn(m.file, m.args, { stdio: [m.fd, m.fd, 'pipe'], env: m.env, detached: m.detached });
  } catch (e) {
    return post({ ev: 'error', message: String(e && e.message), code: e && e.code });
  }
  child.on('error', (e) => {
    if (child.pid === undefined) post({ ev: 'error', message: e.message, code: e.code });
  });
  if (child.pid === undefined) return;
  kids.set(m.id, child);
  post({ ev: 'spawned', pid: child.pid });
  child.stderr.on('data', (b) => post({ ev: 'stderr', data: b }));
  child.stderr.on('close', () => post({ ev: 'stderr-close' }));
  child.on('exit', (code, signal) => {
    kids.delete(m.id);
    post({ ev: 'exit', code, signal });
  });
});
parentPort.postMessage({ ev: 'ready' });
`;

class RemoteChild extends EventEmitter implements ChildLike {
  pid: number | undefined;
  exitCode: number | null = null;
  exited = false;
  stderrClosed = false;
  readonly stderr: PassThrough;

  constructor(onDestroyStderr: () => void) {
    super();
    this.stderr = new PassThrough({
      destroy(err, cb) {
        onDestroyStderr();
        cb(err);
      },
    });
  }
}

export class OffLoopSpawner {
  private worker: Worker | undefined;
  private ready = false;
  private nextId = 1;
  private readonly children = new Map<number, RemoteChild>();
  private readonly pending = new Map<
    number,
    { resolve: (c: RemoteChild) => void; reject: (e: Error) => void }
  >();

  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly fromRunning: number,
    private readonly lingerMs: number,
  ) {}

  /**
   * Whether this spawn should go through the worker, given how many children run now.
   * Starts the worker when it is wanted and not there yet (then this spawn goes direct).
   */
  wants(running: number): boolean {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (running < this.fromRunning) return this.ready;
    if (this.ready) return true;
    if (!this.worker) this.start();
    return false;
  }

  spawn(spec: SpawnSpec): Promise<ChildLike> {
    const worker = this.worker;
    if (!worker || !this.ready) return Promise.reject(new Error('spawner not ready'));
    const id = this.nextId++;
    return new Promise<RemoteChild>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ op: 'spawn', id, ...spec, env: { ...spec.env } });
    });
  }

  /** Starts the worker if need be and resolves once it takes requests (tests, `offLoop: 'always'`). */
  async whenReady(): Promise<void> {
    if (!this.worker) this.start();
    while (!this.ready) {
      if (!this.worker) throw new Error('spawn worker did not start');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** No child runs any more: the worker ends after lingerMs unless wanted again. */
  idle(): void {
    if (!this.worker) return;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = setTimeout(() => this.close(), this.lingerMs);
    this.lingerTimer.unref();
  }

  /** Ends the worker (only when no child of it is left: their exits would be lost). */
  close(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (this.children.size > 0 || this.pending.size > 0) return;
    const w = this.worker;
    this.worker = undefined;
    this.ready = false;
    void w?.terminate();
  }

  private start(): void {
    const w = new (workerClass())(WORKER_SOURCE, { eval: true, stdout: false, stderr: false });
    this.worker = w;
    w.on('message', (m: FromWorker) => this.message(m));
    const gone = (why: string): void => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.ready = false;
      for (const p of this.pending.values()) p.reject(new Error(why));
      this.pending.clear();
      // Children whose exit can no longer be seen: report them as gone, status unknown.
      for (const c of this.children.values()) {
        c.stderr.end();
        if (c.exited) continue;
        c.exited = true;
        c.emit('exit', null, null);
      }
      this.children.clear();
    };
    w.on('error', (err) => gone(`spawn worker failed: ${err.message}`));
    w.on('exit', () => gone('spawn worker exited'));
    // After the listeners: a 'message' listener refs the worker's port again, and a
    // daemon that has stopped would then wait for the linger before it exits.
    w.unref();
  }

  private message(m: FromWorker): void {
    if (m.ev === 'ready') {
      this.ready = true;
      return;
    }
    if (m.ev === 'spawned') {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      const id = m.id;
      const c = new RemoteChild(() => this.worker?.postMessage({ op: 'destroy-stderr', id }));
      c.pid = m.pid;
      this.children.set(m.id, c);
      p?.resolve(c);
      return;
    }
    if (m.ev === 'error') {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.reject(Object.assign(new Error(m.message), m.code ? { code: m.code } : {}));
      return;
    }
    const c = this.children.get(m.id);
    if (!c) return;
    if (m.ev === 'stderr') {
      if (!c.stderr.destroyed) c.stderr.write(Buffer.from(m.data));
    } else if (m.ev === 'stderr-close') {
      c.stderr.end();
      c.stderrClosed = true;
      if (c.exited) this.children.delete(m.id);
    } else if (m.ev === 'exit') {
      // stderr may still carry pppd's last lines (its byte counts): the child stays
      // known until its stderr has closed too.
      c.exited = true;
      if (c.stderrClosed) this.children.delete(m.id);
      c.exitCode = m.code;
      c.emit('exit', m.code, m.signal);
    }
  }
}
