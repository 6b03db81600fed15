import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { listenProblem } from '../../src/config/rules.js';
import { Metrics } from '../../src/daemon/metrics.js';
import { createLogger, observeLog } from '../../src/log.js';

describe('metrics', () => {
  it('count what the log says, whatever the log level', () => {
    const written: string[] = [];
    const destination = new Writable({
      write: (c: Buffer, _e, done) => {
        written.push(c.toString());
        done();
      },
    });
    const log = createLogger({ level: 'warn', destination });
    const m = new Metrics({ lines: () => [], accountingQueue: () => 3 });
    expect(observeLog(log, (e) => m.observe(e))).toBe(true);
    const line = log.child({ line: 'ttyS1' });
    line.info({ event: 'callback-accepted', entry: 'call' });
    line.warn({ event: 'dial-failed', outcome: 'busy' });
    line.info({ event: 'callback-connected' });
    line.info({ event: 'call-end', outcome: 'rate-limited', kind: 'refused' });
    line.trace({ event: 'call-end', outcome: 'ignored-below-debug', kind: 'x' });
    expect(written).toHaveLength(1); // only the warning reaches the log
    const text = m.render();
    expect(text).toContain('callbackd_callbacks_total{entry="call"} 1');
    expect(text).toContain('callbackd_dial_attempts_total{result="busy"} 1');
    expect(text).toContain('callbackd_dial_attempts_total{result="connect"} 1');
    expect(text).toContain('callbackd_calls_total{outcome="rate-limited",kind="refused"} 1');
    expect(text).toContain('callbackd_rate_limit_refusals_total 1');
    expect(text).toContain('callbackd_accounting_queue_length 3');
    expect(text).not.toContain('ignored-below-debug');
    m.close();
  });

  it('escape label values', () => {
    const m = new Metrics({
      lines: () => [{ name: 'a"b\\c', device: '/dev/x', state: 'idle', since: '' }],
      accountingQueue: () => 0,
    });
    expect(m.render()).toContain('callbackd_line_state{line="a\\"b\\\\c",state="idle"} 1');
    m.close();
  });

  it('accept host:port or a socket path as the listen address', () => {
    expect(listenProblem('127.0.0.1:9464')).toBeUndefined();
    expect(listenProblem('[::1]:9464')).toBeUndefined();
    expect(listenProblem('/run/callbackd/metrics')).toBeUndefined();
    expect(listenProblem('9464')).toMatch(/host:port/);
    expect(listenProblem('localhost:70000')).toMatch(/host:port/);
  });
});
