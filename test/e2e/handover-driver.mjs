// Runs inside user-mode-linux (scenarios/handover-pppd.sh), from the built dist/: opens
// a tty with callbackd's serial transport and UUCP lock, waits for the peer's first PPP
// bytes (as AutoPPP would see them), and hands the line to real pppd with callbackd's
// own argv builder. Prints `driver-<key> <value>` lines for the test to check.
import { readFileSync, realpathSync } from 'node:fs';
import { createLogger } from '../../dist/log.js';
import { buildPppdArgv, handOverToPppd, pppdOutcome } from '../../dist/ppp/index.js';
import { UucpLock } from '../../dist/serial/lock.js';
import { createSerialTransport } from '../../dist/serial/serial-transport.js';

const [link, lockDir, mode = 'handover'] = process.argv.slice(2);
if (!link || !lockDir) throw new Error('usage: handover-driver.mjs <tty> <lock dir> [handover|keep-lock]');
// pppd names its lock after ttyname(0), so lock the real /dev/pts/N, not the symlink.
const tty = realpathSync(link);
const log = createLogger({ level: 'debug', destination: process.stderr });
const say = (key, value) => process.stdout.write(`driver-${key} ${value}\n`);

const lock = new UucpLock(tty, { dir: lockDir, log });
const got = await lock.acquire();
if (!got.ok) throw new Error(`lock held by ${got.heldBy}`);
const transport = createSerialTransport({ path: tty, baudRate: 115200, flowControl: 'none', log });
await transport.open();
await new Promise((res) => {
  const off = transport.onData((b) => {
    if (b.includes(0x7e)) {
      off();
      res();
    }
  });
});
say('saw-ppp-frame', 'yes');

const { file, args } = buildPppdArgv(
  {
    path: '/usr/sbin/pppd',
    prefixArgs: [],
    options: ['debug', 'lcp-echo-interval', '0'],
    localAddress: '192.168.1.1',
    remoteAddress: '192.168.1.2',
    autoPppBeforeCallback: true,
    autoPppAfterCallback: true,
  },
  { autoPpp: true, lineName: 'e2e' },
);
say('argv', JSON.stringify(args));
// keep-lock is the control experiment: without the hand-over pppd must refuse the line.
const handTo = mode === 'keep-lock' ? undefined : lock;
const run = await handOverToPppd({
  ttyPath: tty,
  closeLine: () => transport.close(),
  file,
  args,
  lock: handTo,
  log,
});
say('pppd-pid', run.pid);
say('lock-after-handover', readFileSync(lock.path, 'utf8').trim());
const { code, signal } = await run.exited;
say('exit', JSON.stringify({ code, signal, ...pppdOutcome(code, signal) }));
say('stderr-has-ipcp', run.stderrTail().includes('local  IP address 192.168.1.1') ? 'yes' : 'no');
say('stderr-locked-by', /is locked by pid (\d+)/.exec(run.stderrTail())?.[1] ?? 'none');
await lock.reclaim?.();
await lock.release();
