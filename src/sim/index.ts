/**
 * The virtual telephone exchange: Hayes modems on pseudo-terminals, connected by
 * phone number. See docs/simulator.md.
 */
export { createExchange, digitsOf } from './exchange.js';
export type { AddModemOptions, Exchange, ExchangeOptions, SimModem } from './exchange.js';
export type { SimEvent, SimEventType, TextWatch } from './events.js';
export type { DialFault, Faults } from './faults.js';
export { parseCommandLine } from './at-parser.js';
export type { AtCommand, ParseResult } from './at-parser.js';
export { connectSimSignals, serveControl } from './control.js';
export type { ControlServer, SimSignalsClient } from './control.js';
export { stdioWithoutMasters } from './pty.js';
