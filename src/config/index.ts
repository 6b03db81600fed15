/** The config module's public surface: load, validate, diff, and the Config types. */
export type * from './types.js';
export { parseConfig, loadConfig, type LocatedProblem } from './load.js';
export { diffConfig, isEmptyDiff, type ConfigDiff } from './diff.js';
export { parseDuration, formatDuration } from './duration.js';
export { DEFAULTS } from './defaults.js';
export { configCommands, checkConfig, hashPassword, type CommandIo } from './commands.js';
export { allWarnings, configWarnings, type ConfigWarning } from './warnings.js';
export { pppdForLine } from './pppd-line.js';
