/** Flow control of a line; the same words as the config's `flow_control` (serial owns the type). */
export type FlowControl = 'rtscts' | 'xonxoff' | 'none';

/**
 * The byte pipe to one modem. Everything above src/serial talks to a Transport and
 * never to serialport directly, so that unit tests can use the in-memory one and the
 * simulator can supply DTR and carrier where a pseudo-terminal cannot.
 */
export interface Transport {
  /** Device path as configured (e.g. /dev/ttyS1 or a simulator's /dev/pts/N). */
  readonly path: string;
  readonly isOpen: boolean;
  open(): Promise<void>;
  /** Idempotent. Resolves once the fd is closed. */
  close(): Promise<void>;
  /** Rejects with CallbackdError LINE_CLOSED / DEVICE_GONE; never emits unhandled errors. */
  write(data: Buffer | string): Promise<void>;
  /** Subscribe to received bytes; returns the unsubscribe function. */
  onData(listener: (chunk: Buffer) => void): () => void;
  /** Called once when the line closes on its own (device gone, EIO); not for close(). */
  onUnexpectedClose(listener: (err: Error) => void): () => void;
  /** Raise or drop DTR. On hardware via ioctl; on a simulated line via the simulator. */
  setDtr(on: boolean): Promise<void>;
  /**
   * false once the line is known to have no DTR control (a pty without simulator
   * signals, some USB adapters: the ioctl fails with ENOTTY); remembered per device
   * path for the daemon's life. true or undefined otherwise.
   */
  readonly dtrControl?: boolean | undefined;
  /** DCD state, or undefined when the line cannot tell (then NO CARRIER text is the signal). */
  getCarrier(): Promise<boolean | undefined>;
  /**
   * True when onCarrierChange reports DCD changes as they happen (the simulator's
   * signals); otherwise the modem reads getCarrier() every carrierPollMs during a call.
   */
  readonly carrierEvents?: boolean;
  /**
   * Subscribe to DCD changes where the line can report them without polling (the
   * simulator's signals); absent otherwise. Returns the unsubscribe function.
   */
  onCarrierChange?(listener: (on: boolean) => void): () => void;
}

/**
 * DTR and carrier for a line whose tty cannot carry them (a pseudo-terminal).
 * The simulator implements this; the serial layer uses it when a line is configured
 * as simulated.
 */
export interface ModemSignals {
  setDtr(on: boolean): Promise<void>;
  getCarrier(): Promise<boolean>;
  /** Subscribe to carrier changes; returns the unsubscribe function. */
  onCarrier(listener: (on: boolean) => void): () => void;
  /** Lets go of whatever connection carries the signals; called when the line closes. */
  release?(): void;
}
