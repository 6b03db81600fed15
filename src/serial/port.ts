import type { EventEmitter } from 'node:events';

/** The part of serialport's stream we use; SerialPort and SerialPortMock both fit. */
export interface PortLike extends EventEmitter {
  readonly isOpen: boolean;
  open(cb: (err: Error | null) => void): void;
  close(cb?: (err: Error | null) => void): void;
  write(data: Buffer | string, cb?: (err: Error | null | undefined) => void): boolean;
  set(opts: { dtr?: boolean; rts?: boolean }, cb: (err: Error | null) => void): void;
  get(cb: (err: Error | null, status?: { dcd: boolean }) => void): void;
}

export interface PortOpenOptions {
  path: string;
  baudRate: number;
  autoOpen: false;
  rtscts: boolean;
  xon: boolean;
  xoff: boolean;
  hupcl: boolean;
  lock: boolean;
}

export type PortClass = new (options: PortOpenOptions) => PortLike;
