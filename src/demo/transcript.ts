import { appendFileSync } from 'node:fs';
import { LogTap, type LogEvent } from '../log-tap.js';
import type { SimEvent } from '../sim/index.js';

/**
 * The demo's readable transcript: what the exchange saw (commands, RINGs, CONNECTs),
 * what the daemon logged (its JSON events), and what the caller did, on one clock.
 */
export class Transcript {
  private readonly t0 = performance.now();
  readonly tap: LogTap;

  constructor(
    private readonly out: NodeJS.WritableStream,
    logFile?: string,
  ) {
    this.tap = new LogTap(logFile ? (chunk) => appendFileSync(logFile, chunk) : undefined);
    this.tap.onEvent((e) => this.daemon(e));
  }

  private line(who: string, text: string): void {
    const t = ((performance.now() - this.t0) / 1000).toFixed(2).padStart(6);
    this.out.write(`[${t}s] ${who.padEnd(9)} ${text}\n`);
  }

  say(text: string): void {
    this.line('demo', text);
  }

  caller(text: string): void {
    this.line('caller', text);
  }

  sim(e: SimEvent): void {
    const ev = e as SimEvent & Record<string, unknown>;
    const who = `modem ${String(ev.modem)}`;
    const { t: _t, modem: _m, type, ...rest } = ev;
    if (type === 'data' && !process.env.DEMO_DATA) return;
    this.line(who, `${String(type)} ${JSON.stringify(rest)}`);
  }

  private daemon(e: LogEvent): void {
    const { level: _l, time: _t, msg, event, line: _line, ...rest } = e;
    if (event === 'pppd' && msg) {
      this.line('callbackd', `pppd said: ${String(msg)}`);
      return;
    }
    if (event === 'state') {
      this.line('callbackd', `state ${String(rest.from)} -> ${String(rest.to)} (on ${String(rest.input)})`);
    } else if (event) {
      this.line('callbackd', `${event} ${Object.keys(rest).length ? JSON.stringify(rest) : ''}`);
    }
  }
}
