import type { CallbackEntry, Config, LineConfig, PppUser } from '../../src/config/types.js';
import { FAST_TIMING } from '../../src/timing.js';

/**
 * A complete Config for tests, shaped like the seed's setup (pseudo-user `call`
 * calling back 123456, `pppuser`, 192.168.1.1:192.168.1.2). Override what a test needs.
 */
export function testLine(over: Partial<LineConfig> = {}): LineConfig {
  return {
    name: 'ttyS1',
    device: '/dev/ttyS1',
    speed: 115200,
    flowControl: 'none',
    init: '"" ATZ OK AT&FE0 OK',
    dialPrefix: 'ATDT',
    rings: 1,
    answer: true,
    dialOut: true,
    signals: { kind: 'hardware' },
    timing: { ...FAST_TIMING },
    ...over,
  };
}

export function testEntry(over: Partial<CallbackEntry> = {}): CallbackEntry {
  return {
    name: 'call',
    number: '123456',
    callerSupplies: false,
    rules: { allow: [], deny: [], minLength: 3, maxLength: 20, modifiers: '' },
    callerId: [],
    delayMs: 200,
    attempts: 3,
    retryDelayMs: 200,
    dialLines: [],
    ...over,
  };
}

export function testUser(passwordHash: string, over: Partial<PppUser> = {}): PppUser {
  return { name: 'pppuser', passwordHash, ...over };
}

export function testConfig(over: Partial<Config> = {}): Config {
  return {
    source: 'test.toml',
    daemon: {
      lockDir: '/tmp/callbackd-test-locks',
      stateDir: '/tmp/callbackd-test-state',
      accountingFile: '/tmp/callbackd-test-state/accounting.jsonl',
      logLevel: 'info',
      hostname: 'testhost',
      nologinDir: '/nonexistent',
    },
    timing: { ...FAST_TIMING },
    login: {
      issue: '\\nWelcome to @ on \\P\\n',
      prompt: 'login: ',
      passwordPrompt: 'Password: ',
      maxLength: 32,
      maxAttempts: 3,
      callbackMessage: '\\nCalling you back at \\N. Hang up now.\\n',
      goodbye: 'Goodbye.\\n',
      timeoutWarning: '\\nLogin timeout soon.\\n',
    },
    security: {
      lockout: { maxFailures: 5, windowMs: 600_000, lockMs: 900_000 },
      rateLimit: { perEntry: 10, perNumber: 10, total: 100, windowMs: 3_600_000 },
    },
    lines: [testLine()],
    callbacks: [testEntry()],
    pppUsers: [],
    pppd: {
      path: '/usr/sbin/pppd',
      prefixArgs: [],
      options: ['require-pap', 'proxyarp', 'ms-dns', '192.168.1.1'],
      localAddress: '192.168.1.1',
      remoteAddress: '192.168.1.2',
      autoPppBeforeCallback: false,
      autoPppAfterCallback: true,
    },
    ...over,
  };
}
