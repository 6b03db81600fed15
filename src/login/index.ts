export * from './line-reader.js';
export * from './names.js';
export * from './tokens.js';
