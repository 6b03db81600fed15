import type { PppdConfig, PppUser } from '../config/types.js';
import { CallbackdError } from '../errors.js';

/**
 * pppd's argv for one call. pppd is given no device name, so it uses its standard input
 * (the tty we hand it) as the line, exactly as the seed's login shell `pppd -detach` did.
 *
 * Choices, and why:
 * - `nodetach` always, last: pppd must stay our child so its exit code reaches accounting.
 *   (With stdin as the line pppd would not fork anyway, but an operator's `detach` in the
 *   options must not win.)
 * - `logfd 2` unless the options say where to log: pppd's messages then reach our piped
 *   stderr and the daemon's log. pppd's own default (fd 1) would be the line itself.
 * - `linkname <line>` unless given, so /run/ppp-<line>.pid names the line.
 * - AutoPPP: nobody has logged in, so pppd must check the peer. `require-pap` is appended
 *   after the operator's options unless a PAP requirement already follows the last
 *   `noauth` (pppd takes the last word for each option).
 * - `local` / `modem` / `notty` are not added: they are properties of the line, not of
 *   the call. A hardware line wants `modem` (pppd then ends with 16 when carrier drops),
 *   which Debian's /etc/ppp/options already has; a pty has no modem lines either way.
 *   `notty` is for non-tty streams and would break a real serial line.
 * - `lock` is left alone: for a tty on stdin pppd skips locking (see handover.ts), and
 *   callbackd holds the UUCP lock and hands it to pppd's pid itself.
 */
/**
 * pppd's RADIUS plugin for PAP on the second leg: `plugin radius.so radius-config-file F
 * avpair Acct-Multi-Session-Id=ID` (the files come from src/radius/pppd-config.ts). The
 * plugin must be loaded before its own options, and the avpair links pppd's requests to
 * callbackd's records of the same call.
 */
export interface PppdRadiusArgs {
  plugin: string;
  configFile: string;
  multiSessionId: string;
}

export interface PppdArgv {
  file: string;
  args: string[];
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const LINE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export function buildPppdArgv(
  cfg: PppdConfig,
  o: {
    user?: PppUser;
    autoPpp: boolean;
    lineName: string;
    radius?: PppdRadiusArgs;
    /** Per-call options from RADIUS (maxconnect, idle: names and numbers only). */
    extraOptions?: string[];
  },
): PppdArgv {
  if (!cfg.path) throw new CallbackdError('CONFIG_INVALID', 'pppd.path is empty');
  if (!LINE_NAME.test(o.lineName)) {
    throw new CallbackdError(
      'CONFIG_INVALID',
      `line name ${JSON.stringify(o.lineName)} is not usable as a pppd linkname`,
    );
  }
  const remote = o.user?.remoteAddress ?? cfg.remoteAddress;
  if (cfg.localAddress !== '' && !IPV4.test(cfg.localAddress)) {
    throw new CallbackdError(
      'CONFIG_INVALID',
      `pppd local address ${JSON.stringify(cfg.localAddress)} is not IPv4`,
    );
  }
  if (!IPV4.test(remote)) {
    const owner = o.user?.remoteAddress !== undefined ? `user ${o.user.name}` : 'pppd';
    throw new CallbackdError(
      'CONFIG_INVALID',
      `${owner} remote address ${JSON.stringify(remote)} is not IPv4`,
    );
  }

  const args = [...cfg.prefixArgs, ...cfg.options, `${cfg.localAddress}:${remote}`];
  if (!hasAny(cfg.options, ['logfd', 'logfile'])) args.push('logfd', '2');
  if (!hasAny(cfg.options, ['linkname'])) args.push('linkname', o.lineName);
  if (o.autoPpp && !papRequiredAtEnd(cfg.options)) args.push('require-pap');
  if (o.radius) args.push(...radiusArgs(o.radius));
  for (const w of o.extraOptions ?? []) {
    if (!/^[a-z0-9-]{1,32}$/.test(w)) {
      throw new CallbackdError('CONFIG_INVALID', `pppd option ${JSON.stringify(w)} is not usable`);
    }
    args.push(w);
  }
  args.push('nodetach');
  return { file: cfg.path, args };
}

function hasAny(options: string[], names: string[]): boolean {
  return options.some((w) => names.includes(w));
}

/** True when a PAP requirement comes after the last `noauth` in the option list. */
export function papRequiredAtEnd(options: string[]): boolean {
  const lastNoauth = options.lastIndexOf('noauth');
  return options.some((w, i) => i > lastNoauth && (w === 'require-pap' || w === '+pap'));
}

const MULTI_SESSION_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function radiusArgs(r: PppdRadiusArgs): string[] {
  if (!MULTI_SESSION_ID.test(r.multiSessionId)) {
    throw new CallbackdError(
      'CONFIG_INVALID',
      `call id ${JSON.stringify(r.multiSessionId)} cannot be an avpair value`,
    );
  }
  if (
    !r.configFile.startsWith('/') ||
    /[\0\n]/.test(r.configFile) ||
    r.plugin === '' ||
    /[\0\n]/.test(r.plugin)
  ) {
    throw new CallbackdError('CONFIG_INVALID', 'the radius.so plugin or its config file path is not usable');
  }
  return [
    'plugin',
    r.plugin,
    'radius-config-file',
    r.configFile,
    'avpair',
    `Acct-Multi-Session-Id=${r.multiSessionId}`,
  ];
}
