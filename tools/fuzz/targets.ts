import fc from 'fast-check';
import { parseConfig } from '../../src/config/load.js';
import { importMgetty, type SourceFile } from '../../src/config/import-mgetty/index.js';
import type { CallbackEntry, Config, NumberRules } from '../../src/config/types.js';
import { CallbackdError } from '../../src/errors.js';
import { LineReader, type ReaderEvent } from '../../src/login/line-reader.js';
import { validLoginName } from '../../src/login/names.js';
import { parseCallerIdLine, parseResult } from '../../src/modem/results.js';
import { RingTracker } from '../../src/modem/rings.js';
import { DIAL_MODIFIERS, isDialable, resolveCallback } from '../../src/policy/numbers.js';
import { transition, type MachineContext } from '../../src/session/machine.js';
import type { CallInfo, Effect, Input, State } from '../../src/session/types.js';
import { FUZZ_CONFIG_TOML, MGETTY_SAMPLES } from './fixtures.js';

/**
 * Fuzz targets: one property per parser the outside world can reach (a caller's
 * bytes, a modem's lines, a typed number, a config file, an mgetty setup). Each
 * property holds for every input: nothing but CallbackdError is thrown, output is
 * bounded by the input, a name the session refuses never reaches policy, and no
 * number outside the entry's rules reaches ATD.
 */
export interface Target {
  name: string;
  property: fc.IProperty<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Runs fn; a CallbackdError is an allowed answer (returned), anything else is a failure. */
function onlyCallbackdErrors<T>(fn: () => T): T | CallbackdError {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CallbackdError) return e;
    throw new Error(`threw something other than CallbackdError: ${String((e as Error)?.stack ?? e)}`);
  }
}

function fail(why: string): never {
  throw new Error(why);
}

const baseConfig: Config = parseConfig(FUZZ_CONFIG_TOML, 'fuzz.toml');

// ---------------------------------------------------------------- the login line reader

/** Bytes a caller might send: anything, biased to the bytes the reader treats specially. */
const special = fc.constantFrom(0x03, 0x08, 0x0a, 0x0d, 0x15, 0x7f, 0x7e, 0x7d, 0xff, 0xc0, 0x21, 0x20, 0x2d);
const callerByte = fc.oneof(fc.integer({ min: 0, max: 255 }), special, fc.integer({ min: 0x20, max: 0x7e }));
const chunk = fc.array(callerByte, { maxLength: 48 }).map((a) => Buffer.from(a));

type ReaderOp =
  { op: 'feed'; data: Buffer } | { op: 'echo'; on: boolean } | { op: 'ppp'; on: boolean } | { op: 'reset' };
const readerOp: fc.Arbitrary<ReaderOp> = fc.oneof(
  { weight: 8, arbitrary: chunk.map((data) => ({ op: 'feed' as const, data })) },
  { weight: 1, arbitrary: fc.boolean().map((on) => ({ op: 'echo' as const, on })) },
  { weight: 1, arbitrary: fc.boolean().map((on) => ({ op: 'ppp' as const, on })) },
  { weight: 1, arbitrary: fc.constant({ op: 'reset' as const }) },
);

function machineContext(over: Partial<MachineContext> = {}): MachineContext {
  return {
    config: baseConfig,
    line: baseConfig.lines[0]!,
    now: 1_000,
    isLocked: () => false,
    rateCheck: () => ({ ok: true }),
    answerDisabled: () => false,
    ...over,
  };
}

const CALL: CallInfo = { callId: 'fuzz', startedAt: 0, logins: [] };

function loginState(step: 'name' | 'number', claim?: { kind: 'callback'; entry: CallbackEntry }): State {
  return {
    tag: 'login',
    call: { ...CALL, logins: [] },
    phase: 1,
    step,
    failures: 0,
    clock: { deadline: 1_000_000, warned: false },
    ...(claim ? { claim } : {}),
  } as State;
}

/**
 * The name path: every line the reader produces goes to the session machine at the
 * name prompt. A name validLoginName refuses must never reach policy: no lockout
 * lookup, no identity recorded in the call, no secret check.
 */
