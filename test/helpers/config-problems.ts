import { parseConfig } from '../../src/config/load.js';
import { isCallbackdError } from '../../src/errors.js';

/** What check-config says about a config text: `key: reason` lines (none when it loads). */
export function configProblems(text: string): string[] {
  try {
    parseConfig(text, 'cb.toml');
  } catch (e) {
    if (isCallbackdError(e)) return e.message.split('\n').slice(1);
    throw e;
  }
  return [];
}

/** A config with one line (`line` added to its table), the pppd addresses and `entries`. */
export const oneLineConfig = (entries: string, line: string): string => `
[[lines]]
device = "/dev/ttyS1"
${line}

[pppd]
local_address = "192.168.1.1"
remote_address = "192.168.1.2"
${entries}`;
