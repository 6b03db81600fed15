/**
 * One error class for the whole daemon. The code says what went wrong in a way
 * that logs, tests and the session state machine can switch on; the message is
 * for people.
 */
export type ErrorCode =
  // serial / line
  | 'DEVICE_MISSING' // ENOENT at open
  | 'DEVICE_PERMISSION' // EACCES / EPERM at open
  | 'DEVICE_GONE' // EIO / disconnect while open (USB modem unplugged)
  | 'DEVICE_BUSY' // flock held by another process
  | 'LINE_CLOSED' // write or read on a closed line
  | 'LOCK_HELD' // UUCP lock held by another live process
  | 'LOCK_FAILED' // could not create the lock file
  // modem
  | 'MODEM_TIMEOUT' // no final result in time
  | 'MODEM_ERROR' // modem answered ERROR
  | 'MODEM_NO_RESPONSE' // init/reset failed after every fallback
  | 'MODEM_BUSY' // a command is already in flight
  // config
  | 'CONFIG_INVALID'
  | 'CONFIG_READ'
  // policy
  | 'NUMBER_REJECTED'
  | 'STATE_INVALID' // persisted lockout / rate-limit state unreadable
  | 'STATE_UNSAFE' // the state directory is a symlink, or others can write to it
  // ppp
  | 'PPP_SPAWN'
  // generic
  | 'ABORTED'
  | 'INTERNAL';

export class CallbackdError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CallbackdError';
    this.code = code;
    this.details = details;
  }
}

export function isCallbackdError(e: unknown, code?: ErrorCode): e is CallbackdError {
  return e instanceof CallbackdError && (code === undefined || e.code === code);
}

/** Node system errors carry a string code (ENOENT, EIO, ...). */
export function errnoCode(e: unknown): string | undefined {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    return (e as { code: string }).code;
  }
  return undefined;
}
