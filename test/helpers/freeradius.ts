/** The FreeRADIUS runner lives with the benchmarks (which ship in dist/); tests use the same one. */
export {
  FreeRadius,
  FREERADIUS,
  parseDetail,
  writeSecretFile,
  type FreeRadiusOptions,
} from '../../src/bench/freeradius.js';
