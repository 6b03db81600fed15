import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineReader, type ReaderEvent } from '../../src/login/line-reader.js';

function reader(
  opts: Partial<{ maxLength: number; echo: boolean; detectPpp: boolean; continuesLine: boolean }> = {},
): LineReader {
  return new LineReader({ maxLength: 32, echo: true, detectPpp: true, ...opts });
}
function feedAll(r: LineReader, chunks: (string | number[] | Buffer)[]) {
  const echo: Buffer[] = [];
  const events: ReaderEvent[] = [];
  for (const c of chunks) {
    const out = r.feed(typeof c === 'string' ? Buffer.from(c, 'latin1') : Buffer.from(c));
    echo.push(out.echo);
    events.push(...out.events);
  }
  return { echo: Buffer.concat(echo).toString('latin1'), events };
}
const line = (text: string): ReaderEvent => ({ kind: 'line', text });

describe('LineReader: lines and echo', () => {
  it('echoes typed characters and ends a line on CR with CRLF', () => {
    expect(feedAll(reader(), ['call\r'])).toEqual({ echo: 'call\r\n', events: [line('call')] });
  });

  it('ends a line on LF too, and counts CRLF and LFCR pairs once', () => {
    const out = feedAll(reader(), ['a\r\nb\n\rc\r', '\n', 'd\n']);
    expect(out.events).toEqual([line('a'), line('b'), line('c'), line('d')]);
  });

  it('gives two lines for CR CR (an empty one)', () => {
    expect(feedAll(reader(), ['x\r\r']).events).toEqual([line('x'), line('')]);
  });

  it('strips bytes to 7 bits', () => {
    expect(feedAll(reader({ detectPpp: false }), [[0xe1, 0xe2, 0x0d]]).events).toEqual([line('ab')]);
  });

  it('drops NUL, ^A, XON, XOFF and other control bytes without echo', () => {
    const out = feedAll(reader(), [[0x00, 0x61, 0x01, 0x11, 0x62, 0x13, 0x1b, 0x07, 0x63, 0x0d]]);
    expect(out).toEqual({ echo: 'abc\r\n', events: [line('abc')] });
  });

  it('erases one character on BS and on DEL, echoing "\\b \\b"', () => {
    const out = feedAll(reader(), ['cal\x08\x08all\x7f\x7fll\r']);
    expect(out.events).toEqual([line('call')]);
    expect(out.echo).toBe('cal\b \b\b \ball\b \b\b \bll\r\n');
  });

  it('ignores erasing past the start of the line', () => {
    expect(feedAll(reader(), ['\x08\x7fa\r'])).toEqual({ echo: 'a\r\n', events: [line('a')] });
  });

  it('^U rubs out the whole line on screen and starts it again', () => {
    const out = feedAll(reader(), ['abc\x15call\r']);
    expect(out.events).toEqual([line('call')]);
    expect(out.echo).toBe('abc' + '\b \b'.repeat(3) + 'call\r\n');
  });

  it('^C cancels the line', () => {
    const out = feedAll(reader(), ['abc\x03call\r']);
    expect(out.events).toEqual([{ kind: 'cancel' }, line('call')]);
    expect(out.echo).toBe('abc\r\ncall\r\n');
  });

  it('with echo off (password) sends back only the line end', () => {
    const r = reader();
    r.setEcho(false);
    expect(feedAll(r, ['s3cr\x08et\x15secret\r'])).toEqual({ echo: '\r\n', events: [line('secret')] });
    r.setEcho(true);
    expect(feedAll(r, ['x\r']).echo).toBe('x\r\n');
  });

  it('refuses an overlong line: the rest is ignored, unechoed, until the line ends', () => {
    const out = feedAll(reader({ maxLength: 4 }), ['abcdefgh\x08\r', 'ok\r']);
    expect(out.events).toEqual([{ kind: 'overlong' }, line('ok')]);
    expect(out.echo).toBe('abcd\r\nok\r\n');
  });

  it('accepts a line of exactly maxLength', () => {
    expect(feedAll(reader({ maxLength: 4 }), ['abcd\r']).events).toEqual([line('abcd')]);
  });

  it.each(['NO CARRIER', 'ERROR', 'BUSY', 'NO DIALTONE', 'NO ANSWER'])(
    'reports %j as a modem result',
    (text) => {
      expect(feedAll(reader(), [`\r\n${text}\r\n`]).events).toEqual([
        line(''),
        { kind: 'modem-result', text },
      ]);
    },
  );

  it('reset forgets a half-typed line', () => {
    const r = reader();
    feedAll(r, ['half']);
    r.reset();
    expect(feedAll(r, ['call\r']).events).toEqual([line('call')]);
  });

  it('refuses a maxLength that is not a positive whole number', () => {
    expect(() => reader({ maxLength: 0 })).toThrow(/maxLength/);
  });
});

