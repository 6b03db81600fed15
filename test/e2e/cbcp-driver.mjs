// Runs inside user-mode-linux (scenarios/cbcp.sh), from the built dist/: the answering end
// of the first leg for several lines at once. Each argument is <tty>=<case>; on each line
// callbackd's serial transport carries the bytes and dist/ppp/engine negotiates LCP, checks
// PAP (here against one fixed user), runs CBCP and ends the link. Prints one line per event
// and per CBCP frame: `driver <case> <what> <json>`; exits once every line has ended.
import { realpathSync } from 'node:fs';
import { createLogger } from '../../dist/log.js';
import { Deframer, PppEngine } from '../../dist/ppp/engine/index.js';
import { buildPppdArgv, handOverToPppd, pppdOutcome } from '../../dist/ppp/index.js';
import { checkNumber } from '../../dist/policy/index.js';
import { createSerialTransport } from '../../dist/serial/serial-transport.js';

const USER = 'pppuser';
const SECRET = 'right-secret';
// The call-back entry of the user: its own number for type 3, number rules for type 2.
const RULES = { allow: ['12', '55'], deny: ['0900'], minLength: 6, maxLength: 12, modifiers: '' };
const CALLBACK = { types: ['none', 'admin', 'user'], adminNumber: '5376443', withoutCbcp: 'refuse' };
// The `handoff` line plays a PPP user without call-back: after PAP the line goes to real pppd.
const decisionFor = (line) => (line === 'handoff' ? { ok: true } : { ok: true, callback: CALLBACK });

const log = createLogger({ level: 'warn', destination: process.stderr });
const say = (line, what, value) => process.stdout.write(`driver ${line} ${what} ${JSON.stringify(value)}\n`);
const hex = (b) => b.toString('hex');

async function serve(tty, name) {
  const transport = createSerialTransport({
    path: realpathSync(tty),
    baudRate: 115200,
    flowControl: 'none',
    log,
  });
  await transport.open();
  const engine = new PppEngine({ checkNumber: (n) => checkNumber(RULES, n) }, Date.now());
  // Taps that decode both directions, only to report the CBCP frames.
  const tapIn = new Deframer(1600, 0xffffffff);
  const tapOut = new Deframer(1600, 0);
  let timer;
  let final;
  let writing = Promise.resolve();
  return new Promise((resolve) => {
    const handle = (out) => {
      for (const f of tapOut.push(out.bytes)) if (f.protocol === 0xc029) say(name, 'sent-cbcp', hex(f.info));
      if (out.bytes.length > 0) writing = writing.then(() => transport.write(out.bytes)).catch(() => {});
      for (const l of out.logs) say(name, 'log', l);
      for (const e of out.events) {
        // Never print a secret, even in a test.
        say(name, 'event', e.type === 'pap-request' ? { type: e.type, name: e.name } : e);
        if (e.type === 'pap-request') {
          const ok = e.name === USER && e.secret === SECRET;
          setImmediate(() => handle(engine.papResult(ok ? decisionFor(name) : { ok: false }, Date.now())));
        }
        if (e.type === 'terminated' || e.type === 'failed' || e.type === 'handoff') final = e;
      }
      clearTimeout(timer);
      if (final) {
        // The hang-up comes after the last frame is out (the scenario holds the line).
        if (final.type === 'handoff') writing.then(() => handOver(tty, name, transport)).then(resolve);
        else writing.then(() => transport.close()).then(() => resolve(final));
        return;
      }
      const at = engine.wakeAt;
      if (at !== undefined)
        timer = setTimeout(() => handle(engine.tick(Date.now())), Math.max(0, at - Date.now()));
    };
    transport.onData((chunk) => {
      if (final) return;
      for (const f of tapIn.push(chunk)) if (f.protocol === 0xc029) say(name, 'rcvd-cbcp', hex(f.info));
      handle(engine.feed(chunk, Date.now()));
    });
    say(name, 'ready', tty);
  });
}

/** The session's AutoPPP path: callbackd's argv (require-pap added) and hand-over to real pppd. */
async function handOver(tty, name, transport) {
  const { file, args } = buildPppdArgv(
    {
      path: '/usr/sbin/pppd',
      prefixArgs: [],
      options: ['debug', 'lcp-echo-interval', '0', 'logfile', `${process.env.E2E_RESULT}/server-${name}.log`],
      localAddress: '192.168.1.1',
      remoteAddress: '192.168.1.2',
      autoPppBeforeCallback: true,
      autoPppAfterCallback: true,
    },
    { autoPpp: true, lineName: name },
  );
  const run = await handOverToPppd({
    ttyPath: realpathSync(tty),
    closeLine: () => transport.close(),
    file,
    args,
    log,
  });
  say(name, 'pppd-started', args);
  const { code, signal } = await run.exited;
  say(name, 'pppd-exit', { code, signal, ...pppdOutcome(code, signal) });
  return { type: 'handoff' };
}

const lines = process.argv.slice(2).map((a) => a.split('='));
const results = await Promise.all(lines.map(([tty, name]) => serve(tty, name)));
say('all', 'done', results.length);
