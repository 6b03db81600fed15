/**
 * PAP server side (RFC 1334 §2.2): Authenticate-Request carries Peer-ID and Password, each
 * after a one-byte length; we answer Authenticate-Ack or -Nak with a one-byte message length.
 */
export const PAP = { REQ: 1, ACK: 2, NAK: 3 } as const;

export interface PapRequest {
  name: string;
  secret: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The name and password, or undefined for a truncated request or one that is not UTF-8. */
export function parsePapRequest(data: Uint8Array): PapRequest | undefined {
  const nameLen = data[0];
  if (nameLen === undefined) return undefined;
  const secretLen = data[1 + nameLen];
  if (secretLen === undefined || 2 + nameLen + secretLen > data.length) return undefined;
  try {
    return {
      name: utf8.decode(data.subarray(1, 1 + nameLen)),
      secret: utf8.decode(data.subarray(2 + nameLen, 2 + nameLen + secretLen)),
    };
  } catch {
    return undefined;
  }
}

export function papReply(message: string): Buffer {
  const m = Buffer.from(message, 'utf8').subarray(0, 255);
  return Buffer.concat([Buffer.from([m.length]), m]);
}
