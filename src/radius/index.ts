import path from 'node:path';
import type { RadiusConfig } from '../config/radius.js';
import type { Logger } from '../log.js';
import { RadiusAccounting } from './accounting.js';
import { authenticate, type AuthRequest, type AuthResult, type NasIdentity } from './auth.js';
import { RadiusClient, type RadiusServer } from './client.js';
import { writePppdRadiusConfig, type PppdRadiusFiles } from './pppd-config.js';
import { readSecretFile } from './secret.js';

export type { AuthRequest, AuthResult, NasIdentity } from './auth.js';
export type { Leg, LegStop } from './accounting.js';
export { RadiusAccounting } from './accounting.js';
export { RadiusClient } from './client.js';

/**
 * callbackd as a RADIUS NAS: everything the session needs, built from [radius].
 * open() reads the secret files (refusing ones readable by others), binds the UDP
 * socket, opens the accounting spool under the state directory (sending what an
 * earlier run left there) and writes radius.so's files when pppd_pap is on.
 */
export class Radius {
  private constructor(
    readonly config: RadiusConfig,
    readonly client: RadiusClient,
    readonly accounting: RadiusAccounting | undefined,
    readonly pppd: PppdRadiusFiles | undefined,
    private readonly log: Logger,
  ) {}

  static async open(config: RadiusConfig, o: { stateDir: string; log: Logger }): Promise<Radius> {
    const secrets = await Promise.all(config.servers.map((s) => readSecretFile(s.secretFile)));
    const servers: RadiusServer[] = config.servers.map((s, i) => ({
      host: s.address,
      authPort: s.authPort,
      acctPort: s.acctPort,
      secret: secrets[i] as Buffer,
    }));
    const pppd = config.pppdPap
      ? await writePppdRadiusConfig(config, secrets, path.join(o.stateDir, 'radius'))
      : undefined;
    const client = await RadiusClient.open(servers, {
      timeoutMs: config.timeoutMs,
      retries: config.retries,
      deadTimeMs: config.deadTimeMs,
      bindAddress: config.bindAddress,
      log: o.log,
    });
    const accounting = config.accounting
      ? await RadiusAccounting.open({
          client,
          nas: nasOf(config),
          spoolDir: path.join(o.stateDir, 'radius-spool'),
          log: o.log,
          retryMs: config.spoolRetryMs,
        })
      : undefined;
    o.log.info(
      { servers: config.servers.map((s) => `${s.address}:${s.authPort}`), accounting: config.accounting },
      'radius: ready',
    );
    return new Radius(config, client, accounting, pppd, o.log);
  }

  authenticate(req: AuthRequest): Promise<AuthResult> {
    return authenticate(this.client, nasOf(this.config), req, this.log);
  }

  /**
   * Stops: first gives the accounting sender up to `drainMs` to deliver what is spooled
   * (the last calls' Stops, typically), then closes. What is still in the spool stays
   * there, durable, for the next start.
   */
  async close(drainMs = 0): Promise<void> {
    if (this.accounting && drainMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.accounting.drained(),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs))),
      ]);
      clearTimeout(timer);
    }
    const idle = this.accounting?.close();
    await this.client.close();
    await idle;
  }
}

export function nasOf(config: RadiusConfig): NasIdentity {
  const nas: NasIdentity = { nasIdentifier: config.nasIdentifier };
  if (config.nasIpAddress) nas.nasIpAddress = config.nasIpAddress;
  return nas;
}
