import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, fstatSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const JOURNALD = '/lib/systemd/systemd-journald';

/**
 * A real systemd-journald in a journal namespace of its own (systemd-journald@.service
 * runs it the same way: the namespace as its only argument), so a test neither needs
 * systemd as PID 1 nor sees or touches the machine's journal. Its sockets live in
 * /run/systemd/journal.NS and its files in /var/log/journal/MACHINE-ID.NS (or /run/log/
 * journal when /var/log/journal does not exist); stop() removes both.
 */
export class Journald {
  private constructor(
    readonly namespace: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(): Promise<Journald> {
    const ns = `callbackdtest${process.pid}x${Date.now().toString(36)}`;
    const child = spawn(JOURNALD, [ns], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const j = new Journald(ns, child);
    // Ready when its stdout socket accepts a connection (it is bound before the loop runs).
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`systemd-journald exited ${child.exitCode}: ${stderr}`);
      if (existsSync(j.stdoutSocket)) {
        try {
          const s = await j.connectStream('probe');
          s.destroy();
          return j;
        } catch {
          /* not listening yet */
        }
      }
      if (Date.now() > deadline) {
        await j.stop();
        throw new Error(`systemd-journald did not come up: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  get stdoutSocket(): string {
    return `/run/systemd/journal.${this.namespace}/stdout`;
  }

  /**
   * A stream connection as systemd gives a service's stdout (the sd_journal_stream_fd
   * protocol): identifier, unit, priority 6, level prefixes parsed, no forwarding.
   * `journalStream` is the JOURNAL_STREAM value (device:inode) a service would see.
   */
  async connectStream(identifier: string): Promise<Socket & { journalStream: string }> {
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect(this.stdoutSocket);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    await new Promise<void>((resolve, reject) =>
      sock.write(`${identifier}\n\n6\n1\n0\n0\n0\n`, (e) => (e ? reject(e) : resolve())),
    );
    const fd = (sock as unknown as { _handle: { fd: number } })._handle.fd;
    const st = fstatSync(fd, { bigint: true });
    return Object.assign(sock, { journalStream: `${st.dev}:${st.ino}` });
  }

  /** The journal's entries for `identifier` at `priority` or more urgent, as JSON objects. */
  async entries(identifier: string, priority = 'debug'): Promise<Record<string, string>[]> {
    const { stdout } = await run(
      'journalctl',
      [`--namespace=${this.namespace}`, '-t', identifier, '-p', priority, '-o', 'json', '--no-pager'],
      { maxBuffer: 32 * 1024 * 1024 },
    );
    return stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, string>);
  }

  /** `journalctl -f` on the namespace, cat format: the daemon's lines as they are stored. */
  follow(identifier: string): ChildProcess {
    return spawn(
      'journalctl',
      [`--namespace=${this.namespace}`, '-t', identifier, '-f', '-n', 'all', '-o', 'cat', '--no-pager'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const gone = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await gone;
    }
    const machineId = readFileSync('/etc/machine-id', 'utf8').trim();
    for (const d of [
      `/run/systemd/journal.${this.namespace}`,
      `/var/log/journal/${machineId}.${this.namespace}`,
      `/run/log/journal/${machineId}.${this.namespace}`,
    ]) {
      rmSync(d, { recursive: true, force: true });
    }
  }
}
