import { promises as fsp } from 'node:fs';
import path from 'node:path';

/**
 * A durable FIFO of small JSON records, one file each, named by a growing sequence
 * number. put() returns only after the file and its directory entry are on disk (write
 * to a temp name, fsync, rename, fsync the directory), so a record that put() accepted
 * survives a crash or power cut. remove() unlinks and fsyncs the directory, so a record
 * once acknowledged is not found again after a restart.
 */
export class Spool<T> {
  private seq = 0;

  private constructor(readonly dir: string) {}

  static async open<T>(dir: string): Promise<Spool<T>> {
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    const s = new Spool<T>(dir);
    // Temp files are puts that never completed: the caller was never told they were safe.
    for (const name of await fsp.readdir(dir)) {
      if (name.startsWith('.tmp-')) await fsp.rm(path.join(dir, name), { force: true });
    }
    const names = await s.list();
    s.seq = names.length > 0 ? Number(names[names.length - 1]?.slice(0, 12)) : 0;
    return s;
  }

  /** Names of the queued records, oldest first. */
  async list(): Promise<string[]> {
    return (await fsp.readdir(this.dir)).filter((n) => /^\d{12}\.json$/.test(n)).sort();
  }

  async put(record: T): Promise<string> {
    this.seq++;
    const name = `${String(this.seq).padStart(12, '0')}.json`;
    const tmp = path.join(this.dir, `.tmp-${name}`);
    const fh = await fsp.open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(record)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, path.join(this.dir, name));
    await this.syncDir();
    return name;
  }

  /** The record, or undefined when the file is not valid JSON (moved aside as .bad). */
  async read(name: string): Promise<T | undefined> {
    const file = path.join(this.dir, name);
    try {
      return JSON.parse(await fsp.readFile(file, 'utf8')) as T;
    } catch {
      await fsp.rename(file, `${file}.bad`);
      await this.syncDir();
      return undefined;
    }
  }

  async remove(name: string): Promise<void> {
    await fsp.rm(path.join(this.dir, name), { force: true });
    await this.syncDir();
  }

  private async syncDir(): Promise<void> {
    const d = await fsp.open(this.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }
}