function nameReachesPolicyOnlyIfValid(text: string): void {
  const asked: string[][] = [];
  const ctx = machineContext({ isLocked: (keys) => (asked.push(keys), false) });
  const step = transition(loginState('name'), { type: 'line', text }, ctx);
  const name = text.trim();
  if (name === '' || validLoginName(name, ctx.config.login.maxLength)) return;
  if (asked.length > 0) fail(`refused name ${JSON.stringify(name)} reached the lockout lookup`);
  const s = (step.state ?? {}) as { call?: { logins: string[] }; claim?: unknown };
  if (s.call && s.call.logins.length > 0)
    fail(`refused name ${JSON.stringify(name)} was recorded in the call`);
  if (step.effects.some((e) => e.do === 'verify' && e.hash !== undefined)) {
    fail(`refused name ${JSON.stringify(name)} got a real secret check`);
  }
}

const lineReader: Target = {
  name: 'login line reader',
  property: fc.property(
    fc.integer({ min: 1, max: 64 }),
    fc.boolean(),
    fc.boolean(),
    fc.array(readerOp, { maxLength: 12 }),
    (maxLength, echo, detectPpp, ops) => {
      const reader = new LineReader({ maxLength, echo, detectPpp });
      let pppSeen = false;
      for (const op of ops) {
        if (op.op === 'echo') reader.setEcho(op.on);
        else if (op.op === 'ppp') reader.setDetectPpp(op.on);
        else if (op.op === 'reset') {
          reader.reset();
          pppSeen = false;
        } else {
          const out = onlyCallbackdErrors(() => reader.feed(op.data));
          if (out instanceof CallbackdError) continue;
          // Bounded: each byte echoes at most an erase (3 bytes) or a newline (2); a ^U
          // erases at most a whole line (maxLength characters).
          const echoMax = 3 * op.data.length + 3 * maxLength;
          if (out.echo.length > echoMax) fail(`echo ${out.echo.length} bytes for ${op.data.length} in`);
          if (out.events.length > op.data.length)
            fail(`${out.events.length} events for ${op.data.length} bytes`);
          if (pppSeen && out.events.length > 0) fail('events after the line was given to PPP');
          for (const ev of out.events) {
            if (ev.kind === 'line') {
              if (ev.text.length > maxLength) fail(`line of ${ev.text.length} > maxLength ${maxLength}`);
              nameReachesPolicyOnlyIfValid(ev.text);
            }
            if (ev.kind === 'ppp') pppSeen = true;
          }
        }
      }
    },
  ),
};

// ---------------------------------------------------------------- the AutoPPP matcher

/** A PPP client's first frame start, optionally with control bytes escaped (ACCM). */
const lcpStart = fc
  .boolean()
  .map((escapeAll) => (escapeAll ? [0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21] : [0x7e, 0xff, 0x03, 0xc0, 0x21]));
const textNoise = fc.array(fc.integer({ min: 0x20, max: 0x7d }), { maxLength: 40 });

const autoPpp: Target = {
  name: 'AutoPPP matcher',
  property: fc.property(
    textNoise,
    lcpStart,
    fc.array(callerByte, { maxLength: 40 }),
    fc.integer({ min: 1, max: 8 }),
    fc.boolean(),
    (before, frame, after, pieces, detect) => {
      const reader = new LineReader({ maxLength: 32, echo: true, detectPpp: detect });
      const bytes = Buffer.from([...before, ...frame, ...after]);
      const events: ReaderEvent[] = [];
      // Split anywhere: the tty delivers frames in arbitrary pieces.
      const size = Math.max(1, Math.ceil(bytes.length / pieces));
      for (let i = 0; i < bytes.length; i += size) {
        const out = onlyCallbackdErrors(() => reader.feed(bytes.subarray(i, i + size)));
        if (out instanceof CallbackdError) return;
        events.push(...out.events);
        // A PPP frame is never echoed: a client that sees its own frames thinks the link loops.
        if (detect && i + size > before.length && out.echo.includes(0x7e)) fail('a frame flag was echoed');
      }
      const ppp = events.findIndex((e) => e.kind === 'ppp');
      if (!detect) {
        if (ppp >= 0) fail('AutoPPP fired while detection was off');
        return;
      }
      if (ppp < 0) fail(`no ppp event for ${bytes.toString('hex')}`);
      if (events.length !== ppp + 1) fail('events after the ppp event');
    },
  ),
};

