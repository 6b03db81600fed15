import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVER, callBackIntoStandin, dialIn, startBench, type Bench } from '../helpers/bench.js';

// A caller who abuses the line, and faults around a call: the daemon bounds the work,
// keeps every line, and records every call once. Real ptys, the simulator's exchange.

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

const count = (haystack: string, needle: string) => haystack.split(needle).length - 1;

describe('a caller flooding the prompt', () => {
  it('64 KiB of CRs cost a bounded number of prompts, and the line still answers', async () => {
    bench = await startBench();
    const port = await bench.openCaller();
    await dialIn(port);
    await port.write(Buffer.alloc(64 * 1024, 0x0d));
    // What the caller types after the flood is read once the daemon has caught up.
    await port.sendUntilAnswered('nobody\r', 'Password: ', 30, 1_000);
    const seen = port.text;
    // Unbounded, every CR would be answered with a prompt: 65 537 of them.
    expect(count(seen, 'login: ')).toBeLessThan(2_000);
    // Nor is every CR echoed: that alone would be 128 KiB written back to the flooder.
    expect(seen.length).toBeLessThan(32 * 1024);
    expect(bench.tap.events.filter((e) => e.event === 'input-dropped')).toHaveLength(1);
    bench.caller.dropCarrier();
    await bench.callEnd();
  });
});

describe('the lock directory goes away while pppd has the line', () => {
  it('ends the call with its record, keeps the daemon, and the line comes back', async () => {
    bench = await startBench();
    const port = await callBackIntoStandin(bench);
    // /run/lock is a world-writable tmpfs: anyone can fill it or a clean-up can remove it.
    const lockDir = join(bench.dir, 'lock');
    rmSync(lockDir, { recursive: true, force: true });
    bench.caller.dropCarrier();
    const end = await bench.callEnd();
    expect(end).toMatchObject({ kind: 'callback', outcome: 'ppp-hangup' });
    expect(bench.tap.events.some((e) => e.event === 'lock-reclaim-failed')).toBe(true);
    expect(bench.accounting()).toHaveLength(1);
    // Once the directory is back, the line takes calls again.
    mkdirSync(lockDir);
    await dialIn(port);
    await port.write('nobody\r');
    await port.expect('Password: ', 5_000);
  });
});

describe('after pppd', () => {
  it('the modem is reset once (DTR drop and init), not twice', async () => {
    bench = await startBench();
    await callBackIntoStandin(bench);
    const exit = bench.exchange.events.at(-1)!.seq + 1;
    bench.caller.dropCarrier();
    await bench.callEnd();
    await bench.tap.waitFor((e) => e.event === 'state' && e.to === 'idle', 5_000, 'idle');
    const inits = bench.exchange.events.filter(
      (e) => e.seq >= exit && e.type === 'command' && e.modem === SERVER && /^ATZ/i.test(String(e.line)),
    );
    expect(inits).toHaveLength(1);
  });
});
