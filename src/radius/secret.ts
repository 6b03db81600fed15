import { promises as fsp } from 'node:fs';
import { CallbackdError, errnoCode } from '../errors.js';

/**
 * Reads a RADIUS shared secret from its file: the first line, without the line end.
 * The file must belong to root (or to us) and grant nothing to group or others,
 * because the secret lets anyone on the path forge answers. Errors name the file,
 * never its contents.
 */
export async function readSecretFile(path: string, opts: { allowGroupRead?: boolean } = {}): Promise<Buffer> {
  let st;
  try {
    st = await fsp.stat(path);
  } catch (e) {
    throw new CallbackdError(
      'RADIUS_SECRET',
      `${path}: cannot read the RADIUS secret (${errnoCode(e) ?? 'error'})`,
    );
  }
  if (!st.isFile())
    throw new CallbackdError('RADIUS_SECRET', `${path}: the RADIUS secret is not a regular file`);
  const uid = process.getuid?.() ?? 0;
  if (st.uid !== 0 && st.uid !== uid) {
    throw new CallbackdError(
      'RADIUS_SECRET',
      `${path}: the RADIUS secret must be owned by root (owner uid ${st.uid})`,
    );
  }
  const forbidden = opts.allowGroupRead ? 0o037 : 0o077;
  if ((st.mode & forbidden) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
    throw new CallbackdError(
      'RADIUS_SECRET',
      `${path}: the RADIUS secret is accessible to others (mode ${mode}); chmod 600 it`,
    );
  }
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    throw new CallbackdError(
      'RADIUS_SECRET',
      `${path}: cannot read the RADIUS secret (${errnoCode(e) ?? 'error'})`,
    );
  }
  const secret = text.split(/\r?\n/, 1)[0] ?? '';
  if (secret === '') throw new CallbackdError('RADIUS_SECRET', `${path}: the RADIUS secret is empty`);
  if (Buffer.byteLength(secret) > 128) {
    throw new CallbackdError('RADIUS_SECRET', `${path}: the RADIUS secret is longer than 128 bytes`);
  }
  return Buffer.from(secret, 'utf8');
}
