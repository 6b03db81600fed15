import { vi } from 'vitest';
import type { CallRecord, LineLock, PolicyState, SessionDeps } from '../../src/session/deps.js';
import { LineSession } from '../../src/session/line-session.js';
import type { PppRun } from '../../src/ppp/index.js';
import { MemoryTransport } from '../../src/serial/memory-transport.js';
import { createLogger } from '../../src/log.js';
import { LogTap } from '../../src/log-tap.js';
import type { Config } from '../../src/config/types.js';
import { testConfig, testLine, testUser } from '../helpers/config.js';

/**
 * The effect loop of one line without a pty: LineSession and its LineKeeper on a
 * MemoryTransport whose far end is a scripted Hayes modem, with a fake lock, a fake
 * policy, a pppd that the test ends, and vitest's fake clock. Drive it with `ring()`,
 * `type()`, `advance()`; read what happened from `records`, `states` and `tap`.
 */
export interface Harness {
  session: LineSession;
  /** The transport the line has open now (a new one after every reopen). */
  readonly modem: MemoryTransport;
  transports: MemoryTransport[];
  commands: string[];
  records: CallRecord[];
  states: string[];
  tap: LogTap;
  lock: LineLock & { fail?: 'reclaim' };
  /** pppd runs the test controls: `exit(code)` ends the newest one. */
  ppp: { started: number; exit(code: number, stderr?: string): void };
  /** Secret checks waiting for the test's verdict, when `manualVerify` is set. */
  verifies: ((ok: boolean) => void)[];
  /** How often the session said a secret check is coming (prepareSecretCheck). */
  prepared: number;
  manualVerify: boolean;
  /** What the modem answers to ATA / ATD (undefined: nothing, ever). */
  answers: { ata?: string; atd?: string };
  ring(): void;
  type(text: string | Buffer): void;
  advance(ms: number): Promise<void>;
}

export const res = (s: string) => `\r\n${s}\r\n`;

/**
 * A factory of memory transports whose far end answers like a Hayes modem: OK to
 * every AT command, `answers.ata` / `answers.atd` to ATA and ATD.
 */
export function scriptedModems(
  transports: MemoryTransport[],
  commands: string[],
  answers: { ata?: string; atd?: string },
  device?: string,
): (line?: { device: string }) => MemoryTransport {
  return (line) => {
    const t = new MemoryTransport(line?.device ?? device, { open: false });
    let pending = '';
    t.onWrite((b) => {
      pending += b.toString('latin1');
      let i: number;
      while ((i = pending.search(/\r/)) >= 0) {
        const cmd = pending.slice(0, i).trim();
        pending = pending.slice(i + 1);
        if (!/^AT/i.test(cmd)) continue;
        commands.push(cmd);
        const r = /^ATA/i.test(cmd) ? answers.ata : /^ATD/i.test(cmd) ? answers.atd : res('OK');
        if (r !== undefined) queueMicrotask(() => t.peer.write(r));
      }
    });
    transports.push(t);
    return t;
  };
}

export async function startHarness(tune: (c: Config) => Config = (c) => c): Promise<Harness> {
  vi.useFakeTimers();
  const config = tune(testConfig({ pppUsers: [testUser('scrypt$16384$8$1$c2FsdA==$aGFzaA==')] }));
  const line = config.lines[0] ?? testLine();
  const tap = new LogTap();
  const log = createLogger({ level: 'debug', destination: tap.stream });
  const transports: MemoryTransport[] = [];
  const commands: string[] = [];
  const records: CallRecord[] = [];
  const states: string[] = [];
  const answers: Harness['answers'] = { ata: res('CONNECT 33600'), atd: res('CONNECT 33600') };
  const runs: { resolve: (v: { code: number | null; signal: string | null }) => void; stderr: string }[] = [];

  const open = scriptedModems(transports, commands, answers, line.device);

  const lock: Harness['lock'] = {
    acquire: async () => ({ ok: true }),
    release: async () => undefined,
    handOver: async () => undefined,
    reclaim: async () => {
      if (lock.fail === 'reclaim') throw new Error('ENOSPC: no space left on device');
    },
  };
  const policy: PolicyState = {
    isLocked: () => false,
    failure: () => undefined,
    success: () => undefined,
    rateCheck: () => ({ ok: true }),
    record: () => undefined,
  };
  const deps: SessionDeps = {
    line,
    config: () => config,
    log,
    openTransport: open,
    lock,
    policy,
    startPpp: async (o) => {
      await o.closeLine();
      let resolve!: (v: { code: number | null; signal: string | null }) => void;
      const exited = new Promise<{ code: number | null; signal: string | null }>((r) => (resolve = r));
      const run = { resolve, stderr: '' };
      runs.push(run);
      const ppp: PppRun = {
        pid: 4242,
        exited,
        stop: async () => resolve({ code: 5, signal: null }),
        hangup: () => resolve({ code: 16, signal: null }),
        stderrTail: () => run.stderr,
      };
      return ppp;
    },
    finish: (rec) => records.push(rec),
    onState: (s) => states.push(s.state),
    now: () => Date.now(),
    prepareSecretCheck: () => {
      h.prepared++;
    },
    verifySecret: (): Promise<boolean> =>
      h.manualVerify ? new Promise<boolean>((r) => h.verifies.push(r)) : Promise.resolve(true),
  };
  const session = new LineSession(deps);
  session.start();
  const h: Harness = {
    session,
    get modem() {
      return transports.at(-1)!;
    },
    transports,
    commands,
    records,
    states,
    tap,
    lock,
    answers,
    verifies: [],
    prepared: 0,
    manualVerify: false,
    ppp: {
      get started() {
        return runs.length;
      },
      exit(code, stderr = '') {
        const run = runs.at(-1)!;
        run.stderr = stderr;
        run.resolve({ code, signal: null });
      },
    },
    ring: () => h.modem.peer.write(res('RING')),
    type: (text) => h.modem.peer.write(text),
    advance: async (ms) => {
      await vi.advanceTimersByTimeAsync(ms);
    },
  };
  await h.advance(5_000); // reset and init
  return h;
}
