import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A real FreeRADIUS 3.2 on the loopback, with a private minimal configuration in a temp
 * directory (no eap, no stock sites): clients for callbackd (127.0.0.1, Message-Authenticator
 * required) and for pppd's radius.so (127.0.0.2, which cannot send one), the users file
 * the test gives, and the detail module writing accounting to <dir>/acct/detail.
 */
export const FREERADIUS = '/usr/sbin/freeradius';

export interface FreeRadiusOptions {
  secret: string;
  users: string;
  /** Add Message-Authenticator to every Access-* reply (3.2.1 does not by itself). */
  replyMessageAuthenticator?: boolean;
}

/** A UDP port below Linux's ephemeral range (32768+), so no client socket can be given it. */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const base = 20000 + 2 * Math.floor(Math.random() * 6000);
    if ((await udpFree(base)) && (await udpFree(base + 1))) return base;
  }
  throw new Error('no free UDP port pair below 32768');
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export class FreeRadius {
  private child: ChildProcess | undefined;
  output = '';
  private waiters: (() => void)[] = [];

  /** Number of times `re` (global) occurs in everything this server printed so far. */
  count(re: RegExp): number {
    return this.output.match(new RegExp(re.source, 'g'))?.length ?? 0;
  }

  /** Resolves once `re` occurs `n` times in the server's output (log lines can trail its replies). */
  async waitFor(re: RegExp, n = 1): Promise<void> {
    while (this.count(re) < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private constructor(
    readonly dir: string,
    public authPort: number,
    public acctPort: number,
    private readonly o: FreeRadiusOptions,
  ) {}

  private started = false;

  static async create(o: FreeRadiusOptions): Promise<FreeRadius> {
    const dir = await fsp.mkdtemp(path.join(tmpdir(), 'freeradius-'));
    const base = await freePortPair();
    const fr = new FreeRadius(dir, base, base + 1, o);
    await fsp.mkdir(path.join(dir, 'raddb'), { mode: 0o700 });
    await fsp.mkdir(path.join(dir, 'acct'), { mode: 0o700 });
    await fsp.writeFile(path.join(dir, 'raddb', 'users'), o.users, { mode: 0o600 });
    await fr.writeConf();
    return fr;
  }

  private async writeConf(): Promise<void> {
    const { dir, o } = this;
    const fr = this;
    const ma = o.replyMessageAuthenticator !== false;
    const conf = `raddbdir = ${dir}/raddb
confdir = \${raddbdir}
radacctdir = ${dir}/acct
run_dir = ${dir}
libdir = /usr/lib/freeradius
name = freeradius
log { destination = stdout, auth = yes }
security { reject_delay = 0, status_server = yes }
thread pool { start_servers = 1, max_servers = 2, min_spare_servers = 1, max_spare_servers = 1 }
client callbackd { ipaddr = 127.0.0.1, secret = "${o.secret}", require_message_authenticator = yes }
client pppd_radius_so { ipaddr = 127.0.0.2, secret = "${o.secret}", require_message_authenticator = no }
modules {
  files { filename = \${confdir}/users }
  pap { }
  detail { filename = \${radacctdir}/detail, permissions = 0600 }
}
server default {
  listen { type = auth, ipaddr = 127.0.0.1, port = ${fr.authPort} }
  listen { type = acct, ipaddr = 127.0.0.1, port = ${fr.acctPort} }
  authorize {
    files
    pap
  }
  authenticate {
    Auth-Type PAP {
      pap
    }
  }
  accounting {
    detail
  }
  post-auth {
${ma ? '    update reply { &Message-Authenticator := 0x00 }' : ''}
    Post-Auth-Type REJECT {
      update { &reply: !* ANY }
${ma ? '      update reply { &Message-Authenticator := 0x00 }' : ''}
    }
  }
}
`;
    await fsp.writeFile(path.join(dir, 'raddb', 'radiusd.conf'), conf, { mode: 0o600 });
  }

  get detailFile(): string {
    return path.join(this.dir, 'acct', 'detail');
  }

  /**
   * Starts the server and resolves once it says it is ready. Another process may take the
   * ports between our check and FreeRADIUS's bind; the first start then moves to new ports
   * (a restart keeps its ports: clients already point there).
   */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startOnce();
        this.started = true;
        return;
      } catch (e) {
        const inUse = /Address already in use|Failed binding/i.test((e as Error).message);
        if (this.started || !inUse || attempt >= 5) throw e;
        const base = await freePortPair();
        this.authPort = base;
        this.acctPort = base + 1;
        this.output = '';
        await this.writeConf();
      }
    }
  }

  private async startOnce(): Promise<void> {
    if (this.child) return;
    const child = spawn(FREERADIUS, ['-f', '-l', 'stdout', '-d', path.join(this.dir, 'raddb')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer): void => {
        this.output += d.toString();
        for (const w of this.waiters.splice(0)) w();
        if (this.output.includes('Ready to process requests')) resolve();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        this.child = undefined;
        reject(new Error(`freeradius exited (${code}) before it was ready:\n${this.output}`));
      });
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }

  async detail(): Promise<string> {
    return fsp.readFile(this.detailFile, 'utf8').catch(() => '');
  }

  async destroy(): Promise<void> {
    await this.stop();
    await fsp.rm(this.dir, { recursive: true, force: true });
  }
}

/** Records of FreeRADIUS's detail file as attribute maps (values unquoted). */
export function parseDetail(text: string): Record<string, string>[] {
  return text
    .split(/\n\n+/)
    .map((block) => block.trim())
    .filter((b) => b !== '')
    .map((block) => {
      const rec: Record<string, string> = {};
      for (const line of block.split('\n').slice(1)) {
        const m = /^\s*([A-Za-z0-9-]+) = (.*)$/.exec(line);
        if (m) rec[m[1] as string] = (m[2] as string).replace(/^"(.*)"$/, '$1');
      }
      return rec;
    });
}

/** Writes a secret file the way the daemon wants it (root-only). */
export async function writeSecretFile(dir: string, secret: string): Promise<string> {
  const file = path.join(dir, 'radius-secret');
  await fsp.writeFile(file, `${secret}\n`, { mode: 0o600 });
  return file;
}
