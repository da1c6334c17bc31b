// Test fixtures for the media module: small real files made at test time (sharp for images, ffmpeg's
// testsrc for videos) and a multipart/form-data encoder for `app.inject()`.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';

const run = promisify(execFile);

/** A JPEG of `width`×`height`: smooth (small) or random noise (which compresses badly: a large file). */
export async function makeJpeg(width: number, height: number, options: { noise?: boolean } = {}): Promise<Buffer> {
  if (!options.noise) return sharp({ create: { width, height, channels: 3, background: '#4a6b8a' } }).jpeg({ quality: 85 }).toBuffer();
  const noise = randomBytes(width * height * 3);
  return sharp(noise, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

/** A short H.264/AAC MP4 from ffmpeg's test pattern and a tone: tiny, so tests stay quick. */
export async function makeVideo(dir: string, seconds: number, name = 'test.mp4'): Promise<string> {
  const file = path.join(dir, name);
  await run('ffmpeg', [
    '-nostdin', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc=size=160x120:rate=15:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest',
    file,
  ]);
  return file;
}

/** The duration ffprobe reads from a file, in seconds. */
export async function probeDuration(file: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', file]);
  return Number(stdout.trim());
}

export interface MultipartFile {
  field?: string;
  filename: string;
  content: Uint8Array;
  /** What the client claims; the server must not believe it. */
  contentType?: string;
}

/** A multipart/form-data body: fields first (as browsers send a form in order), then the file. */
export function multipart(fields: Record<string, string>, file?: MultipartFile): { payload: Buffer; contentType: string } {
  const boundary = `----gazette${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  if (file) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field ?? 'file'}"; filename="${file.filename}"\r\nContent-Type: ${file.contentType ?? 'application/octet-stream'}\r\n\r\n`,
      ),
      Buffer.from(file.content),
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}
