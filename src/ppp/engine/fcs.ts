/**
 * FCS-16 of RFC 1662 appendix C: reflected polynomial 0x8408, initial value 0xFFFF. The
 * sender appends the ones-complement, low byte first; over data plus that FCS a good frame
 * gives GOOD_FCS.
 */
export const INIT_FCS = 0xffff;
export const GOOD_FCS = 0xf0b8;

const TABLE: Uint16Array = (() => {
  const t = new Uint16Array(256);
  for (let b = 0; b < 256; b++) {
    let v = b;
    for (let i = 0; i < 8; i++) v = v & 1 ? (v >>> 1) ^ 0x8408 : v >>> 1;
    t[b] = v;
  }
  return t;
})();

/** Runs the FCS over `data` starting from `fcs` (INIT_FCS for a new frame). */
export function fcs16(data: Uint8Array, fcs = INIT_FCS): number {
  let f = fcs;
  for (const byte of data) f = (f >>> 8) ^ (TABLE[(f ^ byte) & 0xff] as number);
  return f & 0xffff;
}

/** The two bytes a sender appends to `data`: the ones-complement of its FCS, low byte first. */
export function fcsTrailer(data: Uint8Array): Buffer {
  const f = fcs16(data) ^ 0xffff;
  return Buffer.from([f & 0xff, f >>> 8]);
}
