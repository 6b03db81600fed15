import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CallbackdError } from '../errors.js';

/**
 * RADIUS packets (RFC 2865 §3-5, RFC 2866 §3, RFC 3579 §3.2), encoded and decoded here.
 *
 * Decoding is defensive: every length is checked against the buffer before it is read,
 * the only exception ever thrown is CallbackdError('RADIUS_PACKET'), and work is bounded
 * by the 4096-byte maximum packet size.
 */

export const CODE = {
  AccessRequest: 1,
  AccessAccept: 2,
  AccessReject: 3,
  AccountingRequest: 4,
  AccountingResponse: 5,
  AccessChallenge: 11,
  StatusServer: 12,
} as const;

export const ATTR = {
  UserName: 1,
  UserPassword: 2,
  NasIpAddress: 4,
  NasPort: 5,
  ServiceType: 6,
  FramedProtocol: 7,
  FramedIpAddress: 8,
  ReplyMessage: 18,
  CallbackNumber: 19,
  CallbackId: 20,
  Class: 25,
  SessionTimeout: 27,
  IdleTimeout: 28,
  CalledStationId: 30,
  CallingStationId: 31,
  NasIdentifier: 32,
  ProxyState: 33,
  AcctStatusType: 40,
  AcctDelayTime: 41,
  AcctInputOctets: 42,
  AcctOutputOctets: 43,
  AcctSessionId: 44,
  AcctAuthentic: 45,
  AcctSessionTime: 46,
  AcctInputPackets: 47,
  AcctOutputPackets: 48,
  AcctTerminateCause: 49,
  AcctMultiSessionId: 50,
  EventTimestamp: 55,
  NasPortType: 61,
  MessageAuthenticator: 80,
  NasPortId: 87,
} as const;

export const SERVICE_TYPE = {
  Login: 1,
  Framed: 2,
  CallbackLogin: 3,
  CallbackFramed: 4,
} as const;

export const ACCT_STATUS = { Start: 1, Stop: 2, InterimUpdate: 3 } as const;

export const HEADER = 20;
export const MAX_PACKET = 4096;
const MAX_PASSWORD = 128;

export interface Attribute {
  type: number;
  value: Buffer;
}

export interface Packet {
  code: number;
  identifier: number;
  /** The 16-byte authenticator field as it is on the wire. */
  authenticator: Buffer;
  attributes: Attribute[];
}

function bad(message: string): CallbackdError {
  return new CallbackdError('RADIUS_PACKET', message);
}

/** Parses a datagram. Throws only CallbackdError('RADIUS_PACKET'). */
export function decode(buf: Uint8Array): Packet {
  if (!(buf instanceof Uint8Array)) throw bad('not a byte buffer');
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < HEADER) throw bad(`packet of ${b.length} bytes is shorter than the 20-byte header`);
  const length = b.readUInt16BE(2);
  if (length < HEADER || length > MAX_PACKET) throw bad(`length field ${length} is outside 20..4096`);
  // RFC 2865 §3: octets beyond Length are padding and ignored; fewer is a silent discard.
  if (length > b.length) throw bad(`length field ${length} exceeds the ${b.length} bytes received`);
  const attributes: Attribute[] = [];
  let at = HEADER;
  while (at < length) {
    if (at + 2 > length) throw bad(`attribute header at offset ${at} runs past the packet`);
    const type = b[at] as number;
    const len = b[at + 1] as number;
    if (len < 2) throw bad(`attribute ${type} at offset ${at} has length ${len} (< 2)`);
    if (at + len > length) throw bad(`attribute ${type} at offset ${at} runs past the packet`);
    attributes.push({ type, value: Buffer.from(b.subarray(at + 2, at + len)) });
    at += len;
  }
  return {
    code: b[0] as number,
    identifier: b[1] as number,
    authenticator: Buffer.from(b.subarray(4, 20)),
    attributes,
  };
}

/** Serialises header and attributes; the authenticator is written as given. */
export function encode(p: Packet): Buffer {
  const parts: Buffer[] = [];
  for (const a of p.attributes) {
    if (a.value.length > 253) throw bad(`attribute ${a.type} value of ${a.value.length} bytes exceeds 253`);
    parts.push(Buffer.from([a.type, a.value.length + 2]), a.value);
  }
  const body = Buffer.concat(parts);
  const length = HEADER + body.length;
  if (length > MAX_PACKET) throw bad(`packet of ${length} bytes exceeds 4096`);
  if (p.authenticator.length !== 16) throw bad('authenticator must be 16 bytes');
  const head = Buffer.alloc(4);
  head[0] = p.code;
  head[1] = p.identifier;
  head.writeUInt16BE(length, 2);
  return Buffer.concat([head, p.authenticator, body]);
}

