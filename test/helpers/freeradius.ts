/** The FreeRADIUS runner lives with the benchmarks (tools/bench); tests use the same one. */
export {
  FreeRadius,
  FREERADIUS,
  parseDetail,
  writeSecretFile,
  type FreeRadiusOptions,
} from '../../tools/bench/freeradius.js';
