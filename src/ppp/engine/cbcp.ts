/**
 * The Callback Control Protocol (PPP 0xC029; [MS-CBCP], draft-ietf-pppext-callback-cp-02),
 * answering side. Packets are shaped like LCP's: 1 Callback-Request (us), 2 Callback-Response
 * (the caller), 3 Callback-Ack (us, echoing the Response's option).
 */
export const CBCP = { REQ: 1, RESP: 2, ACK: 3 } as const;

export type CallbackType = 'none' | 'user' | 'admin';
const TYPE_CODE: Record<CallbackType, number> = { none: 1, user: 2, admin: 3 };
const CODE_TYPE: Record<number, CallbackType> = { 1: 'none', 2: 'user', 3: 'admin' };

/**
 * The options of our Callback-Request. pppd 2.4.9 does not skip the address of a type-2
 * option (cbcp_recvreq), so whatever follows it is misparsed: type 2 always goes last.
 */
export function cbcpRequestOptions(types: readonly CallbackType[]): Buffer {
  const order: CallbackType[] = ['none', 'admin', 'user'];
  const parts = order
    .filter((t) => types.includes(t))
    .map(
      (t) =>
        t === 'none'
          ? Buffer.from([1, 2])
          : t === 'admin'
            ? Buffer.from([3, 3, 0]) // delay 0
            : Buffer.from([2, 5, 0, 1, 0]), // delay 0, address type 1 (PSTN), empty number
    );
  return Buffer.concat(parts);
}

export interface CbcpChoice {
  type: CallbackType;
  /** Seconds the caller wants us to wait before dialling. */
  delay: number;
  /** Type 2: the number the caller gave, as sent (checked by the caller of this module). */
  number?: string;
  /** The option as received, echoed in the Ack. */
  raw: Buffer;
}

/** The maximum length of a number we read; pppd itself cuts numbers at 250 characters. */
export const MAX_CBCP_NUMBER = 250;

/**
 * The caller's choice: the first option of a Callback-Response. Undefined for a malformed
 * option, an unknown type, or a type-2 option whose address is not a PSTN number of
 * printable characters ended by NUL.
 */
export function parseCbcpResponse(data: Uint8Array): CbcpChoice | undefined {
  const code = data[0];
  const len = data[1];
  if (code === undefined || len === undefined || len < 2 || len > data.length) return undefined;
  const type = CODE_TYPE[code];
  if (!type) return undefined;
  const raw = Buffer.from(data.subarray(0, len));
  const value = raw.subarray(2);
  const delay = value[0] ?? 0;
  if (type !== 'user') return { type, delay, raw };
  if (value.length < 3 || value[1] !== 1) return undefined;
  const addr = value.subarray(2);
  const nul = addr.indexOf(0);
  if (nul < 0 || nul > MAX_CBCP_NUMBER) return undefined;
  const bytes = addr.subarray(0, nul);
  if (bytes.some((b) => b < 0x20 || b > 0x7e)) return undefined;
  return { type, delay, number: bytes.toString('latin1'), raw };
}

export const cbcpTypeCode = (t: CallbackType): number => TYPE_CODE[t];
