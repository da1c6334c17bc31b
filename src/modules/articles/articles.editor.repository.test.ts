import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import type { Db } from '../../db/index.ts';
import * as repo from './articles.editor.repository.ts';
import { newArticleRow } from './articles.fixtures.ts';
import type { NewArticle } from './articles.table.ts';

const at = (minutes: number) => new Date(Date.UTC(2026, 10, 25, 12, minutes)).toISOString();

/** A draft (or whatever `extra` says) inserted straight into the table. */
async function insertDraft(db: Db, slug: string, extra: Partial<NewArticle> = {}): Promise<number> {
  const row = await db
    .insertInto('articles')
    .values(newArticleRow({ slug, title: slug, status: 'draft', ...extra }, at(0)))
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

describeEachDatabase('article editor repository', (dialect) => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase(dialect);
  });
  after(() => t.drop());

  it('writes only at the expected revision, so the second of two saves from one starting point fails', async () => {
    const id = await insertDraft(t.db, 'revision-check');
    assert.equal(await repo.updateArticleAtRevision(t.db, id, 1, { title: 'First tab' }), 2);
    assert.equal(await repo.updateArticleAtRevision(t.db, id, 1, { title: 'Second tab' }), null);
    const row = await repo.findArticleById(t.db, id);
    assert.equal(row?.title, 'First tab');
    assert.equal(row?.revision, 2);
  });

  it('knows which slugs are taken, now or as old slugs, and numbers around them', async () => {
    const a = await insertDraft(t.db, 'ferry_news');
    const b = await insertDraft(t.db, 'ferry-news');
    await repo.addSlugRedirect(t.db, 'ferry-news-2', b);
    assert.equal(await repo.findSlugOwner(t.db, 'ferry-news', null), b);
    assert.equal(
      await repo.findSlugOwner(t.db, 'ferry-news', b),
      undefined,
      'an article does not conflict with itself',
    );
    assert.equal(await repo.findSlugOwner(t.db, 'ferry-news-2', a), b, 'an old slug belongs to its article');
    // `_` is a LIKE wildcard: escaped, "ferry_news" is not taken by "ferry-news".
    assert.deepEqual([...(await repo.slugsStartingWith(t.db, 'ferry-news'))].sort(), ['ferry-news', 'ferry-news-2']);
    assert.deepEqual([...(await repo.slugsStartingWith(t.db, 'ferry_'))], ['ferry_news']);
    await repo.addSlugRedirect(t.db, 'ferry-news-2', a);
    assert.equal(
      await repo.findSlugOwner(t.db, 'ferry-news-2', null),
      a,
      'a redirect moves to the article that last left the slug',
    );
    await repo.removeSlugRedirect(t.db, 'ferry-news-2', a);
    assert.equal(await repo.findSlugOwner(t.db, 'ferry-news-2', null), undefined);
  });

  it('treats an article as the user’s own when they started it or its byline carries their address', async () => {
    const user = await t.db
      .insertInto('users')
      .values({
        email: 'Rina@Example.com',
        email_key: 'rina@example.com',
        role: 'author',
        password_hash: null,
        created_at: at(0),
        disabled_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const other = { id: user.id + 1000, email_key: 'someone@example.com' };
    const started = await insertDraft(t.db, 'started-by-rina', { title: 'x' });
    await t.db.updateTable('articles').set({ created_by_user_id: user.id }).where('id', '=', started).execute();
    const author = await t.db
      .insertInto('authors')
      .values({
        slug: 'rina',
        name: 'Rina',
        bio: '',
        email: 'RINA@example.com',
        avatar_media_id: null,
        created_at: at(0),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const bylined = await insertDraft(t.db, 'bylined-to-rina');
    await repo.replaceArticleAuthors(t.db, bylined, [author.id]);
    const me = { id: user.id, email_key: 'rina@example.com' };
    assert.equal(await repo.isOwnArticle(t.db, started, me), true);
    assert.equal(await repo.isOwnArticle(t.db, bylined, me), true);
    assert.equal(await repo.isOwnArticle(t.db, bylined, other), false);
    assert.equal((await repo.findAuthorByEmail(t.db, 'rina@example.com'))?.id, author.id);
  });

  it('claims a due scheduled article once, keeping an earlier publication time, and records the revision', async () => {
    const id = await insertDraft(t.db, 'due-soon', { status: 'scheduled', scheduled_at: at(30), published_at: at(1) });
    assert.deepEqual(await repo.findDueScheduled(t.db, at(29)), []);
    assert.deepEqual(
      (await repo.findDueScheduled(t.db, at(30))).map((r) => r.id),
      [id],
    );
    const results = await Promise.all([
      repo.claimScheduledPublication(t.db, id, at(31), 'worker one'),
      repo.claimScheduledPublication(t.db, id, at(31), 'worker two'),
    ]);
    assert.deepEqual(results.filter(Boolean), [true]);
    const row = await repo.findArticleById(t.db, id);
    assert.equal(row?.status, 'published');
    assert.equal(row?.published_at, at(1));
    assert.equal(row?.scheduled_at, null);
    const revisions = await repo.listRevisions(t.db, id);
    assert.deepEqual(
      revisions.map((r) => [r.event, r.status, r.revision]),
      [['published', 'published', 2]],
    );
  });
});