// ---------------------------------------------------------------- result codes and caller ID

const FINAL = new Set(['OK', 'CONNECT', 'RING', 'NO CARRIER', 'ERROR', 'NO DIALTONE', 'BUSY', 'NO ANSWER']);
const modemWords = fc.constantFrom(
  'OK',
  'CONNECT',
  'CONNECT 33600',
  'CONNECT 115200/ARQ',
  'RING',
  'NO CARRIER',
  'BUSY',
  'NMBR = ',
  'NMBR=',
  'DDN_NMBR= ',
  'CALLER NUMBER: ',
  'FM:',
  'RING;',
  '+CLIP: "',
  'NAME = ',
  'DATE = ',
  'P',
  'O',
  'PRIVATE',
  '"',
  ',129',
  '12',
  '99999999999999999999999',
);
const modemLine = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.array(fc.oneof(modemWords, fc.string({ maxLength: 12 })), { maxLength: 6 }).map((a) => a.join('')),
);

const results: Target = {
  name: 'modem result codes and caller ID',
  property: fc.property(
    fc.array(fc.tuple(modemLine, fc.integer({ min: 0, max: 30_000 })), { maxLength: 8 }),
    (lines) => {
      const rings = new RingTracker(10_000);
      let now = 0;
      let ringsHeard = 0;
      for (const [line, gap] of lines) {
        now += gap;
        const r = onlyCallbackdErrors(() => parseResult(line));
        if (r && !(r instanceof CallbackdError)) {
          if (!FINAL.has(r.result)) fail(`unknown result ${r.result}`);
          if (r.text.length > line.length) fail('result text longer than the line');
          if (r.speed !== undefined && !(Number.isFinite(r.speed) && r.speed >= 0)) fail(`speed ${r.speed}`);
          if (r.result === 'RING') {
            const ev = rings.ring(now);
            ringsHeard++;
            if (ev.count < 1 || ev.count > ringsHeard)
              fail(`ring count ${ev.count} after ${ringsHeard} rings`);
          }
        }
        const cid = onlyCallbackdErrors(() => parseCallerIdLine(line));
        if (cid && !(cid instanceof CallbackdError)) {
          const shown = cid.kind === 'number' ? cid.number : cid.kind === 'name' ? cid.name : '';
          if (shown.length > line.length) fail('caller ID longer than the line');
          if (!/^[\x20-\x7e]*$/.test(shown)) fail(`non-printable caller ID ${JSON.stringify(shown)}`);
          rings.callerId(cid, now);
        }
      }
    },
  ),
};

// ---------------------------------------------------------------- number rules

const digitString = (min: number, max: number) =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((a) => a.join(''));
const rulesArb: fc.Arbitrary<NumberRules> = fc
  .record({
    allow: fc.array(fc.oneof(digitString(1, 4), fc.constant('/0[1-9][0-9]*/')), { maxLength: 3 }),
    deny: fc.array(fc.oneof(digitString(1, 4), fc.constantFrom('0900', '0190', '00', '+', '*', '#')), {
      maxLength: 4,
    }),
    minLength: fc.integer({ min: 1, max: 8 }),
    span: fc.integer({ min: 0, max: 20 }),
    modifiers: fc.subarray([...DIAL_MODIFIERS]).map((a) => a.join('')),
  })
  .map(({ span, ...r }) => ({ ...r, maxLength: r.minLength + span }));

