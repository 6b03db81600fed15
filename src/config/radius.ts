import type { Section } from './reader.js';
import * as rules from './rules.js';

/**
 * The optional [radius] section: callbackd as a RADIUS NAS (RFC 2865 authentication,
 * RFC 2866 accounting). docs/radius.md explains the keys and the security posture.
 */
export interface RadiusServerConfig {
  /** IPv4 address or host name. */
  address: string;
  authPort: number;
  acctPort: number;
  /** Root-only file whose first line is this server's shared secret. */
  secretFile: string;
}

/**
 * When the local [[callbacks]] / [[ppp_users]] entries are consulted:
 * - "never": RADIUS alone decides; no answer means the login is refused.
 * - "unavailable": only when no RADIUS server answered at all. An Access-Reject is
 *   always final: a user revoked centrally must not get in through a stale local entry.
 */
export type RadiusLocalFallback = 'never' | 'unavailable';

export interface RadiusConfig {
  servers: RadiusServerConfig[];
  /** NAS-Identifier; defaults to daemon.hostname. */
  nasIdentifier: string;
  nasIpAddress?: string;
  /** Source address for callbackd's own requests (one FreeRADIUS client entry). */
  bindAddress?: string;
  timeoutMs: number;
  retries: number;
  deadTimeMs: number;
  accounting: boolean;
  /** Interim-Update period; 0 = none. */
  interimIntervalMs: number;
  /** Wait between spool delivery attempts while no accounting server answers. */
  spoolRetryMs: number;
  localFallback: RadiusLocalFallback;
  /** Whether pppd's PAP on the second leg asks the same servers through radius.so. */
  pppdPap: boolean;
  /** radius.so as pppd's `plugin` argument (a name in pppd's plugin directory, or a path). */
  pppdPlugin: string;
  /** radius.so's own source address (`bindaddr`), so FreeRADIUS can give it its own client entry. */
  pppdBindAddress?: string;
}

export const RADIUS_DEFAULTS = {
  authPort: 1812,
  acctPort: 1813,
  timeoutMs: 3_000,
  retries: 2,
  deadTimeMs: 60_000,
  accounting: true,
  interimIntervalMs: 0,
  spoolRetryMs: 30_000,
  localFallback: 'never' as RadiusLocalFallback,
  pppdPap: true,
  pppdPlugin: 'radius.so',
};

const HOST =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const HOUR = 3_600_000;

function check(s: Section, key: string, reason: string | undefined): void {
  if (reason !== undefined) s.problem(key, reason);
}

/** Reads [radius]; `hostname` is daemon.hostname, the default NAS-Identifier. */
export function readRadius(s: Section, hostname: string): RadiusConfig {
  const d = RADIUS_DEFAULTS;
  const defaultSecret = s.string('secret_file');
  if (defaultSecret !== undefined) check(s, 'secret_file', rules.absolutePathProblem(defaultSecret));

  const servers = s.sections('servers').map((t): RadiusServerConfig => {
    const address = t.required('address');
    if (t.has('address') && address !== '' && !HOST.test(address)) {
      t.problem('address', `"${address}" is not an IPv4 address or host name`);
    }
    const secretFile = t.string('secret_file') ?? defaultSecret ?? '';
    if (t.has('secret_file')) check(t, 'secret_file', rules.absolutePathProblem(secretFile));
    else if (defaultSecret === undefined) t.problem('', 'needs secret_file (here or in [radius])');
    const out = {
      address,
      authPort: t.int('auth_port', d.authPort, 1, 65535),
      acctPort: t.int('acct_port', d.acctPort, 1, 65535),
      secretFile,
    };
    t.done();
    return out;
  });
  if (servers.length === 0) s.problem('servers', 'at least one [[radius.servers]] table is needed');
  const seen = new Set<string>();
  servers.forEach((sv, i) => {
    const key = `${sv.address}:${sv.authPort}`;
    if (seen.has(key)) s.problem(`servers[${i}].address`, `server ${key} is listed twice`);
    seen.add(key);
  });

  const fallback = s.string('local_fallback', d.localFallback);
  const out: RadiusConfig = {
    servers,
    nasIdentifier: s.string('nas_identifier', hostname),
    timeoutMs: s.duration('timeout', d.timeoutMs, 100, 60_000),
    retries: s.int('retries', d.retries, 0, 10),
    deadTimeMs: s.duration('dead_time', d.deadTimeMs, 0, HOUR),
    accounting: s.bool('accounting', d.accounting),
    interimIntervalMs: s.duration('interim_interval', d.interimIntervalMs, 0, 24 * HOUR),
    spoolRetryMs: s.duration('spool_retry', d.spoolRetryMs, 1_000, HOUR),
    localFallback: d.localFallback,
    pppdPap: s.bool('pppd_pap', d.pppdPap),
    pppdPlugin: s.string('pppd_plugin', d.pppdPlugin),
  };
  if (fallback === 'never' || fallback === 'unavailable') out.localFallback = fallback;
  else s.problem('local_fallback', 'must be "never" or "unavailable"');
  if (
    out.nasIdentifier === '' ||
    /[\0\r\n]/.test(out.nasIdentifier) ||
    Buffer.byteLength(out.nasIdentifier) > 253
  ) {
    s.problem('nas_identifier', 'must be 1..253 bytes on one line');
  }
  if (out.interimIntervalMs !== 0 && out.interimIntervalMs < 60_000) {
    s.problem('interim_interval', 'must be 0 (off) or at least 60s (RFC 2869 §5.16)');
  }
  for (const [key, field] of [
    ['nas_ip_address', 'nasIpAddress'],
    ['bind_address', 'bindAddress'],
    ['pppd_bind_address', 'pppdBindAddress'],
  ] as const) {
    const v = s.string(key);
    if (v !== undefined) {
      out[field] = v;
      check(s, key, rules.ipv4Problem(v));
    }
  }
  if (out.pppdPlugin === '' || /[\0\r\n\s]/.test(out.pppdPlugin)) {
    s.problem('pppd_plugin', 'must be a plugin name or path without spaces');
  }
  s.done();
  return out;
}
