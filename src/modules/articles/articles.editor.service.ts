import { diffWordsWithSpace } from 'diff';
import type { Db } from '../../db/index.ts';
import { AppError, type ErrorCode } from '../../errors.ts';
import { renderMarkdown } from '../../ui/markdown.ts';
import { renderArticleBody } from './articles.body.ts';
import { hasRole } from '../users/index.ts';
import type { UserRow } from '../users/index.ts';
import { CardProblem, checkCards } from './articles.cards.ts';
import * as repo from './articles.editor.repository.ts';
import { articleEventFor, emitArticleEvents } from './articles.events.ts';
import { findAuthorsOfArticles } from './articles.repository.ts';
import {
  type ArticleForm,
  type ArticleFormField,
  type EditorAction,
  slugify,
  utcToZoned,
  zonedToUtc,
} from './articles.schema.ts';
import type { ArticleRow, ArticleStatus, AuthorRow, RevisionEvent, RevisionRow, TagRow } from './articles.table.ts';

export type EditorUser = Pick<UserRow, 'id' | 'email' | 'email_key' | 'name' | 'role'>;

export interface ArticleEditorDeps {
  db: Db;
  now: () => Date;
  /** Called after any change readers can see (publish, edit of a published article, unpublish…). */
  contentChanged: () => Promise<void>;
  /** The publication's time zone, in which the schedule field is read. */
  timeZone: () => Promise<string>;
  /** The publication's language (a video card's captions are in it); English unless told. */
  locale?: () => Promise<string>;
}

/** A refusal that belongs next to one field of the form. */
export class ArticleFieldError extends AppError {
  readonly field: ArticleFormField | 'form';
  constructor(code: ErrorCode, field: ArticleFormField | 'form', message?: string) {
    super(code, message);
    this.field = field;
  }
}

export interface SaveResult {
  id: number;
  revision: number;
  slug: string;
  status: ArticleStatus;
  savedAt: string;
}

/** An article as the editor form shows it. */
export interface EditableArticle {
  row: ArticleRow;
  tagIds: number[];
  authorIds: number[];
}

export interface EditorChoices {
  tags: TagRow[];
  authors: AuthorRow[];
  images: repo.MediaChoice[];
  videos: repo.MediaChoice[];
}

/** One field of a diff: its parts, each unchanged, added or removed. */
export interface FieldDiff {
  label: string;
  changed: boolean;
  parts: { value: string; added: boolean; removed: boolean }[];
}

/** Autosaves by the same person within this window fold into one revision, so history stays readable. */
const autosaveFoldMs = 10 * 60 * 1000;

const diffTimeoutMs = 1500;

const eventFor: Record<Exclude<EditorAction, 'preview'>, RevisionEvent> = {
  save: 'saved',
  publish: 'published',
  schedule: 'scheduled',
  unpublish: 'unpublished',
};

/** Who may do what to an article: every rule of the editor is checked here, on the server. */
export function editPermission(
  user: Pick<EditorUser, 'role'>,
  article: Pick<ArticleRow, 'status'>,
  own: boolean,
): ErrorCode | null {
  if (hasRole(user.role, 'editor')) return null;
  if (!own) return 'article.not_yours';
  if (user.role === 'contributor' && article.status !== 'draft') return 'article.contributor_locked';
  return null;
}

export function canPublish(user: Pick<EditorUser, 'role'>): boolean {
  return hasRole(user.role, 'author');
}

function byline(user: EditorUser): string {
  return `${user.name || user.email} (user ${user.id})`;
}

/**
 * The newsroom's article editor: create, save (with a revision check), autosave, publish, schedule,
 * unpublish, history, diff and restore. Routes parse and check the role; this decides everything else.
 */
export class ArticleEditor {
  readonly #deps: ArticleEditorDeps;

  constructor(deps: ArticleEditorDeps) {
    this.#deps = deps;
  }

