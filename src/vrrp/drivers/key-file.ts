/**
 * Reads an advert key file (ruling 11): the descriptor that is read is the one whose mode and
 * owner were checked, so a file swapped in between cannot slip through.
 */
import { open } from 'node:fs/promises';
import { LvsdError } from '../../lib/errors.js';
import { checkKeyFileMode, MAX_KEY_FILE_BYTES, parseKeyFile, type WireKey } from '../wire/keys.js';

export async function readKeyFile(path: string): Promise<WireKey> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new LvsdError(
      'VRRP_KEY_FILE',
      `key_file ${path}: ${e instanceof Error ? e.message : String(e)}`,
      'make one with: openssl rand -hex 32 > FILE && chmod 600 FILE',
    );
  }
  try {
    const st = await fh.stat();
    const mode = checkKeyFileMode(st.mode, st.uid, process.getuid?.() ?? 0);
    if (!mode.ok) throw new LvsdError('VRRP_KEY_FILE', `key_file ${path}: ${mode.message}`);
    const buf = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const r = parseKeyFile(buf.subarray(0, bytesRead));
    if (!r.ok) throw new LvsdError('VRRP_KEY_FILE', `key_file ${path}: ${r.message}`);
    return r.key;
  } finally {
    await fh.close();
  }
}
