import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/log.js';
import { authenticate } from '../../src/radius/auth.js';
import { RadiusClient } from '../../src/radius/client.js';
import { FreeRadius } from './freeradius.js';
import { stats, type Stats } from './measure.js';
import { REPO } from '../paths.js';

/**
 * RADIUS authentication round trip on loopback: `authenticate()` (Access-Request with
 * Message-Authenticator, User-Password hiding, reply checks) against a real FreeRADIUS
 * 3.2 started here with the tests' minimal configuration, one request at a time.
 */
export async function radiusAuthRoundTrip(n: number, warmup = 50): Promise<{ accept: Stats; reject: Stats }> {
  const fr = await FreeRadius.create({
    secret: 'bench-secret',
    users:
      'bench  Cleartext-Password := "pw"\n       Service-Type = Callback-Framed-User, Callback-Number = "123456"\n',
  });
  try {
    await fr.start();
    const log = silentLogger();
    const client = await RadiusClient.open(
      [
        {
          host: '127.0.0.1',
          authPort: fr.authPort,
          acctPort: fr.acctPort,
          secret: Buffer.from('bench-secret'),
        },
      ],
      { timeoutMs: 2000, retries: 2, deadTimeMs: 1000, log },
    );
    try {
      const nas = { nasIdentifier: 'bench' };
      const run = async (secret: string, kind: string, count: number): Promise<number[]> => {
        const out: number[] = [];
        for (let i = 0; i < count; i++) {
          const t = performance.now();
          const r = await authenticate(
            client,
            nas,
            { name: 'bench', secret, line: 'ttyS0', lineIndex: 0, leg: 1 },
            log,
          );
          out.push(performance.now() - t);
          if (r.kind !== kind) throw new Error(`expected ${kind}, got ${r.kind}`);
        }
        return out;
      };
      await run('pw', 'accept', warmup);
      const accept = stats(await run('pw', 'accept', n));
      const reject = stats(await run('wrong', 'reject', n));
      return { accept, reject };
    } finally {
      await client.close();
    }
  } finally {
    await fr.destroy();
  }
}

export function radiusSection(
  r: { ok: true; value: { accept: Stats; reject: Stats } } | { ok: false; error: string },
): string {
  const head = `## RADIUS authentication round trip

\`authenticate()\` against a real FreeRADIUS 3.2 on loopback (minimal config: files + pap, Message-Authenticator
required from us and added to its replies, \`reject_delay = 0\`), one request at a time, after 50 warm-up
requests: build the Access-Request, send, verify the reply's authenticators, interpret it.

| reply | n | min | median | p90 | p99 | max | mean |
|---|---|---|---|---|---|---|---|
`;
  if (!r.ok) return `${head}| | not measured: ${r.error.replace(/\|/g, '/')} | | | | | | |\n`;
  const row = (label: string, s: Stats): string =>
    `| ${label} | ${s.n} | ${s.min} ms | **${s.median} ms** | ${s.p90} ms | **${s.p99} ms** | ${s.max} ms | ${s.mean} ms |`;
  return `${head}${row('Access-Accept', r.value.accept)}
${row('Access-Reject', r.value.reject)}

FreeRADIUS's own default \`reject_delay = 1\` would add a second to every reject; production servers
should keep it (it slows guessing). The round trip is far below the seconds a caller spends typing.
`;
}

const MARK_START = '<!-- radius-bench:start -->';
const MARK_END = '<!-- radius-bench:end -->';

/** The section between markers, so `npm run bench:radius` can refresh it alone. */
export function radiusBlock(r: Parameters<typeof radiusSection>[0]): string {
  return `${MARK_START}\n\n${radiusSection(r)}\n${MARK_END}\n`;
}

/** Replaces (or appends) the marked RADIUS section of docs/benchmarks.md. */
export async function writeRadiusSection(
  file: string,
  r: Parameters<typeof radiusSection>[0],
): Promise<void> {
  const text = await fsp.readFile(file, 'utf8').catch(() => '# Benchmarks\n');
  const block = radiusBlock(r);
  const start = text.indexOf(MARK_START);
  const end = text.indexOf(MARK_END);
  const next =
    start >= 0 && end > start
      ? text.slice(0, start) + block + text.slice(end + MARK_END.length + 1)
      : `${text.trimEnd()}\n\n${block}`;
  await fsp.writeFile(file, next);
}

// `npm run bench:radius`: measure and update only this section.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const md = path.join(REPO, 'docs', 'benchmarks.md');
  radiusAuthRoundTrip(1000)
    .then(
      (value) => ({ ok: true as const, value }),
      (e: unknown) => ({ ok: false as const, error: (e as Error).message }),
    )
    .then(async (r) => {
      process.stdout.write(radiusSection(r));
      await writeRadiusSection(md, r);
    })
    .catch((e: unknown) => {
      process.stderr.write(`bench: ${String(e)}\n`);
      process.exitCode = 1;
    });
}
