import { describe, expect, it } from 'vitest';
import { Deframer, encodeFrame, fcs16, fcsTrailer, GOOD_FCS } from '../../src/ppp/engine/index.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('FCS-16 (RFC 1662 appendix C)', () => {
  it('gives 0x906E for "123456789", sent as 6E 90', () => {
    const data = Buffer.from('123456789');
    expect(fcs16(data) ^ 0xffff).toBe(0x906e);
    expect(fcsTrailer(data)).toEqual(hex('6e90'));
    expect(fcs16(Buffer.concat([data, fcsTrailer(data)]))).toBe(GOOD_FCS);
  });

  it('matches the wire bytes pppd 2.4.9 accepted: LCP Term-Ack and PAP Ack', () => {
    expect(fcsTrailer(hex('ff03c021 06020004'))).toEqual(hex('940d'));
    expect(fcsTrailer(hex('ff03c023 0201000500'))).toEqual(hex('8b3b'));
  });
});

describe('async HDLC-like framing', () => {
  it('escapes flag, escape and every control byte under the default map', () => {
    const wire = encodeFrame(0xc021, hex('0602 0004'));
    // 06 02 00 04 are all control bytes: each goes out as 7D xx.
    expect(wire).toEqual(hex('7e ff 7d23 c0 21 7d26 7d22 7d20 7d24 94 7d2d 7e'));
  });

  it('sends control bytes raw once the peer asked for an empty map, but never 7D/7E', () => {
    const wire = encodeFrame(0xc023, hex('0201 0005 00 7e 7d'), 0);
    expect(wire.subarray(1, -1).includes(0x7e)).toBe(false);
    expect(wire.includes(hex('0201'))).toBe(true);
    const [f] = new Deframer(1600, 0).push(wire);
    // Under the default map the raw control bytes count as line noise and are dropped.
    expect(new Deframer().push(wire)).toEqual([]);
    expect(f).toEqual({ protocol: 0xc023, info: hex('0201 0005 00 7e 7d') });
  });

  it('deframes byte by byte, across chunks, with compressed address and protocol fields', () => {
    const d = new Deframer();
    const wire = Buffer.concat([
      encodeFrame(0xc021, hex('09010008 00000000')),
      encodeFrame(0x8021, hex('0101000a')),
    ]);
    const got = [...wire].flatMap((b) => d.push(Buffer.from([b])));
    expect(got.map((f) => f.protocol)).toEqual([0xc021, 0x8021]);
    // ACFC and PFC: no FF 03, one-byte protocol 0x21 (IP).
    const body = hex('21 4541');
    const raw = Buffer.concat([Buffer.from([0x7e]), body, fcsTrailer(body), Buffer.from([0x7e])]);
    expect(d.push(raw)).toEqual([{ protocol: 0x21, info: hex('4541') }]);
  });

  it('drops bad FCS, aborted frames, text between frames and overlong frames, holding at most maxFrame bytes', () => {
    const d = new Deframer(64);
    const good = encodeFrame(0xc021, hex('0b010004'));
    const bad = Buffer.from(good);
    bad[3] = (bad[3] as number) ^ 1;
    const aborted = Buffer.concat([good.subarray(0, -1), hex('7d7e')]);
    const long = Buffer.concat([hex('7e'), Buffer.alloc(500, 0x41), hex('7e')]);
    const frames = d.push(Buffer.concat([Buffer.from('login: '), bad, aborted, long, good]));
    expect(frames).toHaveLength(1);
    expect(d.stats).toMatchObject({ frames: 1, badFcs: 2, aborted: 1, tooLong: 1 });
    d.push(Buffer.alloc(10_000, 0x41));
    expect(d.pending).toBeLessThanOrEqual(64);
  });
});
