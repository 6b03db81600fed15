/**
 * The first-leg PPP engine: framing, LCP, PAP and CBCP for call-back inside PPP
 * (docs/ppp-callback.md). PppEngine is the facade; engineStep the pure machine under it.
 */
export { fcs16, fcsTrailer, GOOD_FCS, INIT_FCS } from './fcs.js';
export { Deframer, encodeFrame, parseFrameBody, DEFAULT_ACCM, type Frame } from './hdlc.js';
export {
  ENGINE_DEFAULTS,
  engineStep,
  initialEngine,
  wakeAt,
  type EngineConfig,
  type EngineContext,
  type EngineEffect,
  type EngineEvent,
  type EngineInput,
  type EngineState,
  type NumberCheck,
  type PapDecision,
} from './engine.js';
export type { CallbackType } from './cbcp.js';
export {
  PppEngine,
  deframe,
  encodeSends,
  initialDeframe,
  type DeframeState,
  type EngineOutput,
  type PppEngineOptions,
} from './ppp-engine.js';
