import type { Config, LineConfig, PppdConfig } from './types.js';

/**
 * The [pppd] settings for a call on one line: a line's own `[lines.pppd]` addresses
 * (mgetty setups keep a `local:remote` pair per tty in /etc/ppp/options.<tty>)
 * override the global ones. A PPP user's remote_address still wins over both.
 */
export function pppdForLine(cfg: Pick<Config, 'pppd'>, line: Pick<LineConfig, 'pppd'>): PppdConfig {
  const own = line.pppd;
  if (!own) return cfg.pppd;
  return {
    ...cfg.pppd,
    ...(own.localAddress !== undefined ? { localAddress: own.localAddress } : {}),
    ...(own.remoteAddress !== undefined ? { remoteAddress: own.remoteAddress } : {}),
  };
}
