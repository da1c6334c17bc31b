import { randomBytes } from 'node:crypto';

export interface MultipartFile {
  /** The form field; `file` unless named. */
  field?: string;
  filename: string;
  content: Uint8Array | string;
  /** What the client claims; the server must not believe it. */
  contentType?: string;
}

/**
 * A multipart/form-data body for `app.inject()`, as a browser sends a form: fields first, in order, then
 * the file. Written out here rather than by `new Response(formData)` so the bytes are exactly these (the
 * platform's encoder rewrites newlines in values) and the call stays synchronous.
 */
export function multipart(
  fields: Record<string, string>,
  file?: MultipartFile,
): { payload: Buffer; contentType: string } {
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
