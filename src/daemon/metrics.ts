import { createServer, type Server } from 'node:http';
import { unlink } from 'node:fs/promises';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Logger } from '../log.js';
import type { LineStatus } from './status.js';

/**
 * Prometheus metrics in the text exposition format (version 0.0.4), written here rather
 * than with prom-client: a dozen counters and gauges fed from the daemon's own events
 * need no registry, histogram buckets or default process metrics, and the package stays
 * without another dependency tree. Counters come from the log events the daemon writes
 * anyway (one place says what happened); line states and the accounting queue are read
 * at scrape time.
 */
type Labels = Record<string, string>;

class Family {
  readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly type: 'counter' | 'gauge',
    readonly help: string,
  ) {}

  add(labels: Labels, by = 1): void {
    const key = JSON.stringify(labels);
    const v = this.values.get(key);
    if (v) v.value += by;
    else this.values.set(key, { labels, value: by });
  }

  set(labels: Labels, value: number): void {
    this.values.set(JSON.stringify(labels), { labels, value });
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function render(families: Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const { labels, value } of f.values.values()) {
      const l = Object.entries(labels)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',');
      out.push(`${f.name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 0}`);
    }
  }
  return out.join('\n') + '\n';
}

export interface MetricsSource {
  lines(): (LineStatus & { disabled?: boolean })[];
  accountingQueue(): number;
}

export class Metrics {
  private readonly calls = new Family(
    'callbackd_calls_total',
    'counter',
    'Calls ended, by outcome and kind.',
  );
  private readonly callbacks = new Family(
    'callbackd_callbacks_total',
    'counter',
    'Call-backs accepted (test calls included), by entry.',
  );
  private readonly dials = new Family(
    'callbackd_dial_attempts_total',
    'counter',
    'Dial attempts, by result.',
  );
  private readonly lockouts = new Family(
    'callbackd_lockouts_total',
    'counter',
    'Login names and caller IDs locked out.',
  );
  private readonly rateLimited = new Family(
    'callbackd_rate_limit_refusals_total',
    'counter',
    'Call-backs refused by a rate limit.',
  );
  private readonly pppSessions = new Family(
    'callbackd_ppp_sessions_total',
    'counter',
    'pppd sessions ended, by outcome.',
  );
  private readonly pppActive = new Family(
    'callbackd_ppp_sessions_active',
    'gauge',
    'pppd sessions running now.',
  );
  private readonly lineState = new Family(
    'callbackd_line_state',
    'gauge',
    '1 for the state each line is in (idle, login, dialing, ppp, line-down ...).',
  );
  private readonly lineDisabled = new Family(
    'callbackd_line_disabled',
    'gauge',
    '1 when the operator disabled the line.',
  );
  private readonly queue = new Family(
    'callbackd_accounting_queue_length',
    'gauge',
    'Accounting records waiting to be written.',
  );
  private readonly lag = new Family(
    'callbackd_event_loop_lag_seconds',
    'gauge',
    'Event-loop delay since the previous scrape: mean, p99 and max.',
  );
  private readonly histogram: IntervalHistogram;
  private active = 0;

  constructor(private readonly source: MetricsSource) {
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
    this.pppActive.set({}, 0);
    this.rateLimited.set({}, 0);
    this.lockouts.set({}, 0);
  }

  /** Every log event the daemon writes, whatever the log level. */
  observe(e: Record<string, unknown>): void {
    const s = (k: string) => (typeof e[k] === 'string' ? (e[k] as string) : 'unknown');
    switch (e.event) {
      case 'call-end':
        this.calls.add({ outcome: s('outcome'), kind: s('kind') });
        if (e.outcome === 'rate-limited') this.rateLimited.add({});
        break;
      case 'callback-accepted':
      case 'test-call':
        this.callbacks.add({ entry: s('entry') });
        break;
      case 'callback-connected':
        this.dials.add({ result: 'connect' });
        break;
      case 'dial-failed':
        this.dials.add({ result: s('outcome') });
        break;
      case 'locked-out':
        this.lockouts.add({});
        break;
      case 'ppp-running':
        this.pppActive.set({}, ++this.active);
        break;
      case 'ppp-exit':
        this.active = Math.max(0, this.active - 1);
        this.pppActive.set({}, this.active);
        this.pppSessions.add({ outcome: s('outcome') });
        break;
    }
  }

  render(): string {
    this.lineState.values.clear();
    this.lineDisabled.values.clear();
    for (const l of this.source.lines()) {
      this.lineState.set({ line: l.name, state: l.state }, 1);
      this.lineDisabled.set({ line: l.name }, l.disabled ? 1 : 0);
    }
    this.queue.set({}, this.source.accountingQueue());
    const h = this.histogram;
    const sec = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
    this.lag.set({ stat: 'mean' }, sec(h.mean));
    this.lag.set({ stat: 'p99' }, sec(h.percentile(99)));
    this.lag.set({ stat: 'max' }, sec(h.max));
    h.reset();
    return render([
      this.calls,
      this.callbacks,
      this.dials,
      this.lockouts,
      this.rateLimited,
      this.pppSessions,
      this.pppActive,
      this.lineState,
      this.lineDisabled,
      this.queue,
      this.lag,
    ]);
  }

  close(): void {
    this.histogram.disable();
  }
}

/** `[daemon] metrics_listen`: "host:port" or an absolute unix socket path; GET /metrics. */
export class MetricsServer {
  private server?: Server;

  constructor(
    private readonly listen: string,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics\n');
        return;
      }
      res
        .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
        .end(this.metrics.render());
    });
    try {
      if (this.listen.startsWith('/')) {
        await unlink(this.listen).catch(() => undefined);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(this.listen, () => resolve());
        });
      } else {
        const i = this.listen.lastIndexOf(':');
        const host = this.listen.slice(0, i).replace(/^\[|\]$/g, '');
        const port = Number(this.listen.slice(i + 1));
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, host, () => resolve());
        });
      }
      server.on('error', (err) =>
        this.log.error({ event: 'metrics-failed', listen: this.listen, err: err.message }),
      );
      this.server = server;
      const addr = server.address();
      this.log.info({
        event: 'metrics-listening',
        listen: typeof addr === 'string' ? addr : addr ? `${addr.address}:${addr.port}` : this.listen,
      });
    } catch (err) {
      this.log.error({ event: 'metrics-failed', listen: this.listen, err: (err as Error).message });
    }
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    if (this.listen.startsWith('/')) await unlink(this.listen).catch(() => undefined);
  }
}
