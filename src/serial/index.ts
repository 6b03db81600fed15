export type { ModemSignals, Transport } from './transport.js';
export { MemoryTransport } from './memory-transport.js';
export {
  classifySerialError,
  createSerialTransport,
  type PortClass,
  type PortLike,
  type PortOpenOptions,
  type SerialTransportOptions,
} from './serial-transport.js';
export {
  UucpLock,
  formatLockPid,
  parseLockPid,
  pidAlive,
  releaseAllSync,
  type AcquireResult,
} from './lock.js';
export { abortableDelay, openWithRetry, type OpenWithRetryOptions } from './open-line.js';
export { connectSimSignals, type SimSignalsClient, type SimSignalsOptions } from './sim-signals.js';
