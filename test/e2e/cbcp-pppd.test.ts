import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  diagnostics,
  E2E_DIR,
  killAllUml,
  readResult,
  REPO_DIR,
  runUml,
  umlAvailable,
  type UmlRun,
} from './uml.js';

// Call-back inside PPP, first leg: real pppd 2.4.9 callers against callbackd's PPP engine
// (dist/ppp/engine, driven by cbcp-driver.mjs) over pty pairs in user-mode-linux. One boot
// runs every case side by side. Needs `npm run build` first.
const scenario = join(E2E_DIR, 'scenarios/cbcp.sh');
const built = existsSync(join(REPO_DIR, 'dist/ppp/engine/index.js'));
const CASES = ['user', 'admin', 'refused', 'wrong', 'plain', 'garbage', 'handoff'] as const;
type Case = (typeof CASES)[number];
const logs = [
  'scenario.log',
  'driver.out',
  'driver.log',
  'server-handoff.log',
  ...CASES.map((c) => `client-${c}.log`),
];

let dir = '';
let run: UmlRun;
let out = '';
let driver = '';
let why = '';
let passed = true;

const clientRc = (c: Case) => new RegExp(`^client_rc ${c} (\\d+)$`, 'm').exec(out)?.[1];
const client = (c: Case) => readResult(dir, `client-${c}.log`);
/** The driver's events for one case, in order. */
function events(c: Case): Record<string, unknown>[] {
  return driver
    .split('\n')
    .filter((l) => l.startsWith(`driver ${c} event `))
    .map((l) => JSON.parse(l.slice(`driver ${c} event `.length)) as Record<string, unknown>);
}
const cbcpLines = (c: Case) => [
  ...driver.split('\n').filter((l) => l.startsWith(`driver ${c} `) && /-cbcp |pppd-exit /.test(l)),
  ...client(c)
    .split('\n')
    .filter((l) => /CBCP|[Cc]allback/.test(l))
    .map((l) => `pppd: ${l}`),
];

describe.skipIf(!umlAvailable() || !built)(
  'call-back inside PPP: real pppd callers against the engine',
  () => {
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'callbackd-e2e-cbcp-'));
      run = await runUml({ scenario, resultDir: dir, timeoutMs: 240_000 });
      out = readResult(dir, 'scenario.log');
      driver = readResult(dir, 'driver.out');
      why = diagnostics(dir, run, logs);
      const marks = out
        .split('\n')
        .filter((l) => l.startsWith('mark '))
        .join(', ');
      console.log(`cbcp: UML ${run.ms} ms; ${marks}`);
      for (const c of CASES) {
        console.log(`--- ${c}: client pppd exit ${clientRc(c)}\n${cbcpLines(c).join('\n')}`);
      }
    });
    afterAll(() => {
      killAllUml();
      if (passed && dir) rmSync(dir, { recursive: true, force: true });
      else if (dir) console.log(`cbcp: results kept in ${dir}`);
    });
    const check = (f: () => void) => () => {
      try {
        f();
      } catch (e) {
        passed = false;
        throw e;
      }
    };

    it(
      'the scenario ran to its end',
      check(() => {
        expect(run.scenarioCode, why).toBe(0);
        expect(out, why).toMatch(/^driver_rc 0$/m);
      }),
    );

    it(
      '`callback 123456`: PAP, CBCP with the number, Term-Ack; the caller pppd exits 14',
      check(() => {
        expect(events('user'), why).toEqual([
          { type: 'pap-request', name: 'pppuser' },
          { type: 'callback-agreed', kind: 'user', number: '123456', delay: 5 },
          { type: 'terminated' },
        ]);
        expect(client('user'), why).toMatch(/rcvd \[CBCP Request id=0x1/);
        expect(client('user'), why).toMatch(/sent \[CBCP Response id=0x1 .*123456/);
        expect(client('user'), why).toMatch(/rcvd \[CBCP Ack id=0x1/);
        expect(clientRc('user'), why).toBe('14');
      }),
    );

    it(
      '`callback ""`: the entry\'s own number; exit 14',
      check(() => {
        expect(events('admin')[1], why).toEqual({
          type: 'callback-agreed',
          kind: 'admin',
          number: '5376443',
          delay: 5,
        });
        expect(events('admin').at(-1), why).toEqual({ type: 'terminated' });
        expect(clientRc('admin'), why).toBe('14');
      }),
    );

    it(
      'a number the rules refuse: no call-back, the link is closed, pppd does not exit 14',
      check(() => {
        const ev = events('refused');
        expect(
          ev.some((e) => e.type === 'callback-agreed'),
          why,
        ).toBe(false);
        expect(ev.at(-1), why).toMatchObject({ type: 'failed', reason: expect.stringContaining('0900') });
        expect(client('refused'), why).toMatch(/sent \[CBCP Response .*0900123456/);
        expect(client('refused'), why).not.toMatch(/rcvd \[CBCP Ack/);
        expect(clientRc('refused'), why).not.toBe('14');
      }),
    );

    it(
      'a wrong PAP secret: no CBCP at all, the caller logs the refusal and exits 19',
      check(() => {
        expect(events('wrong'), why).toEqual([
          { type: 'pap-request', name: 'pppuser' },
          { type: 'failed', reason: 'PAP authentication failed' },
        ]);
        expect(client('wrong'), why).toContain('Remote message: Authentication failed');
        expect(client('wrong'), why).toContain('PAP authentication failed');
        expect(client('wrong'), why).not.toMatch(/\[CBCP /);
        expect(clientRc('wrong'), why).toBe('19');
      }),
    );

    it(
      'pppd without `callback` (no LCP option 13): refused after PAP, as the entry says',
      check(() => {
        expect(events('plain').at(-1), why).toMatchObject({
          type: 'failed',
          reason: expect.stringContaining('option 13'),
        });
        expect(client('plain'), why).not.toMatch(/<callback|\[CBCP /);
        expect(client('plain'), why).toContain('LCP terminated by peer');
        expect(clientRc('plain'), why).not.toBe('14');
      }),
    );

    it(
      'line noise before the caller: ignored, and the call-back is agreed as without it',
      check(() => {
        expect(events('garbage').slice(1), why).toEqual([
          { type: 'callback-agreed', kind: 'user', number: '123456', delay: 5 },
          { type: 'terminated' },
        ]);
        expect(clientRc('garbage'), why).toBe('14');
      }),
    );

    it(
      "a PPP user without call-back: after the engine's PAP the line goes to real pppd, which renegotiates LCP, checks PAP and brings IPCP up",
      check(() => {
        expect(events('handoff'), why).toEqual([
          { type: 'pap-request', name: 'pppuser' },
          { type: 'handoff', user: 'pppuser', reason: 'no-callback' },
        ]);
        const server = readResult(dir, 'server-handoff.log');
        expect(server, why).toContain('PAP peer authentication succeeded for pppuser');
        expect(server, why).toMatch(/local {2}IP address 192\.168\.1\.1\n/);
        expect(client('handoff'), why).toMatch(/local {2}IP address 192\.168\.1\.2\n/);
        // The caller authenticated twice: with the engine, then with pppd.
        expect(client('handoff').match(/rcvd \[PAP AuthAck/g)?.length, why).toBe(2);
        expect(out, why).toMatch(/^mark handoff-ipcp-up /m);
        // pppd ran on the line callbackd handed over, until the caller hung up.
        expect(driver, why).toMatch(/^driver handoff pppd-exit \{"code":\d+/m);
      }),
    );
  },
);
