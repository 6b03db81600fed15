import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';

const load = createRequire(import.meta.url);

/**
 * node:worker_threads' Worker, loaded with the first worker (the KDF threads, the pppd
 * spawner), not with the daemon: about 0.3 MB of RSS an idle daemon does not need.
 */
export function workerClass(): typeof Worker {
  return (load('node:worker_threads') as typeof import('node:worker_threads')).Worker;
}
