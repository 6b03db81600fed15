import type { Logger } from '../log.js';
import type { RadiusClient } from './client.js';
import {
  ATTR,
  CODE,
  SERVICE_TYPE,
  encodeAccessRequest,
  getInt,
  getIpv4,
  getString,
  getStrings,
  int,
  ipv4,
  str,
  type Attribute,
  type Packet,
} from './packet.js';

/** Who this NAS is, as every request says. */
export interface NasIdentity {
  nasIdentifier?: string;
  nasIpAddress?: string;
}

export interface AuthRequest {
  name: string;
  secret: string;
  /** Line name (NAS-Port-Id). */
  line: string;
  /** Line index (NAS-Port). */
  lineIndex: number;
  callerId?: string;
  calledId?: string;
  /** 1: the first login (a call-back request); 2: the login after the call-back. */
  leg: 1 | 2;
}

export type ServiceType = 'login' | 'framed' | 'callback-login' | 'callback-framed' | 'other';

export type AuthResult =
  | {
      kind: 'accept';
      /** Callback-Number; '' means the caller supplies it (checked against the entry's rules). */
      callbackNumber?: string;
      /** Callback-Id: the name of a local [[callbacks]] entry. */
      callbackId?: string;
      framedIp?: string;
      /** Seconds. */
      sessionTimeout?: number;
      idleTimeout?: number;
      replyMessage?: string;
      serviceType: ServiceType;
    }
  | { kind: 'reject'; replyMessage?: string }
  | { kind: 'unavailable' };

const SERVICE_NAMES: Record<number, ServiceType> = {
  [SERVICE_TYPE.Login]: 'login',
  [SERVICE_TYPE.Framed]: 'framed',
  [SERVICE_TYPE.CallbackLogin]: 'callback-login',
  [SERVICE_TYPE.CallbackFramed]: 'callback-framed',
};

/** What may be dialled from a Callback-Number: digits and the usual dial characters. */
const DIALABLE = /^[0-9+*#,]{0,40}$/;
const NAS_PORT_TYPE_ASYNC = 0;
const FRAMED_PROTOCOL_PPP = 1;

export function accessRequestAttributes(req: AuthRequest, nas: NasIdentity): Attribute[] {
  const attrs: Attribute[] = [str(ATTR.UserName, req.name)];
  if (nas.nasIdentifier) attrs.push(str(ATTR.NasIdentifier, nas.nasIdentifier));
  if (nas.nasIpAddress) attrs.push(ipv4(ATTR.NasIpAddress, nas.nasIpAddress));
  attrs.push(
    int(ATTR.NasPort, req.lineIndex),
    str(ATTR.NasPortId, req.line),
    int(ATTR.NasPortType, NAS_PORT_TYPE_ASYNC),
  );
  if (req.callerId) attrs.push(str(ATTR.CallingStationId, req.callerId));
  if (req.calledId) attrs.push(str(ATTR.CalledStationId, req.calledId));
  // A hint, as Cisco sends it: the first login asks for a call-back, the second for PPP.
  // FreeRADIUS can pick its users entry by it (radius.so always sends Framed-User).
  attrs.push(int(ATTR.ServiceType, req.leg === 1 ? SERVICE_TYPE.CallbackFramed : SERVICE_TYPE.Framed));
  attrs.push(int(ATTR.FramedProtocol, FRAMED_PROTOCOL_PPP));
  return attrs;
}

/**
 * Asks the RADIUS servers about one login. Never throws: a reply that cannot be used
 * (malformed values, an undialable Callback-Number) is logged and treated as a reject;
 * no answer at all is `unavailable`, which the caller may map to a local fallback.
 */
export async function authenticate(
  client: RadiusClient,
  nas: NasIdentity,
  req: AuthRequest,
  log: Logger,
): Promise<AuthResult> {
  // RFC 2865 §5.2 hides at most 128 bytes: no RADIUS password is longer, so this one is wrong.
  if (Buffer.byteLength(req.secret, 'utf8') > 128) return { kind: 'reject' };
  const attrs = accessRequestAttributes(req, nas);
  let reply;
  try {
    reply = await client.request('auth', (t) =>
      encodeAccessRequest(t.identifier, attrs, t.secret, { password: req.secret }),
    );
  } catch (e) {
    log.error({ err: (e as Error).message, line: req.line }, 'radius: cannot build the Access-Request');
    return { kind: 'unavailable' };
  }
  if (!reply) {
    log.warn({ line: req.line, user: req.name }, 'radius: no server answered the Access-Request');
    return { kind: 'unavailable' };
  }
  try {
    const result = interpret(reply.packet, req, log, reply.server);
    log.info(
      { server: reply.server, line: req.line, user: req.name, leg: req.leg, result: result.kind },
      'radius: answer',
    );
    return result;
  } catch (e) {
    log.warn({ server: reply.server, err: (e as Error).message }, 'radius: unusable Access-Accept; refusing');
    return { kind: 'reject' };
  }
}

function replyMessage(p: Packet): string | undefined {
  const parts = getStrings(p, ATTR.ReplyMessage);
  return parts.length > 0 ? parts.join('') : undefined;
}

function interpret(p: Packet, req: AuthRequest, log: Logger, server: string): AuthResult {
  const message = replyMessage(p);
  if (p.code === CODE.AccessReject) {
    // RFC 2865 §4.3: a Reject carries only Reply-Message; anything else in it is ignored.
    return message === undefined ? { kind: 'reject' } : { kind: 'reject', replyMessage: message };
  }
  if (p.code === CODE.AccessChallenge) {
    log.warn({ server, line: req.line }, 'radius: Access-Challenge is not supported; refusing the login');
    return message === undefined ? { kind: 'reject' } : { kind: 'reject', replyMessage: message };
  }
  const serviceNumber = getInt(p, ATTR.ServiceType);
  const serviceType: ServiceType =
    serviceNumber === undefined ? 'framed' : (SERVICE_NAMES[serviceNumber] ?? 'other');
  const out: AuthResult & { kind: 'accept' } = { kind: 'accept', serviceType };
  const number = getString(p, ATTR.CallbackNumber);
  if (number !== undefined) {
    const cleaned = number.replace(/[\s\-()./]/g, '');
    if (!DIALABLE.test(cleaned)) {
      throw new Error('Callback-Number holds characters that cannot be dialled');
    }
    out.callbackNumber = cleaned;
  }
  const id = getString(p, ATTR.CallbackId);
  if (id !== undefined) out.callbackId = id;
  const ip = getIpv4(p, ATTR.FramedIpAddress);
  // 255.255.255.254 / .255 mean "NAS chooses" / "user chooses" (RFC 2865 §5.8): leave pppd's own.
  if (ip !== undefined && ip !== '255.255.255.254' && ip !== '255.255.255.255') out.framedIp = ip;
  const st = getInt(p, ATTR.SessionTimeout);
  if (st !== undefined) out.sessionTimeout = st;
  const it = getInt(p, ATTR.IdleTimeout);
  if (it !== undefined) out.idleTimeout = it;
  if (message !== undefined) out.replyMessage = message;
  return out;
}
