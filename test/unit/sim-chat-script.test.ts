import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseChat, runChat, sendText } from '../../src/sim/chat-script.js';

const seed = readFileSync(new URL('../../config/client/pppcallback', import.meta.url), 'utf8');

describe('the built-in chat interpreter', () => {
  it("reads the HOWTO's client script as chat(8) does", () => {
    const steps = parseChat(seed);
    expect(steps.filter((s) => s.kind === 'abort').map((s) => s.kind === 'abort' && s.text)).toContain(
      'NO ANSWER',
    );
    expect(steps).toContainEqual({ kind: 'timeout', seconds: 180 });
    expect(steps).toContainEqual({
      kind: 'expect',
      // The HOWTO writes `ogin:-ogin:`: on a timeout chat sends "ogin:" and goes on.
      alternatives: [{ expect: 'ogin:' }, { send: 'ogin:', expect: '' }],
      send: 'call',
    });
    expect(steps).toContainEqual({
      kind: 'expect',
      alternatives: [{ expect: 'OK' }, { send: '+++\\c', expect: 'OK' }],
      send: 'AT&C0S0=1',
    });
  });

  it('adds the carriage return unless the send ends in \\c', () => {
    expect(sendText('ATDT123')).toBe('ATDT123\r');
    expect(sendText('+++\\c')).toBe('+++');
    expect(sendText('')).toBe('\r');
  });

  it('sends the sub-expect string when the first expect times out, and stops on ABORT', async () => {
    const sent: string[] = [];
    const heard = ['login:'];
    const io = {
      write: async (t: string) => void sent.push(t),
      expect: async (t: string, _ms: number, aborts: string[]) => {
        if (aborts.includes('BUSY') && heard[0] === 'BUSY')
          throw Object.assign(new Error('abort'), { abort: true });
        if (!heard.length || !t.includes('ogin')) throw new Error('timeout');
        heard.shift();
      },
    };
    await expect(runChat(parseChat("TIMEOUT 1 OK-AT-OK ''"), io)).rejects.toThrow('timeout');
    expect(sent).toEqual(['AT\r']);
    sent.length = 0;
    await runChat(parseChat('ogin:-\\r-ogin: call'), io);
    expect(sent).toEqual(['call\r']);
    heard.push('BUSY');
    await expect(runChat(parseChat('ABORT BUSY ogin: x'), io)).rejects.toThrow('abort');
  });
});
