import { spawn } from 'node:child_process';
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExchange, type Exchange, type SimModem } from '../../src/sim/index.js';
import { Terminal } from '../../src/sim/terminal.js';

/**
 * The real chat(8) from the ppp package talks to the virtual modems exactly as it
 * would to /dev/ttyS1: its stdin and stdout are the opened slave.
 */
const CHAT = '/usr/sbin/chat';

interface ChatResult {
  code: number | null;
  log: string;
}

/** Runs chat on the tty; `keep` leaves the caller's fd open afterwards (a hand-over). */
function runChat(tty: string, script: string[], keep = false): Promise<ChatResult & { fd: number }> {
  const fd = openSync(tty, constants.O_RDWR | constants.O_NOCTTY);
  const child = spawn(CHAT, ['-s', '-v', '-t', '5', ...script], { stdio: [fd, fd, 'pipe'] });
  let log = '';
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      if (!keep) closeSync(fd);
      resolve({ code, log, fd });
    });
  });
}

let ex: Exchange;
let a: SimModem;
let b: SimModem;
const dtes: Terminal[] = [];

beforeEach(async () => {
  ex = await createExchange({
    ringIntervalMs: 50,
    escapeGuardMs: 100,
    dialDelayMs: 5,
    noAnswerAfterRings: 5,
  });
  a = await ex.addModem({ number: '5551001' });
  b = await ex.addModem({ number: '5551002' });
});

afterEach(async () => {
  for (const d of dtes.splice(0)) await d.close();
  await ex.close();
});

describe.skipIf(!existsSync(CHAT))('real chat(8) against the exchange', () => {
  it('dials, gets CONNECT, and the line carries data both ways after chat hands it over', async () => {
    const db = await Terminal.open(b.ttyPath);
    dtes.push(db);
    await db.at('S0=1');
    await db.expect('OK\r\n');
    const run = await runChat(
      a.ttyPath,
      ['ABORT', 'BUSY', 'ABORT', 'NO CARRIER', '', 'ATZ', 'OK', 'ATDT5551002', 'CONNECT'],
      true,
    );
    expect(run.code, run.log).toBe(0);
    expect(run.log).toContain('CONNECT');
    await db.expect('CONNECT 33600\r\n');
    // The hand-over recipe: a new holder opens the tty before the old fd closes, so
    // the modem never sees the line dropped.
    const da = await Terminal.open(a.ttyPath);
    dtes.push(da);
    closeSync(run.fd);
    await da.write('ping from caller\r');
    await db.expect('ping from caller\r');
    await db.write('pong from callee\r');
    await da.expect('pong from callee\r');
    expect(a.state).toBe('online');
    expect(ex.events.some((e) => e.type === 'hangup')).toBe(false);
  });

  it('escapes with +++ after the guard time and hangs up with ATH; the far side sees NO CARRIER', async () => {
    const db = await Terminal.open(b.ttyPath);
    dtes.push(db);
    await db.at('S0=1');
    await db.expect('OK\r\n');
    // \d is chat's one-second pause: the guard time before +++ passes for real.
    const run = await runChat(a.ttyPath, [
      '',
      'AT',
      'OK',
      'ATD5551002',
      'CONNECT',
      '\\d+++\\c',
      'OK',
      'ATH0',
      'OK',
    ]);
    expect(run.code, run.log).toBe(0);
    await db.expect('NO CARRIER\r\n');
    expect(a.state).toBe('idle');
    expect(b.state).toBe('idle');
    const hangups = ex.events.filter((e) => e.type === 'hangup');
    expect(hangups.map((e) => [e.modem, e.reason])).toEqual([
      ['5551001', 'ath'],
      ['5551002', 'remote-hangup'],
    ]);
  });

  it('chat sees BUSY and aborts with exit code 4', async () => {
    const db = await Terminal.open(b.ttyPath);
    dtes.push(db);
    await db.at('H1');
    await db.expect('OK\r\n');
    const run = await runChat(a.ttyPath, ['ABORT', 'BUSY', '', 'ATD5551002', 'CONNECT']);
    expect(run.code, run.log).toBe(4);
  });

  it('chat copes with echo on and answers via chat on the other side too', async () => {
    const answer = runChat(b.ttyPath, ['RING', 'ATA', 'CONNECT']);
    // Dial only once chat on B holds its tty, or the first RING would not be sent.
    await ex.waitFor((e) => e.modem === '5551002' && e.type === 'open');
    const dial = runChat(a.ttyPath, ['', 'ATE1', 'OK', 'ATD5551002', 'CONNECT']);
    const [ra, rb] = await Promise.all([dial, answer]);
    expect(ra.code, ra.log).toBe(0);
    expect(rb.code, rb.log).toBe(0);
    // Both chats exited and closed their ttys: HUPCL hangs the call up.
    await ex.waitFor((e) => e.type === 'hangup' && e.modem === '5551002');
    await ex.waitFor((e) => e.type === 'hangup' && e.modem === '5551001');
  });
});
