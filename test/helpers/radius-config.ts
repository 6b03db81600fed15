import type { RadiusConfig } from '../../src/config/radius.js';

/** A complete [radius] config for tests: one server on loopback; override what a test needs. */
export function testRadiusConfig(over: Partial<RadiusConfig> = {}): RadiusConfig {
  return {
    servers: [
      { address: '127.0.0.1', authPort: 1812, acctPort: 1813, secretFile: '/etc/callbackd/radius.secret' },
    ],
    nasIdentifier: 'nas-test',
    timeoutMs: 2000,
    retries: 2,
    deadTimeMs: 60_000,
    accounting: true,
    interimIntervalMs: 0,
    spoolRetryMs: 30_000,
    localFallback: 'never',
    pppdPap: true,
    pppdPlugin: 'radius.so',
    pppdBindAddress: '127.0.0.2',
    ...over,
  };
}
