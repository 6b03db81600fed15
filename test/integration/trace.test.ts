import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallerPort } from '../../src/sim/caller.js';
import { callBackIntoPpp, CLI, PPP_PASSWORD, startCliDaemon, type CliDaemon } from '../helpers/cli-daemon.js';

// The per-call trace of the built daemon: a file per call in trace_dir, and
// `callbackd trace ttyS1` following the same line live, through a whole call-back.

let d: CliDaemon;
let live: ChildProcess;
let liveOut = '';

beforeAll(async () => {
  d = await startCliDaemon({
    daemonToml: (dir) => `trace_dir = ${JSON.stringify(join(dir, 'trace'))}\ntrace_keep = 5\n`,
  });
  live = spawn(process.execPath, [CLI, 'trace', 'ttyS1', '--socket', join(d.dir, 'control')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  live.stdout!.on('data', (b: Buffer) => (liveOut += b.toString()));
}, 60_000);

afterAll(async () => {
  live?.kill('SIGINT');
  await d?.close();
});

describe('the per-call trace', () => {
  it('records every modem byte of a call-back, the state changes and a password as its length', async () => {
    const port = await CallerPort.open(d.callerTty);
    let callId: string;
    try {
      await callBackIntoPpp(port);
      await port.write('BYE\n');
      callId = String((await d.tap.waitFor((e) => e.event === 'call-end', 20_000, 'call-end')).callId);
    } finally {
      await port.close();
    }
    const files = readdirSync(join(d.dir, 'trace'));
    expect(files).toEqual([`${callId}.trace`]);
    const trace = readFileSync(join(d.dir, 'trace', files[0]!), 'utf8');
    const lines = trace.trimEnd().split('\n');
    expect(lines[0]).toBe(`* call ${callId} on ttyS1`);
    for (const l of lines.slice(1)) expect(l).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z ttyS1 [<>*] /);
    expect(trace).toMatch(/ttyS1 < ".*RING/); // the RINGs before the answer open the file
    expect(trace).toContain('> "ATA\\r"');
    expect(trace).toMatch(/> "ATDT123456\\r"/);
    expect(trace).toMatch(/< ".*CONNECT/);
    expect(trace).toContain('* state idle -> answering (ring)');
    expect(trace).toMatch(/\* state \S+ -> dialing \(\S+\)/);
    expect(trace).toContain(`< [secret: ${PPP_PASSWORD.length} byte(s)]`);
    expect(trace).not.toContain(PPP_PASSWORD);
    expect(trace).toContain('* DTR off');

    // The live trace saw the same call.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`live trace so far: ${liveOut}`)), 10_000);
      const check = () => {
        if (!liveOut.includes('ATDT123456')) return;
        clearTimeout(timer);
        resolve();
      };
      live.stdout!.on('data', check);
      check();
    });
    expect(liveOut).toContain('> "ATDT123456\\r"');
    expect(liveOut).not.toContain(PPP_PASSWORD);
  });
});
