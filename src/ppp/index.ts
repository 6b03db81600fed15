export { buildPppdArgv, papRequiredAtEnd, type PppdArgv } from './argv.js';
export {
  pppdOutcome,
  pppdExitLevel,
  PPPD_EXIT_CODES,
  type PppdOutcome,
  type TerminateCause,
} from './exit-codes.js';
export { handOverToPppd, type PppRun, type HandOverOptions } from './handover.js';
export { startPppd } from './start.js';
export { pppdTraffic } from './traffic.js';