describe('LineReader: a line begun before it (continuesLine)', () => {
  it('drops the rest of that line, unechoed, with the whole CRLF, then reads as usual', () => {
    const r = reader({ continuesLine: true });
    expect(feedAll(r, ['1A', '\r\n', 'pppuser\r'])).toEqual({
      echo: 'pppuser\r\n',
      events: [line('pppuser')],
    });
  });

  it('ends at a PPP flag, which AutoPPP then reads', () => {
    const r = reader({ continuesLine: true });
    const out = feedAll(r, [[0x21, 0x7d, 0x21, 0x7e, 0xff, 0x03, 0xc0, 0x21]]);
    expect(out.events).toEqual([{ kind: 'ppp' }]);
    expect(out.echo).toBe('');
  });

  it('changes nothing without it', () => {
    expect(feedAll(reader(), ['1A\r']).events).toEqual([line('1A')]);
  });
});

describe('LineReader: AutoPPP', () => {
  it.each([
    ['7E FF 03 C0 21', [0x7e, 0xff, 0x03, 0xc0, 0x21]],
    ['7E FF 7D 23 C0 21', [0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21]],
    ['7E 7D DF 7D 23 C0 21', [0x7e, 0x7d, 0xdf, 0x7d, 0x23, 0xc0, 0x21]],
    ['7E 7E FF 03 C0 21', [0x7e, 0x7e, 0xff, 0x03, 0xc0, 0x21]],
  ])('detects %s, consuming it without echo', (_name, bytes) => {
    const out = feedAll(reader(), ['ab', [...bytes, 0x01, 0x02, 0x7e]]);
    expect(out.events).toEqual([{ kind: 'ppp' }]);
    expect(out.echo).toBe('ab');
  });

  it('detects a frame split into single bytes', () => {
    const bytes = [0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21];
    expect(
      feedAll(
        reader(),
        bytes.map((b) => [b]),
      ).events,
    ).toEqual([{ kind: 'ppp' }]);
  });

  it('swallows everything after detection until reset', () => {
    const r = reader();
    feedAll(r, [[0x7e, 0xff, 0x03, 0xc0, 0x21]]);
    expect(feedAll(r, ['call\r'])).toEqual({ echo: '', events: [] });
    r.reset();
    expect(feedAll(r, ['call\r']).events).toEqual([line('call')]);
  });

  it('an unexpected byte resets the matcher; a later flag starts again', () => {
    const out = feedAll(reader(), [[0x7e, 0xff, 0x03, 0xc0, 0x23, 0x7e, 0xff, 0x03, 0xc0, 0x21]]);
    expect(out.events).toEqual([{ kind: 'ppp' }]);
  });

  it('a failed frame is never echoed; the junk line ends in a cancel (prompt again)', () => {
    const out = feedAll(reader(), ['ab', [0x7e, 0xff, 0x03, 0x80, 0x21, 0x41, 0x42], '\r', 'call\r']);
    expect(out.events).toEqual([{ kind: 'cancel' }, line('call')]);
    expect(out.echo).toBe('ab\r\ncall\r\n');
  });

  it('without detection 0x7E is an ordinary "~"', () => {
    expect(feedAll(reader({ detectPpp: false }), [[0x7e, 0x41, 0x0d]])).toEqual({
      echo: '~A\r\n',
      events: [line('~A')],
    });
  });

  it('setDetectPpp switches detection at a new prompt', () => {
    const r = reader({ detectPpp: false });
    r.setDetectPpp(true);
    expect(feedAll(r, [[0x7e, 0xff, 0x03, 0xc0, 0x21]]).events).toEqual([{ kind: 'ppp' }]);
  });
});