/** What a caller types: digits and every character that has a meaning to a modem or to us. */
const typedNumber = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .array(fc.constantFrom(...'0123456789 -.()+*#,W;ATDHZ&!@\r\n'), { maxLength: 30 })
      .map((a) => a.join('')),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('', '+', '*21*', '#31#', '00', '0900', '0,900', '0 9 0 0'), digitString(0, 16))
      .map(([a, b]) => a + b),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
);

function bareDigitsOf(dial: string): string {
  return dial.replace(/[,W]/g, '');
}

function prefixOf(rule: string): string {
  return rule.replace(/[ \t\-.()]/g, '');
}

/** Does a rule match, judged here independently of the policy module's own code. */
function ruleHits(rule: string, dial: string): boolean {
  if (rule.length >= 2 && rule.startsWith('/') && rule.endsWith('/')) {
    const re = new RegExp(`^(?:${rule.slice(1, -1)})$`);
    return re.test(dial) || re.test(bareDigitsOf(dial));
  }
  return bareDigitsOf(dial).startsWith(prefixOf(rule));
}

/** The independent oracle: what may ever be dialled for an entry with these rules. */
function withinRules(rules: NumberRules, dial: string): string | undefined {
  if (!isDialable(dial)) return 'not dialable';
  for (const c of dial) {
    if (!(c >= '0' && c <= '9') && !rules.modifiers.includes(c)) return `character ${c} not allowed`;
  }
  const digits = dial.replace(/[^0-9]/g, '').length;
  if (digits < rules.minLength || digits > rules.maxLength) return `${digits} digits`;
  const denied = rules.deny.find((r) => ruleHits(r, dial));
  if (denied !== undefined) return `deny rule ${denied} matches`;
  if (rules.allow.length > 0 && !rules.allow.some((r) => ruleHits(r, dial))) return 'no allow rule matches';
  return undefined;
}

/** Runs the session machine from the number prompt to the ATD it asks for, if any. */
function dialledBySession(entry: CallbackEntry, typed: string): string | undefined {
  const ctx = machineContext();
  const inputs: Input[] = [
    { type: 'line', text: typed },
    { type: 'timeout' },
    { type: 'hung-up' },
    { type: 'timeout' },
  ];
  let state = loginState('number', { kind: 'callback', entry });
  const effects: Effect[] = [];
  for (const input of inputs) {
    const step = transition(state, input, ctx);
    state = step.state ?? state;
    effects.push(...step.effects);
  }
  const dial = effects.find((e) => e.do === 'dial' || e.do === 'transfer');
  return dial?.do === 'dial' || dial?.do === 'transfer' ? dial.number : undefined;
}

const numbers: Target = {
  name: 'number rules and normalisation',
  property: fc.property(rulesArb, typedNumber, (rules, typed) => {
    const template = baseConfig.callbacks.find((c) => c.callerSupplies)!;
    const entry: CallbackEntry = { ...template, rules };
    const checked = onlyCallbackdErrors(() => resolveCallback(entry, typed));
    if (checked instanceof CallbackdError) return;
    if (checked.ok) {
      const why = withinRules(rules, checked.dial);
      if (why) fail(`${JSON.stringify(typed)} -> ${JSON.stringify(checked.dial)} accepted, but ${why}`);
    } else if (checked.reason.length > 200) {
      fail('refusal reason unbounded');
    }
    // The same through the session: whatever reaches ATD obeys the rules.
    const dialled = dialledBySession(entry, typed);
    if (dialled !== undefined) {
      const why = withinRules(rules, dialled);
      if (why) fail(`session dialled ${JSON.stringify(dialled)} for ${JSON.stringify(typed)}: ${why}`);
    }
  }),
};

// ---------------------------------------------------------------- the config loader

