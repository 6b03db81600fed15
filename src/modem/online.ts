/**
 * The data stream of a connected modem: passes bytes to listeners, keeps a bounded
 * backlog for a listener that subscribes just after CONNECT, and watches for the
 * modem's own `NO CARRIER` (sent framed by CR LF when the carrier drops), also when
 * it arrives split across chunks.
 */
const MAX_PENDING = 4096;
const NO_CARRIER = /[\r\n]NO CARRIER\r/;

export class OnlineStream {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private tail = '';
  readonly listeners = new Set<(b: Buffer) => void>();

  reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.tail = '';
  }

  /** Delivers a chunk; true when it carried NO CARRIER (the call is over). */
  push(chunk: Buffer): boolean {
    if (this.listeners.size > 0) for (const l of [...this.listeners]) l(chunk);
    else if (this.pendingBytes + chunk.length <= MAX_PENDING) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
    const text = this.tail + chunk.toString('latin1');
    this.tail = text.slice(-16);
    return NO_CARRIER.test(text);
  }

  /** Adds a listener; bytes received before anyone listened are handed to it first. */
  subscribe(fn: (b: Buffer) => void): () => void {
    this.listeners.add(fn);
    if (this.pending.length > 0) {
      const backlog = Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      queueMicrotask(() => fn(backlog));
    }
    return () => this.listeners.delete(fn);
  }
}
