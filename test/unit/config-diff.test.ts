import { describe, expect, it } from 'vitest';
import { diffConfig, isEmptyDiff } from '../../src/config/diff.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';

const HASH = 'scrypt$16384$8$1$prTiTSzmkTUQcOCVAlFOIg==$rGhrZBikqVMuOAV2uFu17IPHXn1rRoLfKVwabzQ5wow=';

/** Builds a config from line tables and extra text, through the real loader. */
function config(lines: string[], extra = ''): Config {
  const text = [
    ...lines.map((l) => `[[lines]]\n${l}\n`),
    `[[callbacks]]\nname = "call"\nnumber = "123456"\n`,
    `[[ppp_users]]\nname = "pppuser"\npassword_hash = "${HASH}"\n`,
    `[pppd]\nlocal_address = "192.168.1.1"\nremote_address = "192.168.1.2"\n`,
    extra,
  ].join('\n');
  return parseConfig(text, 'diff.toml');
}

const S1 = 'device = "/dev/ttyS1"';
const S2 = 'device = "/dev/ttyS2"';
const S3 = 'device = "/dev/ttyS3"';

describe('diffConfig', () => {
  it('finds nothing between equal configs', () => {
    const d = diffConfig(config([S1, S2]), config([S1, S2]));
    expect(d).toEqual({
      linesAdded: [],
      linesRemoved: [],
      linesChanged: [],
      linesUnchanged: ['ttyS1', 'ttyS2'],
      globalChanged: [],
    });
    expect(isEmptyDiff(d)).toBe(true);
  });

  it('matches lines by name: added, removed, changed, unchanged', () => {
    const d = diffConfig(config([S1, S2]), config([`${S1}\nrings = 3`, S3]));
    expect(d.linesAdded).toEqual(['ttyS3']);
    expect(d.linesRemoved).toEqual(['ttyS2']);
    expect(d.linesChanged).toEqual(['ttyS1']);
    expect(d.linesUnchanged).toEqual([]);
    expect(d.globalChanged).toEqual([]);
    expect(isEmptyDiff(d)).toBe(false);
  });

  it('sees a renamed line as one removed and one added', () => {
    const d = diffConfig(config([S1]), config([`${S1}\nname = "modem"`]));
    expect(d.linesAdded).toEqual(['modem']);
    expect(d.linesRemoved).toEqual(['ttyS1']);
  });

  it('counts a line whose own timing changed as changed, not its neighbours', () => {
    const d = diffConfig(config([S1, S2]), config([S1, `${S2}\n[lines.timing]\ndial = "2m"`]));
    expect(d.linesChanged).toEqual(['ttyS2']);
    expect(d.linesUnchanged).toEqual(['ttyS1']);
    expect(d.globalChanged).toEqual([]);
  });

  it('names the global sections that changed; global timing reaches every line', () => {
    const before = config([S1]);
    const after = config(
      [S1],
      '[timing]\nanswer = "60s"\n[security.lockout]\nmax_failures = 9\n[login]\nprompt = "login: "\n',
    );
    const d = diffConfig(before, after);
    expect(d.globalChanged).toEqual(['timing', 'login', 'security']);
    expect(d.linesChanged).toEqual(['ttyS1']);
  });

  it('notices call-back entries, PPP users and pppd changes', () => {
    const before = config([S1]);
    const after = structuredClone(before);
    after.callbacks[0]!.number = '654321';
    after.pppUsers[0]!.remoteAddress = '192.168.1.9';
    after.pppd.options = ['debug'];
    after.daemon.logLevel = 'debug';
    expect(diffConfig(before, after).globalChanged).toEqual(['daemon', 'callbacks', 'pppUsers', 'pppd']);
  });

  it('ignores where the config was read from', () => {
    const a = config([S1]);
    expect(isEmptyDiff(diffConfig(a, { ...a, source: '/elsewhere.toml' }))).toBe(true);
  });
});
