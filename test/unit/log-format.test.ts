import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, formatLine, stdoutIsJournal, syslogPriority } from '../../src/log.js';
import { pppdExitLevel } from '../../src/ppp/index.js';

function capture(format: 'journal' | 'json' | 'text') {
  const out: string[] = [];
  const destination = new Writable({
    write: (chunk: Buffer, _e, done) => {
      out.push(chunk.toString());
      done();
    },
  });
  return { out, log: createLogger({ level: 'debug', destination, format }) };
}

describe('log formats', () => {
  it('writes each key once when a child binding and the event name the same field', () => {
    const { out, log } = capture('json');
    log.child({ line: 'ttyS1' }).info({ event: 'ring', line: 'ttyS1', count: 1 });
    expect(out[0]).toMatch(/^\{"level":30,"time":"[^"]+","line":"ttyS1","event":"ring","count":1\}\n$/);
    expect(out[0]!.match(/"line"/g)).toHaveLength(1);
  });

  it('journal: sd-daemon prefix by level, readable text, then the fields as JSON', () => {
    const { out, log } = capture('journal');
    const l = log.child({ line: 'ttyS1' });
    l.error({ event: 'ppp-exit', line: 'ttyS1', code: 4 });
    l.warn({ event: 'locked-out' });
    l.notice({ event: 'login-refused' });
    l.info('accounting file writable again');
    l.debug({ event: 'state' });
    l.trace({ event: 'bytes' }); // below the level: not written
    expect(out).toEqual([
      '<3>ppp-exit [ttyS1] {"line":"ttyS1","event":"ppp-exit","code":4}\n',
      '<4>locked-out [ttyS1] {"line":"ttyS1","event":"locked-out"}\n',
      '<5>login-refused [ttyS1] {"line":"ttyS1","event":"login-refused"}\n',
      '<6>[ttyS1]: accounting file writable again {"line":"ttyS1","msg":"accounting file writable again"}\n',
      '<7>state [ttyS1] {"line":"ttyS1","event":"state"}\n',
    ]);
  });

  it('journal: the text part never holds a brace, so the JSON starts at the first one', () => {
    const line = formatLine('{"level":30,"time":"t","msg":"odd {text}\\nsecond"}', 'journal');
    expect(line).toBe('<6>odd  text} second {"msg":"odd {text}\\nsecond"}\n');
    expect(JSON.parse(line.slice(line.indexOf('{')))).toEqual({ msg: 'odd {text}\nsecond' });
  });

  it('text: time, level name, event, line, then key=value', () => {
    expect(
      formatLine(
        '{"level":40,"time":"T","line":"ttyS1","event":"dial-failed","number":"123 4","attempt":1}',
        'text',
      ),
    ).toBe('T WARN   dial-failed [ttyS1] number="123 4" attempt=1\n');
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(formatLine('not json', 'journal')).toBe('not json\n');
  });

  it('maps pino levels to syslog priorities', () => {
    expect([10, 20, 30, 35, 40, 50, 60].map(syslogPriority)).toEqual([7, 7, 6, 5, 4, 3, 2]);
  });

  it('takes stdout for the journal only when JOURNAL_STREAM names this very stream', () => {
    expect(stdoutIsJournal({})).toBe(false);
    expect(stdoutIsJournal({ JOURNAL_STREAM: '1:2' })).toBe(false);
  });

  it('logs a pppd that cannot work as an error, a failed link as a warning, a normal end as info', () => {
    expect(pppdExitLevel('ppp-no-kernel-ppp')).toBe('error');
    expect(pppdExitLevel('ppp-option-error')).toBe('error');
    expect(pppdExitLevel('ppp-peer-auth-failed')).toBe('warn');
    expect(pppdExitLevel('ppp-hangup')).toBe('info');
    expect(pppdExitLevel('ppp-ok')).toBe('info');
  });
});