// A PPP frame as an async-HDLC sender puts it on the wire with the default ACCM:
// control bytes, 7D and 7E inside are escaped.
function hdlc(body: number[]): number[] {
  const out = [0x7e];
  for (const b of body) {
    if (b < 0x20 || b === 0x7d || b === 0x7e) out.push(0x7d, b ^ 0x20);
    else out.push(b);
  }
  out.push(0x7e);
  return out;
}
// LCP frames never use address/control compression (RFC 1661), so FF 03 is always there.
const lcpBody = fc.uint8Array({ maxLength: 40 }).map((rest) => [0xff, 0x03, 0xc0, 0x21, ...rest]);
const anyBody = fc.uint8Array({ minLength: 1, maxLength: 40 }).map((a) => [...a]);
// Typing without 0x7E (a flag): what a person sends.
const typing = fc.uint8Array({ maxLength: 60 }).map((a) => [...a].filter((b) => b !== 0x7e));

function chunked(bytes: number[], cuts: number[]): number[][] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: number[][] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.slice(from, p));
    from = p;
  }
  return out;
}

describe('LineReader: properties', () => {
  const opts = fc.record({
    maxLength: fc.integer({ min: 1, max: 40 }),
    echo: fc.boolean(),
    detectPpp: fc.boolean(),
  });

  it('never throws on any bytes in any chunking, and chunking does not change echo or events', () => {
    fc.assert(
      fc.property(
        opts,
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (o, data, cuts) => {
          const whole = feedAll(new LineReader(o), [Buffer.from(data)]);
          const parts = feedAll(new LineReader(o), chunked([...data], cuts));
          expect(parts).toEqual(whole);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('lines never exceed maxLength and hold only printable 7-bit text', () => {
    fc.assert(
      fc.property(opts, fc.uint8Array({ maxLength: 500 }), (o, data) => {
        const { events } = feedAll(new LineReader(o), [Buffer.from(data)]);
        for (const e of events) {
          if (e.kind === 'line') {
            expect(e.text.length).toBeLessThanOrEqual(o.maxLength);
            expect(e.text).toMatch(/^[\x20-\x7e]*$/);
          }
        }
      }),
    );
  });

  it('echo never contains a byte of a PPP frame, and an LCP frame is always detected', () => {
    fc.assert(
      fc.property(typing, fc.oneof(lcpBody, anyBody), typing, (before, body, after) => {
        const frame = hdlc(body);
        const base = feedAll(reader(), [before]);
        const r = reader();
        const withFrame = feedAll(r, [before, frame]);
        // The frame adds nothing to the echo...
        expect(withFrame.echo).toBe(base.echo);
        const isLcp = body[0] === 0xff && body[1] === 0x03 && body[2] === 0xc0 && body[3] === 0x21;
        if (isLcp) {
          expect(withFrame.events.at(-1)).toEqual({ kind: 'ppp' });
          // ...and after detection nothing more is echoed at all.
          expect(feedAll(r, [after]).echo).toBe('');
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('LCP frames are detected whatever chunking', () => {
    fc.assert(
      fc.property(lcpBody, fc.array(fc.nat(), { maxLength: 10 }), (body, cuts) => {
        const { events } = feedAll(reader(), chunked(hdlc(body), cuts));
        expect(events).toEqual([{ kind: 'ppp' }]);
      }),
    );
  });

  it('state stays bounded under hours of noise', () => {
    const r = new LineReader({ maxLength: 16, echo: true, detectPpp: true });
    const noise = Buffer.alloc(64 * 1024);
    let seed = 1;
    for (let round = 0; round < 32; round++) {
      for (let i = 0; i < noise.length; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        noise[i] = seed >> 16;
      }
      r.feed(noise);
      const inner = r as unknown as { line: string };
      expect(inner.line.length).toBeLessThanOrEqual(16);
    }
  });
});
