import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CompressibleBody } from '../http/negotiation.ts';

const assetsDir = path.join(import.meta.dirname, 'assets');

const contentTypes: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** An asset's bytes, and their brotli and gzip forms once a client has asked for them. */
export interface StaticAsset extends CompressibleBody {
  contentType: string;
  etag: string;
}

/**
 * The site's own CSS, scripts and icons, read once at start and served from memory under fingerprinted
 * names (`site.3f9a1c2b.css`), so browsers and CDNs may cache them for a year.
 */
export class StaticAssets {
  readonly #byPublicName = new Map<string, StaticAsset>();
  readonly #publicNames = new Map<string, string>();
  readonly #integrity = new Map<string, string>();

  constructor(dir = assetsDir) {
    for (const name of readdirSync(dir)) {
      const extension = path.extname(name);
      const contentType = contentTypes[extension];
      if (!contentType) continue;
      const body = readFileSync(path.join(dir, name));
      const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
      const publicName = `${path.basename(name, extension)}.${hash}${extension}`;
      this.#byPublicName.set(publicName, { body, contentType, etag: `"${hash}"` });
      this.#publicNames.set(name, publicName);
      this.#integrity.set(name, `sha384-${createHash('sha384').update(body).digest('base64')}`);
    }
  }

  /** The URL path of an asset by its source name (`site.css` → `/assets/site.<hash>.css`). */
  url(name: string): string {
    const publicName = this.#publicNames.get(name);
    if (!publicName) throw new Error(`Unknown asset ${name}`);
    return `/assets/${publicName}`;
  }

  /** Subresource Integrity value of an asset by its source name. */
  integrity(name: string): string {
    return this.#integrity.get(name) ?? '';
  }

  get(publicName: string): StaticAsset | undefined {
    return this.#byPublicName.get(publicName);
  }
}
