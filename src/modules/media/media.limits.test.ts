import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { signInAs, type NewsroomClient } from '../../../test/helpers/newsroom.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { bilevelPng } from './media.fixtures.ts';
import { multipart } from '../../../test/helpers/multipart.ts';
import { eventually } from '../../../test/helpers/eventually.ts';
import { scratchDirectory } from '../../scratch.ts';
import { mediaDirectory } from './media.storage.ts';

describe('image size limits', () => {
  let site: TestSite;
  let contributor: NewsroomClient;
  let editor: NewsroomClient;

  before(async () => {
    site = await createTestSite({
      seed: false,
      env: { MEDIA_MAX_IMAGE_PIXELS: String(20_000_000), MEDIA_IMAGE_JOBS_PER_USER: '1' },
    });
    contributor = await signInAs(site, 'contributor');
    editor = await signInAs(site, 'editor');
  });
  after(() => site.close());

  const upload = (client: NewsroomClient, filename: string, content: Buffer) => {
    const body = multipart({ _csrf: client.csrf, alt: 'Blank' }, { filename, content });
    return client.request({
      method: 'POST',
      url: '/newsroom/media',
      payload: body.payload,
      headers: { 'content-type': body.contentType },
    });
  };
  const mediaRows = async () => site.db.selectFrom('media').select(['id', 'original_name']).execute();
  const workDirs = async () =>
    (await readdir(scratchDirectory(site.config.dataDir)).catch(() => [] as string[])).filter((f) =>
      f.startsWith('image-'),
    );

  it('refuses an image over the pixel limit with 413 from its header, quickly, storing nothing', async () => {
    const png = bilevelPng(9000, 9000); // 81 megapixels, under sharp's own 100-megapixel ceiling
    assert.ok(png.byteLength < 64 * 1024, `a small file: ${png.byteLength} bytes`);
    const started = Date.now();
    const res = await upload(contributor, 'huge.png', png);
    const elapsed = Date.now() - started;
    assert.equal(res.statusCode, 413, res.body);
    assert.match(res.body, /This image is 9000 × 9000 pixels \(81 megapixels\): images may be at most 20 megapixels/);
    assert.ok(elapsed < 3_000, `answered in ${elapsed} ms, without decoding`);
    assert.deepEqual(await mediaRows(), []);
    assert.deepEqual(await readdir(mediaDirectory(site.config.dataDir)).catch(() => []), []);
    assert.deepEqual(
      await readdir(scratchDirectory(site.config.dataDir)).catch(() => []),
      [],
      'no temporary file left',
    );
  });

  it("refuses a user's second image while their first is processed (429), not another user's, and takes it afterwards", async () => {
    // 16 megapixels: under the limit, and seconds of sharp work (re-encoding and three sizes).
    const first = upload(contributor, 'first.png', bilevelPng(4000, 4000));
    await eventually(async () => (await workDirs()).length > 0, 'the first upload to be in sharp', 10_000);
    const second = await upload(contributor, 'second.png', bilevelPng(64, 64));
    assert.equal(second.statusCode, 429, second.body);
    assert.match(second.body, /still being processed/);
    const otherUser = await upload(editor, 'other.png', bilevelPng(65, 64));
    assert.equal(otherUser.statusCode, 303, otherUser.body);
    assert.equal((await first).statusCode, 303);
    const again = await upload(contributor, 'second.png', bilevelPng(64, 64));
    assert.equal(again.statusCode, 303, again.body);
    assert.deepEqual((await mediaRows()).map((r) => r.original_name).sort(), ['first.png', 'other.png', 'second.png']);
  });
});
