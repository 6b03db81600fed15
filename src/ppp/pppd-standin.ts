#!/usr/bin/env node
/**
 * A stand-in for pppd, for the demo and the integration tests (this machine's kernel has
 * no PPP). It is not pppd and says so on stderr. It takes the line on stdin/stdout like
 * pppd does, writes a greeting, answers each line it reads with `STANDIN-ACK <n> <text>`,
 * and exits:
 * - on a line `BYE` with 0, or `BYE <code>` with that code (to play any pppd outcome);
 * - on end of input or hang-up with the code after `standin-exit` in argv (default 16,
 *   pppd's "modem hung up");
 * - on SIGTERM/SIGINT with 5, and on SIGHUP (carrier lost) with 16, as pppd does.
 * Every other argument is accepted and ignored, so it runs with pppd's argv. Test modes
 * (arguments) play the children that do not behave:
 * - `standin-leave-child`: starts a child that holds stderr and lives on (a wrapper's
 *   leftover); its pid is on stderr as `left child <pid>`, then `child: ready` from the child itself;
 * - `standin-ignore-hup`: ignores SIGHUP (a login-shell style child, or pppd with `local`);
 * - `standin-ignore-term`: ignores SIGTERM too (only SIGKILL ends it).
 *
 * Self-contained on purpose (node: imports only): tests transpile this one file and run
 * it without a build; the demo runs dist/ppp/pppd-standin.js.
 */
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';

const argv = process.argv.slice(2);
const exitAt = argv.indexOf('standin-exit');
const hangupCode = exitAt >= 0 ? Number(argv[exitAt + 1] ?? '16') : 16;

function err(text: string): void {
  writeSync(2, `${text}\n`);
}
let sent = 0;
let received = 0;
function out(text: string): void {
  sent += writeSync(1, text);
}

const ignored = new Set<string>();
if (argv.includes('standin-ignore-hup')) ignored.add('SIGHUP');
if (argv.includes('standin-ignore-term')) ignored.add('SIGTERM');

// Handlers first: the greeting tells the other side we are ready, signals included.
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  const code = sig === 'SIGHUP' ? 16 : 5;
  process.on(sig, () => {
    if (ignored.has(sig)) return err(`pppd stand-in: ${sig} ignored`);
    err(`pppd stand-in: ${sig}, exiting ${code}`);
    process.exit(code);
  });
}
err('pppd stand-in: this is not pppd');
err(`pppd stand-in: pid ${process.pid} argv ${JSON.stringify(argv)}`);
if (argv.includes('standin-leave-child')) {
  // Holds our stderr and outlives us, as a wrapper's forgotten child does (even the
  // kernel's SIGHUP when our session ends).
  const child = spawn(
    process.execPath,
    [
      '-e',
      "process.on('SIGHUP', () => {}); setInterval(() => {}, 1e6); console.error('pppd stand-in child: ready')",
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  err(`pppd stand-in: left child ${child.pid ?? 'none'}`);
}
out('STANDIN-HELLO\n');

let count = 0;
let pending = '';
function finish(code: number, why: string): void {
  err(`pppd stand-in: ${why}, exiting ${code} after ${count} lines`);
  // pppd's own link statistics line, which callbackd's accounting reads.
  err(`Sent ${sent} bytes, received ${received} bytes.`);
  process.exit(code);
}
process.stdin.on('data', (chunk: Buffer) => {
  received += chunk.length;
  pending += chunk.toString('latin1');
  const lines = pending.split(/\r?\n|\r/);
  pending = lines.pop() ?? '';
  for (const line of lines) {
    const bye = /^BYE(?: (\d{1,3}))?$/.exec(line);
    if (bye) return finish(bye[1] === undefined ? 0 : Number(bye[1]), 'BYE');
    count += 1;
    out(`STANDIN-ACK ${count} ${line}\n`);
  }
});
process.stdin.on('end', () => finish(hangupCode, 'end of input'));
// A pty whose other side went away reads EIO: that is pppd's "modem hung up".
process.stdin.on('error', (e: NodeJS.ErrnoException) =>
  finish(hangupCode, `read failed (${e.code ?? e.message})`),
);
