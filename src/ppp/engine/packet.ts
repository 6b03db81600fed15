/**
 * The packet format LCP, PAP and CBCP share (RFC 1661 §5): Code(1) Identifier(1)
 * Length(2, whole packet) Data. Options are Type(1) Length(1, whole option) Value.
 */
export const PROTO_LCP = 0xc021;
export const PROTO_PAP = 0xc023;
export const PROTO_CBCP = 0xc029;

export interface Packet {
  code: number;
  id: number;
  data: Buffer;
}

export interface Option {
  type: number;
  value: Buffer;
}

/**
 * A packet, or undefined when it is too short or its Length runs past the frame. Bytes
 * after Length are padding and are dropped (RFC 1661 §5).
 */
export function parsePacket(info: Uint8Array): Packet | undefined {
  if (info.length < 4) return undefined;
  const length = ((info[2] as number) << 8) | (info[3] as number);
  if (length < 4 || length > info.length) return undefined;
  return { code: info[0] as number, id: info[1] as number, data: Buffer.from(info.subarray(4, length)) };
}

export function buildPacket(code: number, id: number, data: Uint8Array = Buffer.alloc(0)): Buffer {
  const length = 4 + data.length;
  return Buffer.concat([Buffer.from([code, id & 0xff, length >>> 8, length & 0xff]), data]);
}

/** Every option, or undefined when one has a length below 2 or runs past the data. */
export function parseOptions(data: Uint8Array): Option[] | undefined {
  const out: Option[] = [];
  let i = 0;
  while (i < data.length) {
    const type = data[i] as number;
    const len = data[i + 1];
    if (len === undefined || len < 2 || i + len > data.length) return undefined;
    out.push({ type, value: Buffer.from(data.subarray(i + 2, i + len)) });
    i += len;
  }
  return out;
}

export function buildOptions(options: Option[]): Buffer {
  return Buffer.concat(
    options.map((o) => Buffer.concat([Buffer.from([o.type, o.value.length + 2]), o.value])),
  );
}

export const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