// ---- attribute values ----

/** A text attribute, cut to the 253 octets an attribute can hold (a caller ID from the exchange may be longer). */
export function str(type: number, s: string): Attribute {
  const value = Buffer.from(s, 'utf8');
  return { type, value: value.length > 253 ? value.subarray(0, 253) : value };
}

export function int(type: number, n: number): Attribute {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(n >>> 0, 0);
  return { type, value };
}

export function ipv4(type: number, addr: string): Attribute {
  const parts = addr.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw bad(`${JSON.stringify(addr)} is not an IPv4 address`);
  }
  return { type, value: Buffer.from(parts) };
}

export function first(p: Packet, type: number): Buffer | undefined {
  return p.attributes.find((a) => a.type === type)?.value;
}

export function getString(p: Packet, type: number): string | undefined {
  return first(p, type)?.toString('utf8');
}

/** All values of a repeatable text attribute (Reply-Message) joined. */
export function getStrings(p: Packet, type: number): string[] {
  return p.attributes.filter((a) => a.type === type).map((a) => a.value.toString('utf8'));
}

export function getInt(p: Packet, type: number): number | undefined {
  const v = first(p, type);
  if (v === undefined) return undefined;
  if (v.length !== 4) throw bad(`attribute ${type} must be 4 bytes, got ${v.length}`);
  return v.readUInt32BE(0);
}

export function getIpv4(p: Packet, type: number): string | undefined {
  const v = first(p, type);
  if (v === undefined) return undefined;
  if (v.length !== 4) throw bad(`attribute ${type} must be 4 bytes, got ${v.length}`);
  return [...v].join('.');
}

// ---- crypto ----

