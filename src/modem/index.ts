export {
  Modem,
  type AnswerOutcome,
  type CommandResult,
  type DialOutcome,
  type FinalResult,
  type ModemOptions,
  type RingEvent,
} from './modem.js';
export { parseCallerIdLine, parseResult, type CallerIdInfo, type ParsedResult } from './results.js';
export { parseChat, parseSend, tokenizeChat, type ChatStep, type SendPart } from './chat.js';
export { LineAssembler, MAX_LINE } from './lines.js';