const SAMPLE_LINES = FUZZ_CONFIG_TOML.split('\n');
const tomlPiece = fc.constantFrom(
  '[daemon]',
  '[[lines]]',
  '[[callbacks]]',
  '[timing]',
  '[login]',
  'device = "/dev/ttyS9"',
  'speed = 7',
  'rings = -1',
  'name = "-x"',
  'number = "123;ATH"',
  'delay = "1y"',
  'caller_supplies = true',
  'allow = ["/[/"]',
  'deny = [""]',
  'pin_hash = 12345',
  'password_hash = "scrypt$99$1$1$AA==$AA=="',
  'max_length = 1e9',
  'modifiers = "xyz"',
  'x = """',
  '"',
  '= =',
);
const configText = fc.oneof(
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }) },
  {
    weight: 3,
    // The sample with lines dropped, replaced or inserted: mostly valid TOML, invalid config.
    arbitrary: fc
      .array(fc.tuple(fc.nat(SAMPLE_LINES.length - 1), fc.oneof(tomlPiece, fc.constant(null))), {
        maxLength: 6,
      })
      .map((edits) => {
        const lines = [...SAMPLE_LINES];
        for (const [at, piece] of edits) {
          if (piece === null) lines.splice(at, 1);
          else lines.splice(at, 0, piece);
        }
        return lines.join('\n');
      }),
  },
);

const configLoader: Target = {
  name: 'config loader',
  property: fc.property(configText, (text) => {
    const out = onlyCallbackdErrors(() => parseConfig(text, 'fuzz.toml'));
    if (out instanceof CallbackdError) {
      if (out.code !== 'CONFIG_INVALID') fail(`code ${out.code}`);
      if (out.message.length > 4 * text.length + 4_096) fail(`message of ${out.message.length} chars`);
      if (/scrypt\$/.test(out.message)) fail('a hash was echoed in an error');
    }
  }),
};

// ---------------------------------------------------------------- the mgetty importer

const mgettyText = (sample: string) =>
  fc.oneof(
    fc.constant(sample),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc
      .array(fc.tuple(fc.nat(40), fc.string({ unit: 'binary', maxLength: 30 })), { maxLength: 5 })
      .map((edits) => {
        const lines = sample.split('\n');
        for (const [at, s] of edits) lines.splice(at % (lines.length + 1), at % 2, s);
        return lines.join('\n');
      }),
  );
const maybe = (path: string, sample: string): fc.Arbitrary<SourceFile | undefined> =>
  fc.option(
    mgettyText(sample).map((text) => ({ path, text })),
    { nil: undefined },
  );

const mgettyImporter: Target = {
  name: 'mgetty importer',
  property: fc.property(
    maybe('/etc/mgetty/login.config', MGETTY_SAMPLES.login),
    maybe('/etc/mgetty/mgetty.config', MGETTY_SAMPLES.mgetty),
    maybe('/etc/inittab', MGETTY_SAMPLES.inittab),
    maybe('/etc/mgetty/callback.config', MGETTY_SAMPLES.callback),
    maybe('/etc/passwd', MGETTY_SAMPLES.passwd),
    maybe('/etc/ppp/options.ttyS1', MGETTY_SAMPLES.options),
    (loginConfig, mgettyConfig, inittab, callbackConfig, passwd, options) => {
      const input = {
        ...(loginConfig ? { loginConfig } : {}),
        ...(mgettyConfig ? { mgettyConfig } : {}),
        ...(inittab ? { inittab } : {}),
        ...(callbackConfig ? { callbackConfig } : {}),
        ...(passwd ? { passwd } : {}),
        pppOptionsFor: () => options,
        now: new Date(0),
      };
      const out = onlyCallbackdErrors(() => importMgetty(input));
      if (out instanceof CallbackdError) return;
      const inLength = [loginConfig, mgettyConfig, inittab, callbackConfig, passwd, options].reduce(
        (n, f) => n + (f?.text.length ?? 0),
        0,
      );
      if (out.length > 16 * inLength + 16_384) fail(`output of ${out.length} chars for ${inLength} in`);
      // Its promise: the output always parses as a callbackd config.
      const parsed = onlyCallbackdErrors(() => parseConfig(out, 'imported'));
      if (parsed instanceof CallbackdError) {
        fail(`imported config does not parse: ${parsed.message}`);
      }
    },
  ),
};

export const TARGETS: Target[] = [lineReader, autoPpp, results, numbers, configLoader, mgettyImporter];