function md5(...parts: Buffer[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** RFC 2865 §5.2: the User-Password value for a request authenticator. */
export function hidePassword(password: string, secret: Buffer, requestAuth: Buffer): Buffer {
  const plain = Buffer.from(password, 'utf8');
  if (plain.length > MAX_PASSWORD) throw bad(`password longer than ${MAX_PASSWORD} bytes`);
  const padded = Buffer.alloc(Math.max(16, Math.ceil(plain.length / 16) * 16));
  plain.copy(padded);
  const out = Buffer.alloc(padded.length);
  let prev = requestAuth;
  for (let i = 0; i < padded.length; i += 16) {
    const key = md5(secret, prev);
    for (let j = 0; j < 16; j++) out[i + j] = (padded[i + j] as number) ^ (key[j] as number);
    prev = out.subarray(i, i + 16);
  }
  return out;
}

/** The inverse of hidePassword (what a server does); used by tests and the test responder. */
export function revealPassword(hidden: Buffer, secret: Buffer, requestAuth: Buffer): string {
  if (hidden.length === 0 || hidden.length % 16 !== 0 || hidden.length > MAX_PASSWORD) {
    throw bad(`User-Password of ${hidden.length} bytes is not a multiple of 16 up to 128`);
  }
  const out = Buffer.alloc(hidden.length);
  let prev = requestAuth;
  for (let i = 0; i < hidden.length; i += 16) {
    const key = md5(secret, prev);
    for (let j = 0; j < 16; j++) out[i + j] = (hidden[i + j] as number) ^ (key[j] as number);
    prev = hidden.subarray(i, i + 16);
  }
  const end = out.indexOf(0);
  return out.subarray(0, end === -1 ? out.length : end).toString('utf8');
}

/** Offset of the Message-Authenticator value in an encoded packet, or -1. */
function messageAuthOffset(buf: Buffer): number {
  const length = buf.readUInt16BE(2);
  let at = HEADER;
  let found = -1;
  while (at + 2 <= length) {
    const len = buf[at + 1] as number;
    if (len < 2 || at + len > length) return -2;
    if (buf[at] === ATTR.MessageAuthenticator) {
      if (len !== 18 || found !== -1) return -2; // wrong size or twice: not acceptable
      found = at + 2;
    }
    at += len;
  }
  return found;
}

/** HMAC-MD5 over the packet with the M-A value zeroed and `headerAuth` in the header. */
function computeMessageAuth(buf: Buffer, offset: number, headerAuth: Buffer, secret: Buffer): Buffer {
  const copy = Buffer.from(buf);
  headerAuth.copy(copy, 4);
  copy.fill(0, offset, offset + 16);
  return createHmac('md5', secret).update(copy).digest();
}

/** Builds an Access-Request (or Status-Server): random authenticator, M-A first. */
export function encodeAccessRequest(
  identifier: number,
  attributes: Attribute[],
  secret: Buffer,
  opts: { password?: string; code?: number; authenticator?: Buffer } = {},
): { packet: Buffer; authenticator: Buffer } {
  const authenticator = opts.authenticator ?? randomBytes(16);
  const attrs: Attribute[] = [{ type: ATTR.MessageAuthenticator, value: Buffer.alloc(16) }];
  attrs.push(...attributes.filter((a) => a.type !== ATTR.MessageAuthenticator));
  if (opts.password !== undefined) {
    attrs.push({ type: ATTR.UserPassword, value: hidePassword(opts.password, secret, authenticator) });
  }
  const packet = encode({
    code: opts.code ?? CODE.AccessRequest,
    identifier,
    authenticator,
    attributes: attrs,
  });
  const off = messageAuthOffset(packet);
  computeMessageAuth(packet, off, authenticator, secret).copy(packet, off);
  return { packet, authenticator };
}

/** RFC 2866 §3: the Accounting-Request authenticator is an MD5 over the packet and secret. */
export function encodeAccountingRequest(
  identifier: number,
  attributes: Attribute[],
  secret: Buffer,
): { packet: Buffer; authenticator: Buffer } {
  const packet = encode({
    code: CODE.AccountingRequest,
    identifier,
    authenticator: Buffer.alloc(16),
    attributes,
  });
  const authenticator = md5(packet, secret);
  authenticator.copy(packet, 4);
  return { packet, authenticator };
}

/** Checks an Accounting-Request's authenticator (server side; the test responder uses it). */
export function verifyAccountingRequest(buf: Buffer, secret: Buffer): boolean {
  const copy = Buffer.from(buf.subarray(0, buf.readUInt16BE(2)));
  const got = Buffer.from(copy.subarray(4, 20));
  copy.fill(0, 4, 20);
  return timingSafeEqual(md5(copy, secret), got);
}

/** Response Authenticator (RFC 2865 §3): MD5(Code+ID+Length+RequestAuth+Attributes+Secret). */
export function responseAuthenticator(buf: Buffer, requestAuth: Buffer, secret: Buffer): Buffer {
  const length = buf.readUInt16BE(2);
  return md5(buf.subarray(0, 4), requestAuth, buf.subarray(20, length), secret);
}

/** Signs a response in place as a server does: M-A (if present) first, then the authenticator. */
export function signResponse(buf: Buffer, requestAuth: Buffer, secret: Buffer): Buffer {
  const off = messageAuthOffset(buf);
  if (off >= 0) computeMessageAuth(buf, off, requestAuth, secret).copy(buf, off);
  responseAuthenticator(buf, requestAuth, secret).copy(buf, 4);
  return buf;
}

export type ResponseCheck = { ok: true; packet: Packet } | { ok: false; reason: string };

/**
 * Verifies a response to our request: decodes it, checks the Response Authenticator
 * and the Message-Authenticator. Access-* responses must carry a valid
 * Message-Authenticator (BlastRADIUS, CVE-2024-3596); on an Accounting-Response one is
 * checked when present. Never throws.
 */
export function checkResponse(buf: Buffer, requestAuth: Buffer, secret: Buffer): ResponseCheck {
  let packet: Packet;
  try {
    packet = decode(buf);
  } catch (e) {
    return { ok: false, reason: `malformed: ${(e as Error).message}` };
  }
  const b = buf.subarray(0, buf.readUInt16BE(2));
  const expected = responseAuthenticator(b, requestAuth, secret);
  if (!timingSafeEqual(expected, packet.authenticator)) {
    return { ok: false, reason: 'wrong Response Authenticator (forged, or the shared secret differs)' };
  }
  const off = messageAuthOffset(b);
  if (off === -2) return { ok: false, reason: 'malformed or repeated Message-Authenticator' };
  const isAccess = [CODE.AccessAccept, CODE.AccessReject, CODE.AccessChallenge].includes(
    packet.code as 2 | 3 | 11,
  );
  if (off === -1) {
    if (isAccess) return { ok: false, reason: 'no Message-Authenticator in an Access response' };
    return { ok: true, packet };
  }
  const mac = computeMessageAuth(b, off, requestAuth, secret);
  if (!timingSafeEqual(mac, b.subarray(off, off + 16))) {
    return { ok: false, reason: 'wrong Message-Authenticator' };
  }
  return { ok: true, packet };
}

/** Server side: checks an Access-Request's Message-Authenticator (the test responder). */
export function verifyRequestMessageAuth(buf: Buffer, secret: Buffer): boolean {
  const b = buf.subarray(0, buf.readUInt16BE(2));
  const off = messageAuthOffset(b);
  if (off < 0) return false;
  const mac = computeMessageAuth(b, off, b.subarray(4, 20), secret);
  return timingSafeEqual(mac, b.subarray(off, off + 16));
}
