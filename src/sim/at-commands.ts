import { parseCommandLine, type AtCommand } from './at-parser.js';
import { defaultSettings, type ModemSettings, type ResultName, S_REGISTER_COUNT } from './settings.js';

/**
 * What one parsed AT command does to a modem. `ok`: go on with the line; `error`:
 * stop and answer ERROR; `done`: the command gave (or will give) its own final
 * result, so the rest of the line is ignored (D, A, O, as on real modems).
 */
export type Outcome = 'ok' | 'error' | 'done';

/** The parts of a modem the command set needs; implemented by SimModemImpl. */
export interface CommandContext {
  readonly number: string;
  readonly state: 'idle' | 'dialing' | 'ringing' | 'online' | 'online-command';
  settings: ModemSettings;
  readonly lenient: boolean;
  readonly factory: { callerId: boolean; escapeGuardMs: number };
  offHook: boolean;
  lastDialed: string;
  info(text: string): void;
  result(name: ResultName): void;
  answer(): boolean;
  dial(digits: string): void;
  hangup(reason?: string): void;
  goOnline(): boolean;
  settingsChanged(): void;
}

const IDENT = 'callbackd virtual modem';

/**
 * Runs one command line (the text after AT). Returns the final result to give,
 * undefined when a command (D, A, O) gives its own, or 'error-on' when the
 * errorOn fault matched the line or one of its commands.
 */
export function runLine(
  ctx: CommandContext,
  body: string,
  errorOn?: RegExp,
): 'OK' | 'ERROR' | 'error-on' | undefined {
  const parsed = parseCommandLine(body);
  if (errorOn) {
    const texts = [body.replace(/ /g, '').toUpperCase(), ...parsed.commands.map((c) => c.text.toUpperCase())];
    if (texts.some((t) => ((errorOn.lastIndex = 0), errorOn.test(t)))) return 'error-on';
  }
  if (parsed.error && !ctx.lenient) return 'ERROR';
  for (const c of parsed.commands) {
    const outcome = runCommand(ctx, c);
    if (outcome === 'error') return 'ERROR';
    if (outcome === 'done') return undefined;
  }
  return 'OK';
}

export function runCommand(ctx: CommandContext, cmd: AtCommand): Outcome {
  switch (cmd.kind) {
    case 'basic':
      return basic(ctx, cmd.name, cmd.value);
    case 'dial':
      return dial(ctx, cmd);
    case 'sreg':
      return sreg(ctx, cmd);
    case 'ext':
      return extended(ctx, cmd);
  }
}

function flag(value: number | undefined, max: number, set: (v: number) => void): Outcome {
  const v = value ?? 0;
  if (v > max) return 'error';
  set(v);
  return 'ok';
}

function basic(ctx: CommandContext, name: string, value: number | undefined): Outcome {
  const s = ctx.settings;
  switch (name) {
    case 'A':
      if (!ctx.answer()) ctx.result('NO CARRIER');
      return 'done';
    case 'E':
      return flag(value, 1, (v) => (s.echo = v === 1));
    case 'Q':
      return flag(value, 1, (v) => (s.quiet = v === 1));
    case 'V':
      return flag(value, 1, (v) => (s.verbose = v === 1));
    case 'X':
      return flag(value, 4, (v) => (s.x = v));
    case 'H':
      return flag(value, 1, (v) => {
        if (v === 0) ctx.hangup();
        ctx.offHook = v === 1;
      });
    case 'Z':
    case '&F':
      if (value !== undefined && value > 1) return 'error';
      if (name === 'Z') {
        ctx.hangup('reset');
        ctx.offHook = false;
      }
      ctx.settings = defaultSettings(ctx.factory);
      ctx.settingsChanged();
      return 'ok';
    case 'O':
      if (!ctx.goOnline()) ctx.result('NO CARRIER');
      return 'done';
    case 'I':
      if ((value ?? 0) > 9) return 'error';
      ctx.info(value === 3 ? `${IDENT} ${ctx.number}` : value === 1 ? '000' : 'SIMMODEM');
      return 'ok';
    case '&C':
      return flag(value, 1, (v) => {
        s.dcd = v;
        ctx.settingsChanged();
      });
    case '&D':
      return flag(value, 3, (v) => (s.dtr = v));
    // Speaker, bell/CCITT, modulation and flow-control settings: accepted, no effect here.
    case 'L':
    case 'M':
      return flag(value, 3, () => undefined);
    case 'B':
    case 'N':
    case 'W':
    case '&S':
    case '&W':
      return flag(value, 2, () => undefined);
    case '&K':
      return flag(value, 6, () => undefined);
    default:
      return ctx.lenient ? 'ok' : 'error';
  }
}

function dial(ctx: CommandContext, cmd: Extract<AtCommand, { kind: 'dial' }>): Outcome {
  if (ctx.state !== 'idle') return 'error';
  const digits = cmd.last ? ctx.lastDialed : cmd.digits;
  ctx.lastDialed = digits;
  // `;` asks for a voice call that returns to command mode; the exchange carries
  // data calls only, so it just answers OK.
  if (cmd.voice) return 'ok';
  ctx.dial(digits);
  return 'done';
}

function sreg(ctx: CommandContext, cmd: Extract<AtCommand, { kind: 'sreg' }>): Outcome {
  if (cmd.reg >= S_REGISTER_COUNT) return 'error';
  if (cmd.op === 'query') {
    ctx.info(String(ctx.settings.s[cmd.reg] ?? 0).padStart(3, '0'));
  } else if (cmd.op === 'set') {
    const v = cmd.value ?? 0;
    if (v > 255) return 'error';
    ctx.settings.s[cmd.reg] = v;
  }
  return 'ok';
}

function extended(ctx: CommandContext, cmd: Extract<AtCommand, { kind: 'ext' }>): Outcome {
  const s = ctx.settings;
  switch (cmd.name) {
    case '+FCLASS':
      // Data mode only: fax and voice classes are refused, as a data-only modem does.
      if (cmd.op === 'query') ctx.info(String(s.fclass));
      else if (cmd.op === 'test') ctx.info('0');
      else if (cmd.op === 'set' && cmd.value === '0') s.fclass = 0;
      else return 'error';
      return 'ok';
    case '+VCID':
    case '#CID':
      if (cmd.op === 'query') ctx.info(s.callerId ? '1' : '0');
      else if (cmd.op === 'test') ctx.info('(0-1)');
      else if (cmd.op === 'set' && (cmd.value === '0' || cmd.value === '1')) s.callerId = cmd.value === '1';
      else return 'error';
      return 'ok';
    case '+GMI':
      ctx.info('callbackd');
      return 'ok';
    case '+GMM':
      ctx.info(IDENT);
      return 'ok';
    default:
      return ctx.lenient ? 'ok' : 'error';
  }
}
