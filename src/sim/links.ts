import { lstat, readlink, symlink, unlink } from 'node:fs/promises';

/** Makes link point at target, replacing an old symlink but never a real file. */
export async function makeLink(link: string, target: string): Promise<void> {
  try {
    const st = await lstat(link);
    if (!st.isSymbolicLink()) throw new Error(`sim: ${link} exists and is not a symlink; not replacing it`);
    await unlink(link);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await symlink(target, link);
}

/** Removes the link only if it still points at our pty (another sim may own it now). */
export async function removeLink(link: string, target: string): Promise<void> {
  try {
    if ((await readlink(link)) === target) await unlink(link);
  } catch {
    // already gone
  }
}
