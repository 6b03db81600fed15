import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCallbackdError } from '../../src/errors.js';
import {
  ATTR,
  CODE,
  checkResponse,
  decode,
  encode,
  encodeAccessRequest,
  encodeAccountingRequest,
  hidePassword,
  revealPassword,
  signResponse,
  str,
  verifyAccountingRequest,
  verifyRequestMessageAuth,
} from '../../src/radius/packet.js';

const secret = Buffer.from('testing123');

function reply(code: number, id: number, requestAuth: Buffer, withMa: boolean): Buffer {
  const attrs = [str(ATTR.ReplyMessage, 'hi')];
  if (withMa) attrs.push({ type: ATTR.MessageAuthenticator, value: Buffer.alloc(16) });
  const buf = encode({ code, identifier: id, authenticator: Buffer.alloc(16), attributes: attrs });
  return signResponse(buf, requestAuth, secret);
}

describe('RADIUS codec', () => {
  it('hides User-Password as RFC 2865 §5.2 and a server can reveal it', () => {
    const ra = Buffer.alloc(16, 7);
    for (const pw of ['', 'x', 'secret1', 'a'.repeat(16), 'b'.repeat(17), 'c'.repeat(128)]) {
      const hidden = hidePassword(pw, secret, ra);
      expect(hidden.length % 16).toBe(0);
      expect(hidden.length).toBe(Math.max(16, Math.ceil(pw.length / 16) * 16));
      expect(revealPassword(hidden, secret, ra)).toBe(pw);
    }
    expect(() => hidePassword('d'.repeat(129), secret, ra)).toThrow(/longer than 128/);
  });

  it('puts a valid Message-Authenticator first in every Access-Request', () => {
    const { packet } = encodeAccessRequest(9, [str(ATTR.UserName, 'call')], secret, { password: 'pw' });
    const p = decode(packet);
    expect(p.attributes[0]?.type).toBe(ATTR.MessageAuthenticator);
    expect(verifyRequestMessageAuth(packet, secret)).toBe(true);
    expect(verifyRequestMessageAuth(packet, Buffer.from('other'))).toBe(false);
    packet[packet.length - 1] = (packet[packet.length - 1] as number) ^ 1;
    expect(verifyRequestMessageAuth(packet, secret)).toBe(false);
  });

  it('cuts a text attribute to 253 octets instead of failing the request', () => {
    expect(str(ATTR.CallingStationId, '5'.repeat(300)).value).toHaveLength(253);
    const { packet } = encodeAccessRequest(1, [str(ATTR.CallingStationId, '5'.repeat(300))], secret);
    expect(decode(packet).attributes[1]?.value).toHaveLength(253);
  });

  it('signs Accounting-Requests as RFC 2866 §3', () => {
    const { packet } = encodeAccountingRequest(3, [str(ATTR.AcctSessionId, 'abc')], secret);
    expect(verifyAccountingRequest(packet, secret)).toBe(true);
    expect(verifyAccountingRequest(packet, Buffer.from('x'))).toBe(false);
  });

  it('accepts a correctly signed Access-Accept and drops forged or unsigned ones', () => {
    const ra = Buffer.alloc(16, 1);
    expect(checkResponse(reply(CODE.AccessAccept, 1, ra, true), ra, secret).ok).toBe(true);
    const noMa = checkResponse(reply(CODE.AccessAccept, 1, ra, false), ra, secret);
    expect(noMa).toEqual({ ok: false, reason: 'no Message-Authenticator in an Access response' });
    const otherRa = checkResponse(reply(CODE.AccessAccept, 1, Buffer.alloc(16, 2), true), ra, secret);
    expect(otherRa.ok).toBe(false);
    // Right Response Authenticator over a wrong Message-Authenticator: still dropped.
    const buf = reply(CODE.AccessAccept, 1, ra, true);
    buf[buf.length - 1] = (buf[buf.length - 1] as number) ^ 1;
    const resigned = Buffer.from(buf);
    signResponseAuthOnly(resigned, ra);
    expect(checkResponse(resigned, ra, secret)).toEqual({ ok: false, reason: 'wrong Message-Authenticator' });
    // An Accounting-Response needs no Message-Authenticator.
    expect(checkResponse(reply(CODE.AccountingResponse, 1, ra, false), ra, secret).ok).toBe(true);
  });

  it('rejects malformed headers and attributes with its own error', () => {
    const cases: [number[], RegExp][] = [
      [[1, 0, 0], /shorter than the 20-byte header/],
      [[1, 0, 0, 19, ...new Array(16).fill(0)], /outside 20\.\.4096/],
      [[1, 0, 0, 30, ...new Array(16).fill(0)], /exceeds the 20 bytes/],
      [[1, 0, 0, 22, ...new Array(16).fill(0), 1, 1], /length 1/],
      [[1, 0, 0, 23, ...new Array(16).fill(0), 1, 5, 0], /runs past/],
      [[1, 0, 0, 21, ...new Array(16).fill(0), 1], /runs past/],
    ];
    for (const [bytes, re] of cases) {
      let err: unknown;
      try {
        decode(Buffer.from(bytes));
      } catch (e) {
        err = e;
      }
      expect(isCallbackdError(err, 'RADIUS_PACKET')).toBe(true);
      expect((err as Error).message).toMatch(re);
    }
  });

  it('fuzz: random and mutated packets only ever give a packet or RADIUS_PACKET', () => {
    const valid = encodeAccessRequest(
      1,
      [str(ATTR.UserName, 'call'), str(ATTR.CallbackNumber, '123')],
      secret,
      {
        password: 'x',
      },
    ).packet;
    const mutated = fc
      .array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 })
      .map((edits) => {
        const b = Buffer.from(valid);
        for (const [i, v] of edits) b[i] = v;
        return b;
      });
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 5000 }).map((u) => Buffer.from(u)),
      mutated,
    );
    fc.assert(
      fc.property(arb, (buf) => {
        try {
          const p = decode(buf);
          const total = p.attributes.reduce((n, a) => n + a.value.length + 2, 20);
          return total === buf.readUInt16BE(2) && total <= 4096;
        } catch (e) {
          return isCallbackdError(e, 'RADIUS_PACKET');
        }
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(arb, (buf) => {
        // checkResponse never throws, whatever arrives.
        const r = checkResponse(buf, Buffer.alloc(16), secret);
        return typeof r.ok === 'boolean';
      }),
      { numRuns: 3000 },
    );
  });
});

/** Recomputes only the Response Authenticator (a forger who knows the secret but broke the M-A). */
function signResponseAuthOnly(buf: Buffer, ra: Buffer): void {
  const h = createHash('md5')
    .update(buf.subarray(0, 4))
    .update(ra)
    .update(buf.subarray(20))
    .update(secret)
    .digest();
  h.copy(buf, 4);
}
