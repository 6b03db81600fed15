export { Modem } from './modem.js';
export type {
  AnswerOutcome,
  CommandResult,
  DialOutcome,
  FinalResult,
  ModemOptions,
  RingEvent,
} from './types.js';
export { parseCallerIdLine, parseResult, type CallerIdInfo, type ParsedResult } from './results.js';
export { parseChat, parseSend, tokenizeChat, type ChatStep, type SendPart } from './chat.js';
export { LineAssembler, MAX_LINE } from './lines.js';
export { OnlineStream } from './online.js';
export { RingTracker } from './rings.js';
