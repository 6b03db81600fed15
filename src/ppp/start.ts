import path from 'node:path';
import { pppdForLine } from '../config/pppd-line.js';
import type { Config, LineConfig, PppUser } from '../config/types.js';
import type { Logger } from '../log.js';
import { buildPppdArgv, type PppdRadiusArgs } from './argv.js';
import { handOverToPppd, type PppRun } from './handover.js';

/**
 * The session's way to start pppd on a line: argv from the config, then the hand-over.
 * Shaped to fit the session's PppStarter port without importing it (session depends on
 * ppp, not the other way round).
 */
export async function startPppd(o: {
  line: LineConfig;
  config: Config;
  user?: PppUser;
  autoPpp: boolean;
  radius?: PppdRadiusArgs;
  pppdOptions?: string[];
  closeLine: () => Promise<void>;
  lock?: { handOver(pid: number): void | Promise<void> };
  log: Logger;
}): Promise<PppRun> {
  const { file, args } = buildPppdArgv(pppdForLine(o.config, o.line), {
    user: o.user,
    autoPpp: o.autoPpp,
    lineName: o.line.name,
    radius: o.radius,
    extraOptions: o.pppdOptions,
  });
  return handOverToPppd({
    ttyPath: o.line.device,
    closeLine: o.closeLine,
    file,
    args,
    lock: o.lock,
    log: o.log,
    // pppd sets the modem line up itself (CLOCAL off, HUPCL on): no stty process.
    stty: path.basename(file) !== 'pppd',
    // The hang-up escalation waits as long as a stop does: real pppd gets its time.
    hangupGraceMs: o.line.timing.pppStopMs,
  });
}
