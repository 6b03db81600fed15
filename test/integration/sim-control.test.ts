import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCallbackdError } from '../../src/errors.js';
import {
  connectSimSignals,
  createExchange,
  serveControl,
  type ControlServer,
  type Exchange,
  type SimModem,
  type SimSignalsClient,
} from '../../src/sim/index.js';
import { startSim } from '../../src/sim/command.js';
import { Dte } from '../../src/sim/dte.js';
import { createSerialTransport } from '../../src/serial/index.js';
import { silentLogger } from '../../src/log.js';

let dir: string;
let ex: Exchange;
let a: SimModem;
let b: SimModem;
let server: ControlServer | undefined;
const clients: SimSignalsClient[] = [];
const dtes: Dte[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-control-'));
  ex = await createExchange({ ringIntervalMs: 30, dialDelayMs: 2 });
  a = await ex.addModem({ number: '5551001', link: join(dir, 'ttyA') });
  b = await ex.addModem({ number: '5551002' });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const d of dtes.splice(0)) await d.close();
  await server?.close();
  server = undefined;
  await ex.close();
  rmSync(dir, { recursive: true, force: true });
});

function client(tty: string): SimSignalsClient {
  const c = connectSimSignals(join(dir, 'sim.sock'), tty, { requestTimeoutMs: 1000, reconnectMs: 20 });
  clients.push(c);
  return c;
}

async function call(): Promise<Dte> {
  const da = await Dte.open(a.ttyPath);
  const db = await Dte.open(b.ttyPath);
  dtes.push(da, db);
  await db.at('S0=1');
  await db.expect('OK\r\n');
  await da.at('D5551002');
  await da.expect('CONNECT 33600\r\n');
  return db;
}

describe('control socket', () => {
  it('reaches DTR and carrier of a modem from another connection, by link path', async () => {
    server = await serveControl(ex, join(dir, 'sim.sock'));
    expect(readlinkSync(join(dir, 'ttyA'))).toBe(a.ttyPath);
    const sig = client(join(dir, 'ttyA'));
    const seen: boolean[] = [];
    let gotThree!: () => void;
    const three = new Promise<void>((resolve) => (gotThree = resolve));
    sig.onCarrier((on) => {
      seen.push(on);
      if (seen.length === 3) gotThree();
    });
    expect(await sig.getCarrier()).toBe(false);
    const db = await call();
    expect(await sig.getCarrier()).toBe(true);
    await sig.setDtr(false);
    await db.expect('NO CARRIER\r\n');
    expect(await sig.getCarrier()).toBe(false);
    // The watch pushes every change, in order: the initial state, the call, the hang-up.
    await three;
    expect(seen).toEqual([false, true, false]);
  });

  it('rejects with DEVICE_GONE for an unknown tty or a missing server, and reconnects later', async () => {
    const sig = client(a.ttyPath);
    const err = await sig.getCarrier().catch((e: unknown) => e);
    expect(isCallbackdError(err, 'DEVICE_GONE')).toBe(true);
    server = await serveControl(ex, join(dir, 'sim.sock'));
    expect(await sig.getCarrier()).toBe(false);
    const other = client('/dev/pts/does-not-exist');
    await expect(other.setDtr(true)).rejects.toThrow(/no simulated modem/);
    await server.close();
    server = undefined;
    await expect(sig.getCarrier()).rejects.toThrow(/sim control/);
  });

  it('replaces a stale socket file and refuses a live one', async () => {
    // A socket file nobody listens on, as a killed simulator leaves behind.
    const bind = 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])';
    execFileSync('python3', ['-c', bind, join(dir, 'sim.sock')]);
    expect(existsSync(join(dir, 'sim.sock'))).toBe(true);
    server = await serveControl(ex, join(dir, 'sim.sock'));
    expect(await client(a.ttyPath).getCarrier()).toBe(false);
    await expect(serveControl(ex, join(dir, 'sim.sock'))).rejects.toThrow(/another simulator/);
  });
});

describe('callbackd sim', () => {
  it('lists modems with links and the control socket, then ready; close removes them', async () => {
    const lines: string[] = [];
    const links = join(dir, 'links');
    const sim = await startSim(
      {
        numbers: '5376443,123456',
        linkDir: links,
        control: join(links, 'sim.sock'),
        ringMs: 50,
        connectSpeed: 115200,
        callerId: false,
      },
      (l) => lines.push(l),
    );
    try {
      expect(lines).toHaveLength(4);
      expect(lines[0]).toMatch(new RegExp(`^modem 5376443 /dev/pts/\\d+ ${links}/modem5376443$`));
      expect(lines[1]).toMatch(new RegExp(`^modem 123456 /dev/pts/\\d+ ${links}/modem123456$`));
      expect(lines[2]).toBe(`control ${links}/sim.sock`);
      expect(lines[3]).toBe('ready');
      const d = await Dte.open(join(links, 'modem123456'));
      dtes.push(d);
      await d.at('D5376443');
      await sim.exchange.waitFor((e) => e.type === 'ring' && e.modem === '5376443');
    } finally {
      await sim.close();
    }
    expect(existsSync(join(links, 'modem5376443'))).toBe(false);
    expect(existsSync(join(links, 'sim.sock'))).toBe(false);
  });

  it('refuses inconsistent arguments', async () => {
    const base = { ringMs: 50, connectSpeed: 33600, callerId: false };
    await expect(startSim({ ...base, modems: 3, numbers: '1,2' }, () => undefined)).rejects.toThrow(
      /--modems 3/,
    );
    await expect(startSim({ ...base, numbers: '1,1' }, () => undefined)).rejects.toThrow(/duplicate/);
    await expect(startSim({ ...base, modems: 0 }, () => undefined)).rejects.toThrow(/1\.\.64/);
  });
});

describe('control socket connections', () => {
  it('a line reopened five times holds at most one connection, and none once closed', async () => {
    server = await serveControl(ex, join(dir, 'sim.sock'));
    for (let i = 0; i < 5; i++) {
      // As the daemon opens a simulated line: a transport with its own signals client.
      const t = createSerialTransport({
        path: a.ttyPath,
        baudRate: 115200,
        flowControl: 'none',
        signals: connectSimSignals(join(dir, 'sim.sock'), a.ttyPath),
        log: silentLogger(),
      });
      await t.open();
      await t.setDtr(false);
      await t.setDtr(true);
      expect(await t.getCarrier()).toBe(false);
      expect(server.connections).toBe(1);
      await t.close();
      // The server sees the close shortly after: wait for it, bounded.
      const released = await Promise.race([
        server.whenConnectionsAtMost(0).then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 5_000)),
      ]);
      expect({ round: i, released }).toEqual({ round: i, released: true });
    }
  });
});
