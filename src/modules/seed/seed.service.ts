import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../../db/index.ts';
import { hasAnyContent, renderArticleBody } from '../articles/index.ts';
import { publishLegalDocument } from '../legal/index.ts';
import { insertMedia } from '../media/index.ts';
import { mediaUrl } from '../media/index.ts';
import { FileSystemMediaStorage, type MediaStorage } from '../media/index.ts';
import type { MediaKind } from '../media/index.ts';
import { updateSiteSettings } from '../settings/index.ts';
import { demoArticles, demoAuthors, demoLegalDocuments, demoPublication, demoTags } from './demo.content.ts';

const assetsDir = path.join(import.meta.dirname, 'assets');

const mimeTypes: Record<string, string> = { mp4: 'video/mp4', jpg: 'image/jpeg', png: 'image/png', vtt: 'text/vtt' };

export type SeedOutcome = 'seeded' | 'skipped_has_content';

/**
 * Seeds the demo publication, The Judean, into an empty database: settings, two authors, tags, the legal
 * documents and five articles dated relative to `now` (the lead a few hours earlier), so the home page,
 * feeds and news sitemap look like a live site. A database that has any article is never touched.
 */
export async function seedDemoPublication(
  db: Db,
  deps: ({ storage: MediaStorage } | { dataDir: string }) & { now?: Date },
): Promise<SeedOutcome> {
  if (await hasAnyContent(db)) return 'skipped_has_content';
  // Tests may pass just a DATA_DIR; servers pass the configured storage (filesystem or S3).
  const storage = 'storage' in deps ? deps.storage : new FileSystemMediaStorage(deps.dataDir);
  const now = deps.now ?? new Date();
  const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3600_000).toISOString();

  // Files first (idempotent by fingerprint), then every row in one transaction: a crash midway leaves an
  // empty database, which the next start seeds again.
  const stored = new Map<string, { fileName: string; sha256: string; byteSize: number }>();
  const files = new Set<string>(['logo.png']);
  for (const article of demoArticles) {
    if (article.image) files.add(article.image.file);
    if (article.video) for (const f of [article.video.file, article.video.poster, article.video.captions]) files.add(f);
  }
  for (const file of files) {
    const bytes = await readFile(path.join(assetsDir, file));
    const extension = path.extname(file).slice(1);
    stored.set(file, await storage.put(file, extension, bytes, mimeTypes[extension] ?? 'application/octet-stream'));
  }

  try {
    await insertDemoRows(db, stored, hoursAgo);
  } catch (error) {
    // Another process seeding the same empty database at the same moment wins; this one stands down.
    if (await hasAnyContent(db)) return 'skipped_has_content';
    throw error;
  }
  return 'seeded';
}

type StoredFiles = ReadonlyMap<string, { fileName: string; sha256: string; byteSize: number }>;

async function insertDemoRows(db: Db, stored: StoredFiles, hoursAgo: (hours: number) => string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const createdAt = hoursAgo(72);
    const addMedia = async (
      file: string,
      kind: MediaKind,
      extra: { width?: number; height?: number; duration?: number; alt?: string; poster?: number; captions?: number },
    ) => {
      const s = stored.get(file);
      if (!s) throw new Error(`demo asset ${file} was not stored`);
      return insertMedia(trx, {
        kind,
        file_name: s.fileName,
        original_name: file,
        mime_type: mimeTypes[path.extname(file).slice(1)] ?? 'application/octet-stream',
        byte_size: s.byteSize,
        sha256: s.sha256,
        width: extra.width ?? null,
        height: extra.height ?? null,
        duration_seconds: extra.duration ?? null,
        alt_text: extra.alt ?? null,
        poster_media_id: extra.poster ?? null,
        captions_media_id: extra.captions ?? null,
        created_at: createdAt,
      });
    };

    const logo = stored.get('logo.png');
    await addMedia('logo.png', 'image', { width: 600, height: 60, alt: `${demoPublication.name} logo` });
    await updateSiteSettings(trx, {
      publicationName: demoPublication.name,
      description: demoPublication.description,
      locale: demoPublication.locale,
      timeZone: 'Asia/Jerusalem',
      newsletterName: `${demoPublication.name} Newsletter`,
      signupHeading: `Sign up for ${demoPublication.name} newsletter`,
      signupPitch:
        'The day’s essential reporting from Israel and the region, every morning in your inbox. Free, and you can unsubscribe at any time.',
      consentLabel: 'I agree with the [Terms and conditions](/terms) and the [Privacy policy](/privacy)',
      ...(logo ? { logoUrl: mediaUrl(logo.fileName), logoWidth: 600, logoHeight: 60 } : {}),
    });

    const authorIds = new Map<string, number>();
    for (const author of demoAuthors) {
      const row = await trx
        .insertInto('authors')
        .values({
          slug: author.slug,
          name: author.name,
          bio: author.bio,
          email: null,
          avatar_media_id: null,
          created_at: createdAt,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      authorIds.set(author.slug, row.id);
    }
    const tagIds = new Map<string, number>();
    for (const tag of demoTags) {
      const row = await trx
        .insertInto('tags')
        .values({ slug: tag.slug, name: tag.name, description: tag.description, created_at: createdAt })
        .returning('id')
        .executeTakeFirstOrThrow();
      tagIds.set(tag.slug, row.id);
    }

    for (const doc of demoLegalDocuments)
      await publishLegalDocument(trx, doc.kind, doc.title, doc.bodyMarkdown, new Date(createdAt));

    for (const article of demoArticles) {
      let videoId: number | null = null;
      let imageId: number | null = null;
      if (article.video) {
        const v = article.video;
        const poster = await addMedia(v.poster, 'image', { width: v.width, height: v.height, alt: v.caption });
        const captions = await addMedia(v.captions, 'captions', {});
        videoId = await addMedia(v.file, 'video', {
          width: v.width,
          height: v.height,
          duration: v.durationSeconds,
          alt: v.description,
          poster,
          captions,
        });
      }
      if (article.image) {
        const i = article.image;
        imageId = await addMedia(i.file, 'image', { width: i.width, height: i.height, alt: i.alt });
      }
      const publishedAt = hoursAgo(article.hoursAgo);
      const updatedAt = hoursAgo(article.updatedHoursAgo ?? article.hoursAgo);
      const { id } = await trx
        .insertInto('articles')
        .values({
          slug: article.slug,
          title: article.title,
          standfirst: article.standfirst,
          body_markdown: article.bodyMarkdown,
          ...renderArticleBody(article.bodyMarkdown),
          status: 'published',
          feature_image_id: imageId,
          video_id: videoId,
          video_caption: article.video?.caption ?? null,
          seo_title: null,
          seo_description: null,
          correction_note: null,
          scheduled_at: null,
          published_at: publishedAt,
          updated_at: updatedAt,
          created_at: publishedAt,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('article_revisions')
        .values({
          article_id: id,
          title: article.title,
          standfirst: article.standfirst,
          body_markdown: article.bodyMarkdown,
          created_by: 'seed',
          created_at: updatedAt,
        })
        .execute();
      for (const [position, slug] of article.authorSlugs.entries()) {
        const authorId = authorIds.get(slug);
        if (authorId !== undefined)
          await trx.insertInto('article_authors').values({ article_id: id, author_id: authorId, position }).execute();
      }
      for (const [position, slug] of article.tagSlugs.entries()) {
        const tagId = tagIds.get(slug);
        if (tagId !== undefined)
          await trx.insertInto('article_tags').values({ article_id: id, tag_id: tagId, position }).execute();
      }
    }
  });
}
