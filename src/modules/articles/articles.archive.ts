import type { Db } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import { findPublishedArticlesByIds, listPublishedIds } from './articles.repository.ts';
import { type ArticlePage, articlesPerPage, hydrateArticles } from './articles.service.ts';

/** A listing of published articles: the whole site (the home page and `/page/N`), or one tag's or author's. */
export interface ArchiveFilter {
  tagId?: number;
  authorId?: number;
}

/**
 * Paging through the archive without OFFSET. `LIMIT 12 OFFSET 24000` makes the database walk past 24,000
 * rows for page 2,001, and every page also needs a COUNT of the whole listing; a crawler walking a big
 * archive pays that on every request. Instead the index keeps, per listing, the ids of its published
 * articles newest first (read once with one index-ordered query, four bytes an article): the count is its
 * length and any page is a primary-key lookup of its twelve ids, so page 2,000 costs what page 2 costs.
 *
 * The lists are derived from content, so they are dropped whenever the cached pages are (`invalidate()`,
 * wired to the page cache by app.ts); between two content changes they cannot go stale. They are bounded
 * by `maxIds` in all, dropping the least recently used listing first.
 */
export class ArchiveIndex {
  readonly #db: Db;
  readonly #maxIds: number;
  /** Listing key → ids, least recently used first. */
  readonly #lists = new Map<string, Int32Array>();
  readonly #pending = new Map<string, Promise<Int32Array>>();
  #ids = 0;
  #generation = 0;

  constructor(db: Db, options: { maxIds?: number } = {}) {
    this.#db = db;
    // Two million ids are 8 MB: a 40,000-article site's every tag and author listing many times over.
    this.#maxIds = options.maxIds ?? 2_000_000;
  }

  /** Drops every listing (content changed). */
  invalidate(): void {
    this.#generation++;
    this.#lists.clear();
    this.#pending.clear();
    this.#ids = 0;
  }

  /** Page `page` (from 1) of a listing, newest first; a page past the end is a 404 (`page.not_found`). */
  async page(filter: ArchiveFilter, page: number, perPage = articlesPerPage): Promise<ArticlePage> {
    const ids = await this.#list(filter);
    const total = ids.length;
    const pageCount = Math.max(1, Math.ceil(total / perPage));
    if (page > pageCount) throw new AppError('page.not_found');
    const pageIds = Array.from(ids.subarray((page - 1) * perPage, page * perPage));
    const rows = new Map((await findPublishedArticlesByIds(this.#db, pageIds)).map((row) => [row.id, row]));
    // In the index's order; an article unpublished since the index was read (a moment ago) is left out.
    const ordered = pageIds.flatMap((id) => rows.get(id) ?? []);
    return { articles: await hydrateArticles(this.#db, ordered), page, pageCount, total };
  }

  async #list(filter: ArchiveFilter): Promise<Int32Array> {
    const key = `${filter.tagId ?? ''}:${filter.authorId ?? ''}`;
    const held = this.#lists.get(key);
    if (held) {
      this.#lists.delete(key);
      this.#lists.set(key, held);
      return held;
    }
    // Concurrent first requests for one listing share one read.
    let pending = this.#pending.get(key);
    if (!pending) {
      const generation = this.#generation;
      pending = listPublishedIds(this.#db, filter)
        .then((ids) => {
          const list = Int32Array.from(ids);
          if (generation === this.#generation) this.#keep(key, list);
          return list;
        })
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  #keep(key: string, list: Int32Array): void {
    if (list.length > this.#maxIds) return;
    this.#lists.set(key, list);
    this.#ids += list.length;
    for (const [oldKey, oldList] of this.#lists) {
      if (this.#ids <= this.#maxIds) break;
      this.#lists.delete(oldKey);
      this.#ids -= oldList.length;
    }
  }
}
