/**
 * pppd reports a link's traffic when it ends ("Sent 1234 bytes, received 5678 bytes.",
 * from print_link_stats); its log reaches us on stderr (logfd 2). Accounting takes the
 * numbers from there: callbackd never sees the bytes itself.
 */
export function pppdTraffic(log: string): { bytesIn: number; bytesOut: number } | undefined {
  const last = [...log.matchAll(/Sent (\d+) bytes, received (\d+) bytes/g)].at(-1);
  if (!last) return undefined;
  return { bytesOut: Number(last[1]), bytesIn: Number(last[2]) };
}
