import { vi } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { Modem } from '../../src/modem/index.js';
import { FAST_TIMING, type Timing } from '../../src/timing.js';
import { MemoryTransport } from '../../src/serial/memory-transport.js';

/**
 * A scripted modem on a MemoryTransport: each CR-terminated command written is passed
 * to `reply`, whose answer (if any) is sent back at once, as a fast modem would.
 */
export function scripted(reply: (cmd: string) => string | undefined, timing: Partial<Timing> = {}) {
  const t = new MemoryTransport();
  const commands: string[] = [];
  let pending = '';
  t.onWrite((b) => {
    pending += b.toString('latin1');
    let i: number;
    while ((i = pending.search(/\r|\+\+\+/)) >= 0) {
      const isEscape = pending.startsWith('+++', i) && pending[i] === '+';
      const cmd = isEscape ? '+++' : pending.slice(0, i);
      pending = pending.slice(i + (isEscape ? 3 : 1));
      commands.push(cmd);
      const r = reply(cmd);
      if (r !== undefined) t.peer.write(r);
    }
  });
  const modem = new Modem(t, {
    timing: { ...FAST_TIMING, ...timing },
    log: silentLogger(),
    line: 'test0',
  });
  return { t, modem, commands };
}

/** Verbose result framing as a Hayes modem sends it (V1). */
export const res = (s: string) => `\r\n${s}\r\n`;

/** Settles the promise while fake time runs; returns the value or the error. */
export async function settle<T>(p: Promise<T>, ms = 60_000): Promise<T | Error> {
  const out = p.then(
    (v) => v,
    (e: Error) => e,
  );
  await vi.advanceTimersByTimeAsync(ms);
  return out;
}
