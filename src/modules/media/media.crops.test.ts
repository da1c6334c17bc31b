import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type NewsroomClient, signInAs } from '../../../test/helpers/newsroom.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { makeJpeg } from './media.fixtures.ts';
import { multipart } from '../../../test/helpers/multipart.ts';

const siteUrl = 'http://gazette.test';

describe("an article image's crops for structured data", () => {
  let site: TestSite;
  let editor: NewsroomClient;
  before(async () => {
    site = await createTestSite();
    editor = await signInAs(site, 'editor');
  });
  after(() => site.close());

  /** Uploads a JPEG through the newsroom form and makes it the feature image of a published article without a video. */
  async function featureOf(width: number, height: number, name: string): Promise<{ slug: string; file: string }> {
    const body = multipart(
      { _csrf: editor.csrf, alt: `A ${width} by ${height} photo` },
      { filename: `${name}.jpg`, content: await makeJpeg(width, height), contentType: 'image/jpeg' },
    );
    const res = await editor.request({
      method: 'POST',
      url: '/newsroom/media',
      payload: body.payload,
      headers: { 'content-type': body.contentType },
    });
    assert.equal(res.statusCode, 303, res.body);
    const image = await site.db
      .selectFrom('media')
      .selectAll()
      .where('original_name', '=', `${name}.jpg`)
      .executeTakeFirstOrThrow();
    const article = await site.db
      .selectFrom('articles')
      .select(['id', 'slug'])
      .where('status', '=', 'published')
      .where('video_id', 'is', null)
      .executeTakeFirstOrThrow();
    await site.db.updateTable('articles').set({ feature_image_id: image.id }).where('id', '=', article.id).execute();
    await site.contentChanged();
    return { slug: article.slug, file: image.file_name };
  }

  const newsArticleImages = async (slug: string): Promise<string[]> => {
    const body = (await site.app.inject({ url: `/articles/${slug}` })).body;
    const json = /<script type="application\/ld\+json">(.*?)<\/script>/s.exec(body)?.[1];
    return (JSON.parse(json ?? '{}') as { image?: string[] }).image ?? [];
  };

  it('lists 16:9, 4:3 and 1:1 crops of at least 1,200 px, made at upload, then the whole image', async () => {
    const { slug, file } = await featureOf(2400, 1500, 'wide-harbour');
    const images = await newsArticleImages(slug);
    assert.equal(images.length, 4, images.join(' '));
    assert.equal(images[3], `${siteUrl}/media/${file}`);
    const shapes = [];
    for (const url of images.slice(0, 3)) {
      assert.match(url, /^http:\/\/gazette\.test\/media\/wide-harbour-(16x9|4x3|1x1)\.[0-9a-f]{12}\.jpg$/);
      const served = await site.app.inject({ url: url.slice(siteUrl.length) });
      assert.equal(served.statusCode, 200);
      const { width = 0, height = 0, format } = await sharp(served.rawPayload).metadata();
      assert.equal(format, 'jpeg');
      assert.ok(width >= 1200, `${url} is ${width} px wide`);
      shapes.push(`${width}x${height}`);
    }
    // The largest region of each shape, scaled to at most 1,600 px wide.
    assert.deepEqual(shapes, ['1600x900', '1600x1200', '1500x1500']);
    // The crops are not responsive sizes of the whole image: the page's srcset leaves them out.
    const page = (await site.app.inject({ url: `/articles/${slug}` })).body;
    const srcset = /<img src="\/media\/wide-harbour\.[0-9a-f]{12}\.jpg" srcset="([^"]+)"/.exec(page)?.[1] ?? '';
    assert.match(srcset, / 480w, .* 960w, .* 1600w, .* 2400w$/);
    assert.doesNotMatch(srcset, /16x9|4x3|1x1/);
  });

  it('makes no crop narrower than 1,200 px: a smaller image is listed whole', async () => {
    const { slug, file } = await featureOf(1300, 1000, 'small-harbour');
    // 16:9 and 4:3 regions are 1,300 px wide; a square one would be 1,000 px, so there is none.
    const images = await newsArticleImages(slug);
    assert.deepEqual(
      images.map((url) => /small-harbour(?:-(\w+))?\./.exec(url)?.[1] ?? 'whole'),
      ['16x9', '4x3', 'whole'],
    );
    assert.equal(images.at(-1), `${siteUrl}/media/${file}`);
  });
});
