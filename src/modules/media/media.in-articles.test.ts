import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type NewsroomClient, signInAs } from '../../../test/helpers/newsroom.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { demoArticles } from '../seed/demo.content.ts';
import { multipart, type MultipartFile } from '../../../test/helpers/multipart.ts';

/** The seeded lead article: published, with a video that has captions. */
const lead = demoArticles[0]!;

function upload(client: NewsroomClient, fields: Record<string, string>, file: MultipartFile, url = '/newsroom/media') {
  const body = multipart({ _csrf: client.csrf, ...fields }, file);
  return client.request({ method: 'POST', url, payload: body.payload, headers: { 'content-type': body.contentType } });
}

const vtt = (line: string) => Buffer.from(`WEBVTT\n\n00:00.000 --> 00:02.000\n${line}\n`);

describe('media that published articles show', () => {
  let site: TestSite;
  let editor: NewsroomClient;
  let author: NewsroomClient;
  let contributor: NewsroomClient;
  before(async () => {
    site = await createTestSite();
    [editor, author, contributor] = await Promise.all([
      signInAs(site, 'editor'),
      signInAs(site, 'author'),
      signInAs(site, 'contributor'),
    ]);
  });
  after(() => site.close());

  const article = () =>
    site.db.selectFrom('articles').selectAll().where('slug', '=', lead.slug).executeTakeFirstOrThrow();
  const captionsOnLivePage = async () =>
    /<track kind="captions" src="([^"]+)"/.exec((await site.app.inject({ url: `/articles/${lead.slug}` })).body)?.[1];
  const uploadedId = (location: unknown) => Number(/\/newsroom\/media\/(\d+)/.exec(String(location))?.[1]);

  it("changes a published article's video captions only for someone who may edit it, as a revision, live at once", async () => {
    const before = await article();
    const videoId = before.video_id!;
    const seededCaptions = await captionsOnLivePage();
    assert.ok(seededCaptions, 'the lead article shows captions');

    for (const [who, client] of [
      ['contributor', contributor],
      ['author (not theirs)', author],
    ] as const) {
      const refused = await upload(
        client,
        {},
        { filename: 'mine.vtt', content: vtt(`Written by the ${who}.`) },
        `/newsroom/media/${videoId}/captions`,
      );
      assert.equal(refused.statusCode, 403, who);
      assert.match(
        refused.body,
        new RegExp(`“${lead.title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}” \\(published\\) shows this file`),
        who,
      );
      site.pages.invalidate(); // what the database now says, not a cached copy
      assert.equal(await captionsOnLivePage(), seededCaptions, `${who}: readers see the same captions`);
    }
    assert.equal((await article()).revision, before.revision, 'no revision from a refusal');

    const accepted = await upload(
      editor,
      {},
      { filename: 'corrected.vtt', content: vtt('Corrected by the editor.') },
      `/newsroom/media/${videoId}/captions`,
    );
    assert.equal(accepted.statusCode, 303, accepted.body);
    // No manual invalidation: the change itself refreshes the cached page.
    const live = await captionsOnLivePage();
    assert.match(String(live), /^\/media\/corrected\.[0-9a-f]{12}\.vtt$/);
    assert.equal((await site.app.inject({ url: String(live) })).body, vtt('Corrected by the editor.').toString());
    const after = await article();
    assert.equal(after.revision, before.revision + 1);
    const revision = await site.db
      .selectFrom('article_revisions')
      .selectAll()
      .where('article_id', '=', after.id)
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    assert.equal(revision.event, 'media_changed');
    assert.match(String(revision.created_by), /^Test editor/);
    const history = await editor.request({ method: 'GET', url: `/newsroom/articles/${after.id}/revisions` });
    assert.match(history.body, /Media changed/);
  });

  it('refuses to delete media an article shows (feature image, or a link in a draft body) with 409 naming the articles', async () => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    const uploaded = await upload(contributor, { alt: 'Harbour at noon' }, { filename: 'harbour.png', content: png });
    const imageId = uploadedId(uploaded.headers.location);
    const image = await site.db.selectFrom('media').selectAll().where('id', '=', imageId).executeTakeFirstOrThrow();
    // An editor makes the contributor's upload the lead article's feature image, and links it from a draft.
    await site.db.updateTable('articles').set({ feature_image_id: imageId }).where('slug', '=', lead.slug).execute();
    const draft = await site.db
      .insertInto('articles')
      .values({
        slug: 'harbour-draft',
        title: 'Harbour draft',
        standfirst: '',
        body_markdown: `See ![the harbour](/media/${image.file_name}).`,
        status: 'draft',
        feature_image_id: null,
        video_id: null,
        video_caption: null,
        seo_title: null,
        seo_description: null,
        correction_note: null,
        scheduled_at: null,
        published_at: null,
        updated_at: '2026-01-01T00:00:00.000Z',
        created_at: '2026-01-01T00:00:00.000Z',
        created_by_user_id: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await site.contentChanged();
    assert.match(
      (await site.app.inject({ url: `/articles/${lead.slug}` })).body,
      new RegExp(image.file_name.replace(/\./g, '\\.')),
    );

    for (const client of [contributor, editor]) {
      const refused = await client.post(`/newsroom/media/${imageId}/delete`, {});
      assert.equal(refused.statusCode, 409);
      assert.match(
        refused.body,
        /This file is used by “[^”]+” \(published\), “Harbour draft” \(draft\)\. Remove it from those articles first\./,
      );
    }
    assert.ok(
      await site.db.selectFrom('media').select('id').where('id', '=', imageId).executeTakeFirst(),
      'still in the library',
    );
    assert.equal(
      (await site.app.inject({ url: `/media/${image.file_name}` })).statusCode,
      200,
      'its file is still served',
    );

    await site.db.updateTable('articles').set({ feature_image_id: null }).where('slug', '=', lead.slug).execute();
    await site.db.deleteFrom('articles').where('id', '=', draft.id).execute();
    assert.equal(
      (await contributor.post(`/newsroom/media/${imageId}/delete`, {})).statusCode,
      303,
      'unused, its uploader deletes it',
    );
    assert.equal((await site.app.inject({ url: `/media/${image.file_name}` })).statusCode, 404);
  });
});
