import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { authenticate } from '../../src/radius/auth.js';
import { RadiusClient } from '../../src/radius/client.js';
import { Spool } from '../../src/radius/spool.js';

describe('accounting spool', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(tmpdir(), 'spool-'));
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('keeps records in order across a reopen and continues the sequence', async () => {
    const a = await Spool.open<{ n: number }>(dir);
    await a.put({ n: 1 });
    await a.put({ n: 2 });
    const b = await Spool.open<{ n: number }>(dir);
    await b.put({ n: 3 });
    const names = await b.list();
    expect(names).toEqual(['000000000001.json', '000000000002.json', '000000000003.json']);
    expect(await Promise.all(names.map((n) => b.read(n)))).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await b.remove(names[0] as string);
    expect(await (await Spool.open(dir)).list()).toEqual(['000000000002.json', '000000000003.json']);
    expect((await fsp.stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('drops half-written temp files on open and sets an unreadable record aside, not losing it', async () => {
    await fsp.writeFile(path.join(dir, '.tmp-000000000001.json'), '{"n":');
    await fsp.writeFile(path.join(dir, '000000000002.json'), 'not json');
    const s = await Spool.open<{ n: number }>(dir);
    expect(await fsp.readdir(dir)).toEqual(['000000000002.json']);
    expect(await s.read('000000000002.json')).toBeUndefined();
    expect(await fsp.readdir(dir)).toEqual(['000000000002.json.bad']);
    expect(await s.list()).toEqual([]);
  });
});

describe('authenticate without asking', () => {
  it('rejects a password longer than RADIUS can carry, without sending anything', async () => {
    const client = await RadiusClient.open([], {
      timeoutMs: 100,
      retries: 0,
      deadTimeMs: 0,
      log: silentLogger(),
    });
    try {
      const r = await authenticate(
        client,
        {},
        { name: 'u', secret: 'x'.repeat(129), line: 'ttyS0', lineIndex: 0, leg: 1 },
        silentLogger(),
      );
      expect(r).toEqual({ kind: 'reject' });
      expect(
        await authenticate(
          client,
          {},
          { name: 'u', secret: 'x', line: 'ttyS0', lineIndex: 0, leg: 1 },
          silentLogger(),
        ),
      ).toEqual({ kind: 'unavailable' });
    } finally {
      await client.close();
    }
  });
});
