import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Where stored files live: `<DATA_DIR>/media`. */
export function mediaDirectory(dataDir: string): string {
  return path.join(dataDir, 'media');
}

/** `Herzog Meeting!.MP4` → `herzog-meeting`: the readable part of a fingerprinted name. */
export function safeBaseName(originalName: string): string {
  const base = path.basename(originalName.replaceAll('\\', '/'), path.extname(originalName));
  const cleaned = base
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase()
    .slice(0, 60);
  return cleaned || 'file';
}

/**
 * Stores bytes under a fingerprinted name (`name.<sha256 prefix>.ext`): the same bytes always get the same
 * name, and changed bytes a new one, so a stored file can be cached as immutable. The write goes to a
 * temporary file first and is renamed into place, so a crash never leaves half a file under a real name.
 */
export async function storeMediaFile(
  dataDir: string,
  originalName: string,
  extension: string,
  bytes: Uint8Array,
): Promise<{ fileName: string; sha256: string; byteSize: number }> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const fileName = `${safeBaseName(originalName)}.${sha256.slice(0, 12)}.${extension}`;
  const directory = mediaDirectory(dataDir);
  await mkdir(directory, { recursive: true });
  const target = path.join(directory, fileName);
  const existing = await stat(target).catch(() => undefined);
  if (existing?.size !== bytes.byteLength) {
    const temporary = path.join(directory, `.${fileName}.${randomBytes(6).toString('hex')}.tmp`);
    await writeFile(temporary, bytes);
    await rename(temporary, target);
  }
  return { fileName, sha256, byteSize: bytes.byteLength };
}
