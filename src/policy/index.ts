export * from './hash.js';
export * from './identify.js';
export * from './numbers.js';
export * from './limits.js';
