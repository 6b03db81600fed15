import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { deriveSecret, scryptMemory } from '../config/secret-hash.js';
import { workerClass } from '../worker-class.js';

/**
 * The secret checks' key derivation (scrypt, 16 MB and 40-60 ms of CPU each) on threads
 * of its own, at a lower CPU priority than the event loop, instead of on libuv's pool.
 *
 * Why: on the pool, up to four checks at once (its four threads) competed with the event
 * loop's thread at the same priority, and took the pool from what else runs there (the
 * serial ports' reads, the lock and accounting files). With 128 lines cycling on two
 * cores that set the loop's delay: p99 77-89 ms, against 23 ms with the pool cut to
 * one thread (tools/bench/scale.ts, docs/benchmarks.md). Here the derivations run on at
 * most `threads` threads (the cores less one, at least one), each with nice
 * KDF_NICE (Linux keeps a nice value per thread): when the CPU is short the loop comes
 * first, when it is free a check takes as long as before.
 *
 * The threads start with the first check and end LINGER_MS after the last one, so an
 * idle daemon has none. A thread that fails or is ended mid-check hands its checks to
 * deriveSecret on libuv's pool: a check never fails for the thread's sake.
 */
export const KDF_NICE = 10;
const LINGER_MS = 30_000;

export interface KdfParams {
  N: number;
  r: number;
  p: number;
}

interface Job {
  secret: string;
  salt: Buffer;
  keylen: number;
  params: KdfParams;
  resolve: (key: Buffer) => void;
  reject: (err: Error) => void;
}

type FromThread = { ev: 'ready'; tid?: number; nice?: number } | { ev: 'key'; id: number; key: Uint8Array };

// One derivation at a time per thread; scryptSync on its own thread blocks nothing else.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
const { readlinkSync } = require('node:fs');
const { setPriority, getPriority } = require('node:os');
let tid, nice;
try {
  // /proc/thread-self is "<pid>/task/<tid>"; setpriority(PRIO_PROCESS, tid) sets this thread's nice.
  tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  setPriority(tid, workerData.nice);
  nice = getPriority(tid);
} catch {}
parentPort.on('message', (m) => {
  const key = scryptSync(m.secret.normalize('NFC'), Buffer.from(m.salt), m.keylen, m.options);
  parentPort.postMessage({ ev: 'key', id: m.id, key });
});
parentPort.postMessage({ ev: 'ready', tid, nice });
`;

class KdfThread {
  readonly worker: Worker;
  /** The job on the thread now, by id. */
  readonly jobs = new Map<number, Job>();
  info: { tid?: number | undefined; nice?: number | undefined } = {};

  constructor(
    nice: number,
    onKey: (t: KdfThread, id: number, key: Buffer) => void,
    onGone: (t: KdfThread) => void,
  ) {
    this.worker = new (workerClass())(SOURCE, {
      eval: true,
      workerData: { nice },
      stdout: false,
      stderr: false,
    });
    this.worker.on('message', (m: FromThread) => {
      if (m.ev === 'ready') this.info = { tid: m.tid, nice: m.nice };
      else onKey(this, m.id, Buffer.from(m.key.buffer, m.key.byteOffset, m.key.byteLength));
    });
    this.worker.on('error', () => onGone(this));
    this.worker.on('exit', () => onGone(this));
    // After the listeners: a 'message' listener refs the worker's port again, and a
    // daemon that has stopped would then wait for the linger before it exits.
    this.worker.unref();
  }
}

export class KdfThreads {
  private readonly threads: KdfThread[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private linger: NodeJS.Timeout | undefined;
  private readonly max: number;
  private readonly nice: number;
  private readonly lingerMs: number;

  constructor(o: { threads?: number; nice?: number; lingerMs?: number } = {}) {
    this.max = Math.max(1, o.threads ?? Math.min(4, availableParallelism() - 1));
    this.nice = o.nice ?? KDF_NICE;
    this.lingerMs = o.lingerMs ?? LINGER_MS;
  }

  /** scrypt of secret (NFC), as deriveSecret computes it. */
  readonly derive = (secret: string, salt: Buffer, keylen: number, params: KdfParams): Promise<Buffer> =>
    new Promise<Buffer>((resolve, reject) => {
      clearTimeout(this.linger);
      this.linger = undefined;
      this.queue.push({ secret, salt, keylen, params, resolve, reject });
      this.pump();
    });

  /**
   * Starts a thread now if none runs, so that the next check does not wait for one to
   * start (a new thread is tens of ms: a V8 isolate). Unused, it ends after the linger.
   */
  warm(): void {
    if (this.threads.length > 0) return;
    try {
      this.startThread();
    } catch {
      return; // the first check then falls back to the pool, as pump() does
    }
    this.idleCheck();
  }

  /** The running threads' ids and nice values (for tests and diagnostics). */
  info(): { tid?: number | undefined; nice?: number | undefined }[] {
    return this.threads.map((t) => t.info);
  }

  get running(): number {
    return this.threads.length;
  }

  /** Ends the threads; checks on them or queued go to libuv's pool. */
  close(): void {
    clearTimeout(this.linger);
    this.linger = undefined;
    for (const job of this.queue.splice(0)) fallback(job);
    for (const t of [...this.threads]) this.gone(t);
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let t = this.threads.find((x) => x.jobs.size === 0);
      if (!t && this.threads.length < this.max) {
        try {
          t = this.startThread();
        } catch {
          for (const job of this.queue.splice(0)) fallback(job);
          return;
        }
      }
      if (!t) return;
      const job = this.queue.shift()!;
      const id = this.nextId++;
      t.jobs.set(id, job);
      const { N, r, p } = job.params;
      t.worker.postMessage({
        id,
        secret: job.secret,
        salt: job.salt,
        keylen: job.keylen,
        // Node refuses scrypt above maxmem (32 MiB default); allow what the parameters need.
        options: { N, r, p, maxmem: scryptMemory(job.params) + 1024 * 1024 },
      });
    }
    this.idleCheck();
  }

  private startThread(): KdfThread {
    const t = new KdfThread(
      this.nice,
      (th, id, key) => this.done(th, id, key),
      (th) => this.gone(th),
    );
    this.threads.push(t);
    return t;
  }

  private done(t: KdfThread, id: number, key: Buffer): void {
    const job = t.jobs.get(id);
    t.jobs.delete(id);
    job?.resolve(key);
    this.pump();
  }

  /** A thread that failed, exited or is ended: its checks go to the pool. */
  private gone(t: KdfThread): void {
    const i = this.threads.indexOf(t);
    if (i < 0) return;
    this.threads.splice(i, 1);
    for (const job of t.jobs.values()) fallback(job);
    t.jobs.clear();
    void t.worker.terminate();
    this.pump();
  }

  private idleCheck(): void {
    if (this.queue.length > 0 || this.threads.some((t) => t.jobs.size > 0) || this.threads.length === 0)
      return;
    if (this.linger) return;
    this.linger = setTimeout(() => {
      this.linger = undefined;
      if (this.queue.length === 0 && this.threads.every((t) => t.jobs.size === 0)) {
        for (const t of [...this.threads]) {
          this.threads.splice(this.threads.indexOf(t), 1);
          void t.worker.terminate();
        }
      }
    }, this.lingerMs);
    this.linger.unref();
  }
}

function fallback(job: Job): void {
  deriveSecret(job.secret, job.salt, job.keylen, job.params).then(job.resolve, job.reject);
}
