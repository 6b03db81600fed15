import { describe, expect, it } from 'vitest';
import { pppdTraffic } from '../../src/ppp/index.js';

describe('pppdTraffic', () => {
  it("reads pppd's link statistics line", () => {
    const log = 'Connect time 0.2 minutes.\nSent 1234 bytes, received 5678 bytes.\nConnection terminated.\n';
    expect(pppdTraffic(log)).toEqual({ bytesOut: 1234, bytesIn: 5678 });
  });

  it('takes the last report when the link came up twice', () => {
    expect(pppdTraffic('Sent 1 bytes, received 2 bytes.\nSent 30 bytes, received 40 bytes.')).toEqual({
      bytesOut: 30,
      bytesIn: 40,
    });
  });

  it('has nothing when pppd never got that far', () => {
    expect(pppdTraffic('Device ttyS1 is locked by pid 42\n')).toBeUndefined();
  });
});
