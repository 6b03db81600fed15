import { get } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallerPort } from '../../src/sim/caller.js';
import { callBackIntoPpp, startCliDaemon, type CliDaemon } from '../helpers/cli-daemon.js';

// Prometheus metrics of the built daemon on its unix socket, scraped while a scripted
// call-back is in pppd and after it ended.

let d: CliDaemon;
let sock: string;

function scrape(path = '/metrics'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    get({ socketPath: sock, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
      );
    }).on('error', reject);
  });
}

/** `name{labels}` -> value, checking every line is valid exposition format on the way. */
function samples(body: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of body.trimEnd().split('\n')) {
    if (/^# (HELP|TYPE) callbackd_[a-z_]+ /.test(line)) continue;
    const m = /^(callbackd_[a-z_]+(?:\{[a-z_]+="[^"\\]*"(?:,[a-z_]+="[^"\\]*")*\})?) (-?[0-9.e+-]+)$/.exec(
      line,
    );
    expect(m, `exposition line ${JSON.stringify(line)}`).not.toBeNull();
    out.set(m![1]!, Number(m![2]));
  }
  return out;
}

beforeAll(async () => {
  d = await startCliDaemon({
    daemonToml: (dir) => `metrics_listen = ${JSON.stringify(join(dir, 'metrics'))}\n`,
  });
}, 60_000);

afterAll(async () => {
  await d?.close();
});

describe('metrics', () => {
  it('are served during and after a call-back', async () => {
    const listening = await d.tap.waitFor((e) => e.event === 'metrics-listening', 5_000, 'metrics-listening');
    sock = String(listening.listen);
    const idle = await scrape();
    expect(idle.status).toBe(200);
    expect(idle.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const before = samples(idle.body);
    expect(before.get('callbackd_line_state{line="ttyS1",state="idle"}')).toBe(1);
    expect(before.get('callbackd_ppp_sessions_active')).toBe(0);
    expect(before.has('callbackd_event_loop_lag_seconds{stat="p99"}')).toBe(true);
    expect((await scrape('/other')).status).toBe(404);

    const port = await CallerPort.open(d.callerTty);
    try {
      await callBackIntoPpp(port);

      const during = samples((await scrape()).body);
      expect(during.get('callbackd_ppp_sessions_active')).toBe(1);
      expect(during.get('callbackd_line_state{line="ttyS1",state="ppp"}')).toBe(1);
      expect(during.get('callbackd_callbacks_total{entry="call"}')).toBe(1);
      expect(during.get('callbackd_dial_attempts_total{result="connect"}')).toBe(1);

      await port.write('BYE\n');
      await d.tap.waitFor((e) => e.event === 'call-end', 20_000, 'call-end');
    } finally {
      await port.close();
    }
    const after = samples((await scrape()).body);
    expect(after.get('callbackd_ppp_sessions_active')).toBe(0);
    expect(after.get('callbackd_ppp_sessions_total{outcome="ppp-ok"}')).toBe(1);
    expect(after.get('callbackd_calls_total{outcome="ppp-ok",kind="callback"}')).toBe(1);
    expect(after.get('callbackd_accounting_queue_length')).toBe(0);
    expect(after.get('callbackd_rate_limit_refusals_total')).toBe(0);
    expect(after.get('callbackd_lockouts_total')).toBe(0);
  });
});
