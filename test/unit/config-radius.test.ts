import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { CallbackdError } from '../../src/errors.js';

const BASE = `[daemon]
hostname = "nas-1"

[[lines]]
device = "/dev/ttyS1"

[pppd]
local_address = "192.168.1.1"
remote_address = "192.168.1.2"
`;

function problems(text: string): string {
  try {
    parseConfig(text, 'cb.toml');
  } catch (e) {
    if (e instanceof CallbackdError) return e.message;
    throw e;
  }
  return '';
}

describe('[radius]', () => {
  it('is optional', () => {
    expect(parseConfig(BASE, 'cb.toml').radius).toBeUndefined();
  });

  it('reads servers in order with defaults, the shared secret file and the NAS identity', () => {
    const cfg = parseConfig(
      `${BASE}
[radius]
secret_file = "/etc/callbackd/radius.secret"
nas_ip_address = "192.0.2.10"
local_fallback = "unavailable"
timeout = "2s"

[[radius.servers]]
address = "192.0.2.1"

[[radius.servers]]
address = "radius2.example.net"
auth_port = 21812
acct_port = 21813
secret_file = "/etc/callbackd/radius2.secret"
`,
      'cb.toml',
    );
    expect(cfg.radius).toEqual({
      servers: [
        { address: '192.0.2.1', authPort: 1812, acctPort: 1813, secretFile: '/etc/callbackd/radius.secret' },
        {
          address: 'radius2.example.net',
          authPort: 21812,
          acctPort: 21813,
          secretFile: '/etc/callbackd/radius2.secret',
        },
      ],
      nasIdentifier: 'nas-1',
      nasIpAddress: '192.0.2.10',
      timeoutMs: 2000,
      retries: 2,
      deadTimeMs: 60_000,
      accounting: true,
      interimIntervalMs: 0,
      spoolRetryMs: 30_000,
      localFallback: 'unavailable',
      pppdPap: true,
      pppdPlugin: 'radius.so',
    });
  });

  it('reports every problem as file:line: key: reason', () => {
    const msg = problems(`${BASE}
[radius]
local_fallback = "always"
interim_interval = "10s"
nas_ip_address = "not-an-ip"
retrys = 3

[[radius.servers]]
address = "bad address!"
auth_port = 70000

[[radius.servers]]
address = "192.0.2.2"
`);
    expect(msg).toContain('cb.toml:12: radius.local_fallback: must be "never" or "unavailable"');
    expect(msg).toContain('cb.toml:13: radius.interim_interval: must be 0 (off) or at least 60s');
    expect(msg).toContain('cb.toml:14: radius.nas_ip_address: "not-an-ip" is not an IPv4 address');
    expect(msg).toContain('cb.toml:15: radius.retrys: unknown key (did you mean "retries"?)');
    expect(msg).toContain(
      'cb.toml:18: radius.servers[0].address: "bad address!" is not an IPv4 address or host name',
    );
    expect(msg).toContain('cb.toml:19: radius.servers[0].auth_port: 70000 is outside 1..65535');
    expect(msg).toContain('cb.toml:21: radius.servers[1]: needs secret_file (here or in [radius])');
  });

  it('needs at least one server', () => {
    expect(problems(`${BASE}\n[radius]\nsecret_file = "/s"\n`)).toContain(
      'radius.servers: at least one [[radius.servers]] table is needed',
    );
  });
});