  /** The newsroom's list; `editable` says whether this user may open each article. */
  async list(user: EditorUser, status: ArticleStatus | undefined) {
    const { db } = this.#deps;
    const [rows, counts] = await Promise.all([
      repo.listNewsroomArticles(db, { status }),
      repo.countArticlesByStatus(db),
    ]);
    const ids = rows.map((row) => row.id);
    const [authors, own] = await Promise.all([
      findAuthorsOfArticles(db, ids),
      hasRole(user.role, 'editor') ? null : repo.ownArticleIds(db, ids, user),
    ]);
    return {
      rows: rows.map((row) => ({
        ...row,
        authors: authors.get(row.id) ?? [],
        editable: editPermission(user, row, own?.has(row.id) ?? true) === null,
      })),
      counts,
    };
  }

  async choices(): Promise<EditorChoices> {
    const { db } = this.#deps;
    const [tags, authors, images, videos] = await Promise.all([
      repo.listAllTags(db),
      repo.listAllAuthors(db),
      repo.listMediaChoices(db, 'image'),
      repo.listMediaChoices(db, 'video'),
    ]);
    return { tags, authors, images, videos };
  }

  /** The user's own author profile (an author with their email), the default byline of a new article. */
  async ownAuthor(user: EditorUser): Promise<AuthorRow | undefined> {
    return repo.findAuthorByEmail(this.#deps.db, user.email_key);
  }

  /** The article for the edit form, or a refusal if this user may not edit it. */
  async open(user: EditorUser, id: number): Promise<EditableArticle & { own: boolean }> {
    const { db } = this.#deps;
    const row = await repo.findArticleById(db, id);
    if (!row) throw new AppError('article.not_found');
    const own = await repo.isOwnArticle(db, id, user);
    const refusal = editPermission(user, row, own);
    if (refusal) throw new AppError(refusal);
    const [tagIds, authorIds] = await Promise.all([repo.tagIdsOf(db, id), repo.authorIdsOf(db, id)]);
    return { row, tagIds, authorIds, own };
  }

  /** Sanitised HTML of a Markdown body, exactly as readers would get it. */
  preview(markdown: string): string {
    return renderMarkdown(markdown);
  }

  /**
   * Creates (id null) or saves an article from the form, then applies `action`. `autosave` records an
   * `autosaved` revision (folded with the previous autosave) and never changes the status.
   */
  async save(
    user: EditorUser,
    id: number | null,
    form: ArticleForm,
    options: { autosave?: boolean } = {},
  ): Promise<SaveResult> {
    const { db } = this.#deps;
    const action: Exclude<EditorAction, 'preview'> =
      options.autosave || form.action === 'preview' ? 'save' : form.action;
    if (action !== 'save' && !canPublish(user)) throw new AppError('article.publish_forbidden');
    if (form.new_tags.length > 0 && !hasRole(user.role, 'editor'))
      throw new ArticleFieldError('article.tag_forbidden', 'new_tags');

    const existing = id === null ? undefined : await repo.findArticleById(db, id);
    if (id !== null && !existing) throw new AppError('article.not_found');
    if (existing) {
      const refusal = editPermission(user, existing, await repo.isOwnArticle(db, existing.id, user));
      if (refusal) throw new AppError(refusal);
      if (options.autosave && existing.status === 'published') throw new AppError('article.autosave_published');
      if (form.revision === null) throw new ArticleFieldError('article.conflict', 'form');
    }
    await this.#checkReferences(form);
    const body = await this.#checkCards(user, form.body, existing);

    const nowDate = this.#deps.now();
    const now = nowDate.toISOString();
    let scheduledAt: string | null = existing?.scheduled_at ?? null;
    const timeZone = await this.#deps.timeZone();
    // "Save" on a scheduled article with a new time moves the schedule (an autosave never does).
    const moved =
      !options.autosave &&
      action === 'save' &&
      existing?.status === 'scheduled' &&
      existing.scheduled_at !== null &&
      form.scheduled_at !== '' &&
      form.scheduled_at !== utcToZoned(existing.scheduled_at, timeZone);
    if (action === 'schedule' || moved) {
      const at = form.scheduled_at === '' ? null : zonedToUtc(form.scheduled_at, timeZone);
      if (at === null)
        throw new ArticleFieldError(
          'article.bad_schedule',
          'scheduled_at',
          'Please give the date and time to publish at.',
        );
      if (Date.parse(at) <= nowDate.getTime()) throw new ArticleFieldError('article.bad_schedule', 'scheduled_at');
      scheduledAt = at;
    } else if (form.scheduled_at !== '' && zonedToUtc(form.scheduled_at, timeZone) === null) {
      throw new ArticleFieldError('article.bad_schedule', 'scheduled_at', 'That date does not exist; please check it.');
    }
    if (action === 'unpublish' && existing?.status !== 'published' && existing?.status !== 'scheduled') {
      throw new ArticleFieldError(
        'article.invalid',
        'form',
        'Only a published or scheduled article can be unpublished.',
      );
    }
    const slug = await this.#chooseSlug(form, existing);

    const before = existing?.status ?? 'draft';
    const status: ArticleStatus =
      action === 'publish'
        ? 'published'
        : action === 'schedule'
          ? 'scheduled'
          : action === 'unpublish'
            ? 'unpublished'
            : before;
    const values = {
      slug,
      title: form.title,
      standfirst: form.standfirst,
      body_markdown: body,
      // Rendered here, once per save, so that readers' pages only fill a template.
      ...renderArticleBody(body),
      status,
      feature_image_id: form.feature_image_id,
      video_id: form.video_id,
      video_caption: form.video_caption || null,
      seo_title: form.seo_title || null,
      seo_description: form.seo_description || null,
      correction_note: form.correction_note || null,
      scheduled_at: status === 'scheduled' ? scheduledAt : null,
      published_at: status === 'published' ? (existing?.published_at ?? now) : (existing?.published_at ?? null),
      updated_at: now,
    };
    const event: RevisionEvent = options.autosave ? 'autosaved' : moved ? 'scheduled' : eventFor[action];
    const by = byline(user);

    const result = await db.transaction().execute(async (trx) => {
      let articleId: number;
      let revision: number;
      if (!existing) {
        const ownAuthor = form.authors.length === 0 ? await repo.findAuthorByEmail(trx, user.email_key) : undefined;
        articleId = await repo.insertArticle(trx, { ...values, created_at: now, created_by_user_id: user.id });
        revision = 1;
        await repo.replaceArticleAuthors(trx, articleId, ownAuthor ? [ownAuthor.id] : form.authors);
      } else {
        articleId = existing.id;
        const next = await repo.updateArticleAtRevision(trx, existing.id, form.revision ?? -1, values);
        if (next === null) throw new ArticleFieldError('article.conflict', 'form');
        revision = next;
        await repo.replaceArticleAuthors(trx, articleId, form.authors);
        if (existing.published_at !== null && existing.slug !== slug)
          await repo.addSlugRedirect(trx, existing.slug, articleId);
        await repo.removeSlugRedirect(trx, slug, articleId);
      }
      await repo.replaceArticleTags(
        trx,
        articleId,
        [...form.tags, ...(await this.#createTags(trx, form.new_tags, now))].filter(unique),
      );
      await this.#recordRevision(trx, articleId, event, by, now);
      // An autosave never changes a published article (refused above), so every event here is a real one.
      const webhookEvent = articleEventFor(before, status);
      if (webhookEvent) await emitArticleEvents(trx, [{ articleId, type: webhookEvent }], nowDate);
      return { id: articleId, revision, slug, status, savedAt: now };
    });

    if (before === 'published' || status === 'published') await this.#deps.contentChanged();
    return result;
  }

  /** Articles that show these media rows or link these stored files (the media library refuses to delete them). */
  async articlesUsingMedia(mediaIds: readonly number[], fileNames: readonly string[]): Promise<repo.MediaUseRow[]> {
    return repo.findArticlesUsingMedia(this.#deps.db, mediaIds, fileNames);
  }

  /**
   * A change to a media row that published or scheduled articles show (a video's captions) is an edit of
   * each of them: refused unless `user` may edit every one, recorded as a `media_changed` revision of each
   * (bumping its revision, so an editor open on it meanwhile gets a conflict), and readers' pages refreshed.
   * `change` runs in the same transaction as the revisions.
   */
  async changeMediaShownInArticles(
    user: EditorUser,
    mediaId: number,
    change: (db: Db) => Promise<void>,
  ): Promise<void> {
    const { db } = this.#deps;
    const shown = (await repo.findArticlesUsingMedia(db, [mediaId], [])).filter(
      (a) => a.status === 'published' || a.status === 'scheduled',
    );
    const own = hasRole(user.role, 'editor')
      ? null
      : await repo.ownArticleIds(
          db,
          shown.map((a) => a.id),
          user,
        );
    const locked = shown.filter((a) => editPermission(user, a, own?.has(a.id) ?? true) !== null);
    if (locked.length > 0)
      throw new AppError(
        'media.article_locked',
        `${locked.map((a) => `“${a.title}” (${a.status})`).join(', ')} ${locked.length === 1 ? 'shows' : 'show'} this file, and you may not edit ${locked.length === 1 ? 'that article' : 'those articles'}. Ask an editor to make this change.`,
      );
    const now = this.#deps.now().toISOString();
    await db.transaction().execute(async (trx) => {
      await change(trx);
      for (const article of shown) {
        if ((await repo.updateArticleAtRevision(trx, article.id, article.revision, { updated_at: now })) === null)
          throw new AppError('article.conflict');
        await this.#recordRevision(trx, article.id, 'media_changed', byline(user), now);
      }
      const published = shown
        .filter((a) => a.status === 'published')
        .map((a) => ({ articleId: a.id, type: 'post.updated' as const }));
      await emitArticleEvents(trx, published, this.#deps.now());
    });
    if (shown.some((a) => a.status === 'published')) await this.#deps.contentChanged();
  }

  async revisions(user: EditorUser, id: number): Promise<{ article: ArticleRow; revisions: RevisionRow[] }> {
    const { row } = await this.open(user, id);
    return { article: row, revisions: await repo.listRevisions(this.#deps.db, id) };
  }

  /** The differences between two revisions of an article, field by field, words marked added or removed. */
  async diff(
    user: EditorUser,
    id: number,
    fromId: number,
    toId: number,
  ): Promise<{ article: ArticleRow; from: RevisionRow; to: RevisionRow; fields: FieldDiff[] }> {
    const { row } = await this.open(user, id);
    const { db } = this.#deps;
    const [from, to] = await Promise.all([repo.findRevision(db, id, fromId), repo.findRevision(db, id, toId)]);
    if (!from || !to) throw new AppError('article.revision_not_found');
    const names = await this.#names();
    const describe = (revision: RevisionRow) => ({
      Title: revision.title,
      Slug: revision.slug ?? '',
      Status: revision.status ?? '',
      Standfirst: revision.standfirst,
      Body: revision.body_markdown,
      Tags: idsOf(revision.tag_ids)
        .map((tagId) => names.tags.get(tagId) ?? `#${tagId}`)
        .join(', '),
      Authors: idsOf(revision.author_ids)
        .map((authorId) => names.authors.get(authorId) ?? `#${authorId}`)
        .join(', '),
      'Video caption': revision.video_caption ?? '',
      'Search title': revision.seo_title ?? '',
      'Search description': revision.seo_description ?? '',
      Correction: revision.correction_note ?? '',
    });
    const a = describe(from);
    const b = describe(to);
    const fields = (Object.keys(a) as (keyof typeof a)[]).map((label) => {
      // Two very different long bodies could take the diff a long time: past the limit, show old and new whole.
      const changes = diffWordsWithSpace(a[label], b[label], { timeout: diffTimeoutMs }) ?? [
        { value: a[label], added: false, removed: true },
        { value: b[label], added: true, removed: false },
      ];
      const parts = changes
        .filter((change) => change.value !== '')
        .map((change) => ({ value: change.value, added: change.added, removed: change.removed }));
      return { label, changed: parts.some((p) => p.added || p.removed), parts };
    });
    return { article: row, from, to, fields };
  }

  /**
   * Brings back a revision's text, media, tags and bylines as a new save (recorded as `restored`); the slug
   * and status stay as they are now, so restoring never moves or (un)publishes an article.
   */
  async restore(user: EditorUser, id: number, revisionId: number): Promise<SaveResult> {
    const { db } = this.#deps;
    const { row } = await this.open(user, id);
    const revision = await repo.findRevision(db, id, revisionId);
    if (!revision) throw new AppError('article.revision_not_found');
    const now = this.#deps.now().toISOString();
    // Revisions from before the editor (revision 0) recorded only the text.
    const full = revision.revision > 0;
    const [tags, authors] = await Promise.all([
      repo.existingIds(db, 'tags', idsOf(revision.tag_ids)),
      repo.existingIds(db, 'authors', idsOf(revision.author_ids)),
    ]);
    const media = async (mediaId: number | null, kind: 'image' | 'video') =>
      mediaId !== null && (await repo.mediaIdIsKind(db, mediaId, kind)) ? mediaId : null;
    const values = {
      title: revision.title,
      standfirst: revision.standfirst,
      body_markdown: revision.body_markdown,
      ...renderArticleBody(revision.body_markdown),
      updated_at: now,
      ...(full
        ? {
            seo_title: revision.seo_title,
            seo_description: revision.seo_description,
            correction_note: revision.correction_note,
            video_caption: revision.video_caption,
            feature_image_id: await media(revision.feature_image_id, 'image'),
            video_id: await media(revision.video_id, 'video'),
          }
        : {}),
    };
    const next = await db.transaction().execute(async (trx) => {
      const bumped = await repo.updateArticleAtRevision(trx, id, row.revision, values);
      if (bumped === null) throw new AppError('article.conflict');
      if (full) {
        await repo.replaceArticleTags(
          trx,
          id,
          idsOf(revision.tag_ids).filter((t) => tags.has(t)),
        );
        await repo.replaceArticleAuthors(
          trx,
          id,
          idsOf(revision.author_ids).filter((a) => authors.has(a)),
        );
      }
      await this.#recordRevision(trx, id, 'restored', byline(user), now);
      if (row.status === 'published')
        await emitArticleEvents(trx, [{ articleId: id, type: 'post.updated' }], this.#deps.now());
      return bumped;
    });
    if (row.status === 'published') await this.#deps.contentChanged();
    return { id, revision: next, slug: row.slug, status: row.status, savedAt: now };
  }

  async #names(): Promise<{ tags: Map<number, string>; authors: Map<number, string> }> {
    const [tags, authors] = await Promise.all([repo.listAllTags(this.#deps.db), repo.listAllAuthors(this.#deps.db)]);
    return { tags: new Map(tags.map((t) => [t.id, t.name])), authors: new Map(authors.map((a) => [a.id, a.name])) };
  }

  /** The body with its cards checked and their media filled in (articles.cards.ts); a refusal names the problem. */
  async #checkCards(user: EditorUser, body: string, existing: ArticleRow | undefined): Promise<string> {
    try {
      return await checkCards(body, {
        db: this.#deps.db,
        mayUseHtml: hasRole(user.role, 'editor'),
        previousBody: existing?.body_markdown ?? '',
        locale: (await this.#deps.locale?.()) ?? 'en',
      });
    } catch (error) {
      if (error instanceof CardProblem) throw new ArticleFieldError(error.code, 'body', error.message);
      throw error;
    }
  }

  async #checkReferences(form: ArticleForm): Promise<void> {
    const { db } = this.#deps;
    const [tags, authors] = await Promise.all([
      repo.existingIds(db, 'tags', form.tags),
      repo.existingIds(db, 'authors', form.authors),
    ]);
    if (form.tags.some((id) => !tags.has(id)))
      throw new ArticleFieldError('article.unknown_reference', 'tags', 'A chosen tag does not exist (any more).');
    if (form.authors.some((id) => !authors.has(id)))
      throw new ArticleFieldError('article.unknown_reference', 'authors', 'A chosen author does not exist (any more).');
    if (form.feature_image_id !== null && !(await repo.mediaIdIsKind(db, form.feature_image_id, 'image'))) {
      throw new ArticleFieldError(
        'article.unknown_reference',
        'feature_image_id',
        'That image is not in the media library.',
      );
    }
    if (form.video_id !== null && !(await repo.mediaIdIsKind(db, form.video_id, 'video'))) {
      throw new ArticleFieldError('article.unknown_reference', 'video_id', 'That video is not in the media library.');
    }
  }

  /**
   * A slug the user typed must be free (not another article's, now or as an old slug). With none typed, a
   * new article's slug is made from its title, numbered (`-2`, `-3`…) if taken; an existing one keeps its own.
   */
  async #chooseSlug(form: ArticleForm, existing: ArticleRow | undefined): Promise<string> {
    const { db } = this.#deps;
    if (form.slug !== '') {
      if ((await repo.findSlugOwner(db, form.slug, existing?.id ?? null)) !== undefined)
        throw new ArticleFieldError('article.slug_taken', 'slug');
      return form.slug;
    }
    // Once readers may have seen the article, its address changes only when someone types a new slug.
    if (existing && existing.published_at !== null) return existing.slug;
    // Until then the slug follows the title (autosave sends an empty slug while the field is untouched).
    const base = slugify(form.title) || 'article';
    const taken = await repo.slugsStartingWith(db, base);
    if (existing) taken.delete(existing.slug);
    let candidate = base;
    for (let n = 2; taken.has(candidate); n++) candidate = `${base}-${n}`;
    return candidate;
  }

  async #createTags(db: Db, names: readonly string[], now: string): Promise<number[]> {
    const ids: number[] = [];
    for (const name of names) {
      const slug = slugify(name);
      if (slug === '')
        throw new ArticleFieldError(
          'article.invalid',
          'new_tags',
          `“${name}” cannot be a tag name: use letters or digits.`,
        );
      ids.push(
        (await repo.findTagIdBySlugOrName(db, slug, name)) ??
          (await repo.insertTag(db, { slug, name, created_at: now })),
      );
    }
    return ids;
  }

  async #recordRevision(db: Db, articleId: number, event: RevisionEvent, by: string, now: string): Promise<void> {
    const snapshot = await repo.snapshotOf(db, articleId, event, by, now);
    const last = event === 'autosaved' ? await repo.latestRevision(db, articleId) : undefined;
    if (
      last &&
      last.event === 'autosaved' &&
      last.created_by === by &&
      Date.parse(now) - Date.parse(last.created_at) < autosaveFoldMs
    ) {
      await repo.replaceRevision(db, last.id, snapshot);
      return;
    }
    await repo.insertRevision(db, snapshot);
  }
}

function unique<T>(value: T, index: number, all: readonly T[]): boolean {
  return all.indexOf(value) === index;
}

function idsOf(json: string | null): number[] {
  if (!json) return [];
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.filter((id): id is number => Number.isInteger(id)) : [];
  } catch {
    return [];
  }
}
