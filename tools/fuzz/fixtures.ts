import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from '../paths.js';

const read = (file: string) => readFileSync(path.join(REPO, file), 'utf8');

/** The commented sample config: the fuzz base config and the text the loader's mutations start from. */
export const FUZZ_CONFIG_TOML = read('config/callbackd.toml');

/** The importer's unit-test fixtures: a real mgetty + callback setup to mutate. */
const MGETTY = 'test/unit/fixtures/mgetty/';
export const MGETTY_SAMPLES = {
  login: read(MGETTY + 'login.config'),
  mgetty: read(MGETTY + 'mgetty.config'),
  inittab: read(MGETTY + 'inittab'),
  callback: read(MGETTY + 'callback.config'),
  passwd: read(MGETTY + 'passwd'),
  options: read(MGETTY + 'options.ttyS1'),
};
