import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { createDb, type Db } from '../../src/db/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { createMediaStorage } from '../../src/modules/media/media.storage.ts';
import { seedDemoPublication } from '../../src/modules/seed/seed.service.ts';
import type { PageCache } from '../../src/http/page-cache.ts';

export interface TestSite {
  app: FastifyInstance;
  db: Db;
  config: Config;
  pages: PageCache;
  /** What the newsroom calls after a change readers can see: records it and drops cached pages. */
  contentChanged: () => Promise<void>;
  /** When the demo was seeded ("first start"). */
  seededAt: Date;
  /** Base URL once `listen()` has been called. */
  listen: () => Promise<string>;
  close: () => Promise<void>;
}

/**
 * A real Gazette site on a fresh SQLite database in a temporary DATA_DIR, seeded with the demo publication
 * as a first start would be. Tests talk to it through `app.inject()` or, after `listen()`, over HTTP.
 */
export async function createTestSite(
  options: { seed?: boolean; now?: () => Date; env?: Record<string, string> } = {},
): Promise<TestSite> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gazette-test-'));
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', SITE_URL: 'http://gazette.test', ...options.env });
  const { db } = createDb(config.database);
  await migrateToLatest(db);
  const seededAt = options.now?.() ?? new Date();
  // The configured storage (MEDIA_URL in `env` selects S3), shared by the seed and the app.
  const storage = await createMediaStorage(config);
  if (options.seed !== false) await seedDemoPublication(db, { storage, now: seededAt });
  const { app, pages, contentChanged } = await buildApp({
    config,
    db,
    storage,
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    app,
    db,
    config,
    pages,
    contentChanged,
    seededAt,
    listen: async () => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address();
      if (typeof address !== 'object' || !address) throw new Error('not listening');
      return `http://127.0.0.1:${address.port}`;
    },
    close: async () => {
      await app.close();
      storage.close?.();
      await db.destroy();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
