import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HtmlValidate } from 'html-validate';
import sharp from 'sharp';
import { clientFor, type NewsroomClient, signInAs } from '../../../test/helpers/newsroom.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { mountTmpfs } from '../../../test/helpers/tmpfs.ts';
import { scratchDirectory } from '../../scratch.ts';
import { createClipWorker } from './media.clips.ts';
import { makeJpeg, makeVideo, probeDuration } from './media.fixtures.ts';
import { multipart, type MultipartFile } from '../../../test/helpers/multipart.ts';
import { MediaNewsroomService } from './media.newsroom.service.ts';
import { FileSystemMediaStorage, mediaDirectory } from './media.storage.ts';

/** Uploads through the no-JS form path: multipart with `_csrf` as a field. */
function upload(client: NewsroomClient, fields: Record<string, string>, file?: MultipartFile, url = '/newsroom/media') {
  const body = multipart({ _csrf: client.csrf, ...fields }, file);
  return client.request({ method: 'POST', url, payload: body.payload, headers: { 'content-type': body.contentType } });
}

async function mediaCount(site: TestSite): Promise<number> {
  return Number(
    (
      await site.db
        .selectFrom('media')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
}

async function storedFiles(site: TestSite): Promise<string[]> {
  return (await readdir(mediaDirectory(site.config.dataDir)).catch(() => [] as string[])).sort();
}

/** Nothing left behind in DATA_DIR/tmp once a request is answered. */
async function tmpFiles(site: TestSite): Promise<string[]> {
  return readdir(scratchDirectory(site.config.dataDir)).catch(() => [] as string[]);
}

describe('newsroom media over HTTP', () => {
  let site: TestSite;
  let editor: NewsroomClient;
  let contributor: NewsroomClient;
  let work: string;
  let video: Buffer;

  before(async () => {
    site = await createTestSite({
      env: { MEDIA_MAX_IMAGE_BYTES: String(400 * 1024), MEDIA_MAX_VIDEO_BYTES: String(2 * 1024 * 1024) },
    });
    editor = await signInAs(site, 'editor');
    contributor = await signInAs(site, 'contributor');
    work = await mkdtemp(path.join(tmpdir(), 'gazette-media-test-'));
    video = await readFile(await makeVideo(work, 4));
  });
  after(async () => {
    await site.close();
    await rm(work, { recursive: true, force: true });
  });

  it('stores an image with alt text, its responsive sizes in WebP and JPEG, each served, and srcset on its page', async () => {
    const jpeg = await makeJpeg(2000, 1200);
    const res = await upload(
      contributor,
      { alt: 'Harbour cranes at dusk' },
      { filename: 'Harbour Cranes.JPG', content: jpeg, contentType: 'image/jpeg' },
    );
    assert.equal(res.statusCode, 303, res.body);
    const page = await contributor.request({ method: 'GET', url: String(res.headers.location) });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Harbour cranes at dusk/);
    const row = await site.db
      .selectFrom('media')
      .selectAll()
      .where('original_name', '=', 'Harbour Cranes.JPG')
      .executeTakeFirstOrThrow();
    assert.equal(row.kind, 'image');
    assert.equal(row.mime_type, 'image/jpeg');
    assert.deepEqual([row.width, row.height], [2000, 1200]);
    assert.match(row.file_name, /^harbour-cranes\.[0-9a-f]{12}\.jpg$/);
    // The sizes of the whole image (its crops for structured data: media.crops.test.ts).
    const variants = await site.db
      .selectFrom('media_variants')
      .selectAll()
      .where('media_id', '=', row.id)
      .where('crop', 'is', null)
      .orderBy('width')
      .execute();
    assert.deepEqual(variants.map((v) => `${v.width}:${v.mime_type}`).sort(), [
      '1600:image/jpeg',
      '1600:image/webp',
      '480:image/jpeg',
      '480:image/webp',
      '960:image/jpeg',
      '960:image/webp',
    ]);
    for (const v of variants) {
      const served = await site.app.inject({ url: `/media/${v.file_name}` });
      assert.equal(served.statusCode, 200, v.file_name);
      assert.equal(served.headers['content-type'], v.mime_type);
      const meta = await sharp(served.rawPayload).metadata();
      assert.equal(meta.width, v.width);
      assert.equal(meta.height, Math.round((1200 * v.width) / 2000));
    }
    assert.match(
      page.body,
      /srcset="\/media\/harbour-cranes-480\.[0-9a-f]{12}\.webp 480w, .*960w, .*1600w, \/media\/harbour-cranes\.[0-9a-f]{12}\.jpg 2000w"/,
    );
    const library = await contributor.request({ method: 'GET', url: '/newsroom/media' });
    assert.match(library.body, /Harbour Cranes\.JPG/);
    assert.match(library.body, /2000 × 1200/);
    assert.deepEqual(await tmpFiles(site), []);
  });

  it('strips EXIF (GPS position, camera owner) from the stored original, upright', async () => {
    // A phone photo: stored sideways with an orientation tag, carrying where it was taken and whose camera it is.
    const photo = await sharp(await makeJpeg(800, 600))
      .withMetadata({ orientation: 6 })
      .withExifMerge({ IFD0: { Artist: 'Confidential Source' }, IFD3: { GPSLatitudeRef: 'N', GPSLongitudeRef: 'E' } })
      .jpeg()
      .toBuffer();
    assert.ok(
      (await sharp(photo).metadata()).exif && photo.includes('Confidential Source'),
      'the fixture carries EXIF',
    );
    const res = await upload(
      contributor,
      { alt: 'A street at noon' },
      { filename: 'IMG_0042.jpg', content: photo, contentType: 'image/jpeg' },
    );
    assert.equal(res.statusCode, 303, res.body);
    const row = await site.db
      .selectFrom('media')
      .selectAll()
      .where('original_name', '=', 'IMG_0042.jpg')
      .executeTakeFirstOrThrow();
    const served = await site.app.inject({ url: `/media/${row.file_name}` });
    assert.equal(served.statusCode, 200);
    const meta = await sharp(served.rawPayload).metadata();
    assert.equal(meta.exif, undefined, 'no EXIF block in the published original');
    assert.ok(!served.rawPayload.includes('Confidential Source'));
    assert.deepEqual(
      [meta.width, meta.height, row.width, row.height],
      [600, 800, 600, 800],
      'turned upright, as displayed',
    );
    assert.equal(row.byte_size, served.rawPayload.byteLength);
  });

  it("gives an article's feature image a srcset of its sizes on the public site", async () => {
    const image = await site.db
      .selectFrom('media')
      .selectAll()
      .where('original_name', '=', 'Harbour Cranes.JPG')
      .executeTakeFirstOrThrow();
    const article = await site.db
      .selectFrom('articles')
      .select(['id', 'slug'])
      .where('status', '=', 'published')
      .where('video_id', 'is', null)
      .executeTakeFirstOrThrow();
    await site.db.updateTable('articles').set({ feature_image_id: image.id }).where('id', '=', article.id).execute();
    site.pages.invalidate();
    const page = await site.app.inject({ url: `/articles/${article.slug}` });
    assert.equal(page.statusCode, 200);
    const img = /<img src="\/media\/harbour-cranes\.[0-9a-f]{12}\.jpg"[^>]*>/.exec(page.body)?.[0] ?? '';
    assert.match(
      img,
      /srcset="\/media\/harbour-cranes-480\.[0-9a-f]{12}\.webp 480w, [^"]+ 960w, [^"]+ 1600w, [^"]+ 2000w"/,
    );
    assert.match(img, /sizes="[^"]+"/);
    assert.match(img, /alt="Harbour cranes at dusk"/);
    const home = await site.app.inject({ url: '/' });
    assert.match(home.body, /<img src="\/media\/harbour-cranes\.[0-9a-f]{12}\.jpg" srcset="[^"]+ 480w/);
  });

  it('refuses an image without alt text with the form and a message, storing nothing', async () => {
    const before = [await mediaCount(site), await storedFiles(site)] as const;
    const res = await upload(
      contributor,
      { alt: '   ' },
      {
        filename: 'x.png',
        content: await sharp({ create: { width: 40, height: 30, channels: 3, background: '#f00' } })
          .png()
          .toBuffer(),
      },
    );
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /Please describe the image in the alt text/);
    assert.match(res.body, /<form[^>]+data-media-upload/);
    assert.equal(await mediaCount(site), before[0]);
    assert.deepEqual(await storedFiles(site), before[1]);
    assert.deepEqual(await tmpFiles(site), []);
  });

  it('accepts a decorative image without alt text, stored with empty alt', async () => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#0a0' } })
      .png()
      .toBuffer();
    const res = await upload(contributor, { decorative: 'on' }, { filename: 'rule.png', content: png });
    assert.equal(res.statusCode, 303);
    const row = await site.db
      .selectFrom('media')
      .selectAll()
      .where('original_name', '=', 'rule.png')
      .executeTakeFirstOrThrow();
    assert.equal(row.alt_text, '');
  });

  it('answers a script (XHR) upload with JSON, the CSRF token in the header', async () => {
    const body = multipart(
      { alt: 'A green square' },
      {
        filename: 'square.webp',
        content: await sharp({ create: { width: 64, height: 64, channels: 3, background: '#0f0' } })
          .webp()
          .toBuffer(),
      },
    );
    const res = await contributor.request({
      method: 'POST',
      url: '/newsroom/media',
      payload: body.payload,
      headers: { 'content-type': body.contentType, 'x-csrf-token': contributor.csrf, accept: 'application/json' },
    });
    assert.equal(res.statusCode, 201, res.body);
    const json = res.json<{ id: number; page: string; url: string }>();
    assert.match(json.url, /^\/media\/square\.[0-9a-f]{12}\.webp$/);
    assert.equal((await site.app.inject({ url: json.url })).statusCode, 200);
  });

  let videoId = 0;
  it('stores a video with its duration, size and a poster frame (an image row, served)', async () => {
    const res = await upload(
      contributor,
      { alt: 'Test pattern' },
      { filename: 'meeting.mp4', content: video, contentType: 'video/mp4' },
    );
    assert.equal(res.statusCode, 303, res.body);
    videoId = Number(/\/newsroom\/media\/(\d+)/.exec(String(res.headers.location))?.[1]);
    const row = await site.db.selectFrom('media').selectAll().where('id', '=', videoId).executeTakeFirstOrThrow();
    assert.equal(row.kind, 'video');
    assert.equal(row.mime_type, 'video/mp4');
    assert.ok(Math.abs((row.duration_seconds ?? 0) - 4) < 0.2, `duration ${row.duration_seconds}`);
    assert.deepEqual([row.width, row.height], [160, 120]);
    assert.ok(row.poster_media_id);
    const poster = await site.db
      .selectFrom('media')
      .selectAll()
      .where('id', '=', row.poster_media_id)
      .executeTakeFirstOrThrow();
    assert.equal(poster.kind, 'image');
    const served = await site.app.inject({ url: `/media/${poster.file_name}` });
    assert.equal(served.statusCode, 200);
    assert.equal((await sharp(served.rawPayload).metadata()).width, 160);
    const page = await contributor.request({ method: 'GET', url: `/newsroom/media/${videoId}` });
    assert.match(page.body, new RegExp(`poster="/media/${poster.file_name.replaceAll('.', '\\.')}"`));
    assert.match(page.body, /0:04/);
    const library = await contributor.request({ method: 'GET', url: '/newsroom/media' });
    assert.match(library.body, /meeting\.mp4/);
    assert.match(library.body, /▶ 0:04/);
  });

  it('cuts a snippet: the job is queued, the worker runs it once to 100%, and the clip is a new video of the asked length', async () => {
    const res = await contributor.post(`/newsroom/media/${videoId}/clips`, { start: '1', end: '0:03.5' });
    assert.equal(res.statusCode, 303, res.body);
    const jobId = Number(/clip=(\d+)/.exec(String(res.headers.location))?.[1]);
    const queued = await contributor.request({
      method: 'GET',
      url: `/newsroom/media/clips/${jobId}`,
      headers: { accept: 'application/json' },
    });
    assert.equal(queued.json<{ status: string }>().status, 'queued');

    const storage = new FileSystemMediaStorage(site.config.dataDir);
    const tmp = path.join(site.config.dataDir, 'tmp');
    const progress: number[] = [];
    const worker = createClipWorker({
      db: site.db,
      storage,
      tmpDir: tmp,
      media: new MediaNewsroomService({ db: site.db, storage, tmpDir: tmp, now: () => new Date() }),
      options: { heartbeatMs: 50 },
    });
    const watcher = setInterval(() => {
      void site.db
        .selectFrom('video_clip_jobs')
        .select('progress')
        .where('id', '=', jobId)
        .executeTakeFirst()
        .then((r) => r && progress.push(r.progress));
    }, 20);
    assert.equal(await worker.runOnce(), 'done');
    clearInterval(watcher);
    assert.equal(await worker.runOnce(), 'idle', 'a finished job is not taken again');

    const done = (await contributor.request({ method: 'GET', url: `/newsroom/media/clips/${jobId}` })).json<{
      status: string;
      progress: number;
      result: { id: number; page: string };
    }>();
    assert.equal(done.status, 'done');
    assert.equal(done.progress, 100);
    const clip = await site.db
      .selectFrom('media')
      .selectAll()
      .where('id', '=', done.result.id)
      .executeTakeFirstOrThrow();
    assert.equal(clip.kind, 'video');
    assert.equal(clip.mime_type, 'video/mp4');
    assert.ok(clip.poster_media_id, 'the clip has its own poster');
    assert.match(clip.original_name, /^meeting-snippet-/);
    const job = await site.db
      .selectFrom('video_clip_jobs')
      .selectAll()
      .where('id', '=', jobId)
      .executeTakeFirstOrThrow();
    assert.equal(job.source_media_id, videoId);
    assert.equal(job.result_media_id, clip.id);
    const local = path.join(work, 'clip.mp4');
    await storage.download(clip.file_name, local);
    const seconds = await probeDuration(local);
    assert.ok(Math.abs(seconds - 2.5) < 0.2, `clip lasts ${seconds} s`);
    const bytes = await readFile(local);
    assert.equal(bytes.subarray(4, 8).toString('latin1'), 'ftyp');
    assert.ok(bytes.subarray(0, 4096).includes(Buffer.from('moov')), '+faststart: the index comes first');
    const page = await contributor.request({ method: 'GET', url: `/newsroom/media/${videoId}` });
    assert.match(page.body, new RegExp(`href="/newsroom/media/${clip.id}">Open the snippet`));
    assert.ok(
      progress.every((p, i) => i === 0 || p >= (progress[i - 1] ?? 0)),
      `progress never goes back: ${progress.join(',')}`,
    );
  });

  it('takes over a snippet job whose worker died (stale heartbeat), and records a failure the page shows', async () => {
    const storage = new FileSystemMediaStorage(site.config.dataDir);
    const tmp = path.join(site.config.dataDir, 'tmp');
    const worker = createClipWorker({
      db: site.db,
      storage,
      tmpDir: tmp,
      media: new MediaNewsroomService({ db: site.db, storage, tmpDir: tmp, now: () => new Date() }),
      options: { leaseMs: 5_000 },
    });
    const res = await contributor.post(`/newsroom/media/${videoId}/clips`, { start: '0', end: '1' });
    const jobId = Number(/clip=(\d+)/.exec(String(res.headers.location))?.[1]);
    // A worker claimed it, wrote 30%, and died a minute ago.
    const stale = new Date(Date.now() - 60_000).toISOString();
    await site.db
      .updateTable('video_clip_jobs')
      .set({ status: 'running', claimed_by: 'gone-host:1:dead', heartbeat_at: stale, attempts: 1, progress: 30 })
      .where('id', '=', jobId)
      .execute();
    assert.equal(await worker.runOnce(), 'done');
    const job = await site.db
      .selectFrom('video_clip_jobs')
      .selectAll()
      .where('id', '=', jobId)
      .executeTakeFirstOrThrow();
    assert.equal(job.status, 'done');
    assert.equal(job.attempts, 2);
    assert.equal(job.claimed_by, worker.id);

    // A source whose file vanished from storage: the job fails with a message, not a path.
    const source = await site.db.selectFrom('media').selectAll().where('id', '=', videoId).executeTakeFirstOrThrow();
    const missing = await site.db
      .insertInto('media')
      .values({
        ...source,
        id: undefined,
        file_name: 'vanished.0123456789ab.mp4',
        poster_media_id: null,
        captions_media_id: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const failing = await contributor.post(`/newsroom/media/${missing.id}/clips`, { start: '0', end: '1' });
    assert.equal(failing.statusCode, 303);
    assert.equal(await worker.runOnce(), 'failed');
    const page = await contributor.request({ method: 'GET', url: `/newsroom/media/${missing.id}` });
    assert.match(page.body, /Failed: The source video could not be read from storage\./);
    assert.doesNotMatch(page.body, new RegExp(site.config.dataDir.replaceAll('/', '\\/')));
    await site.db.deleteFrom('media').where('id', '=', missing.id).execute();
  });

  for (const [start, end, message] of [
    ['3', '2', /end time must be after the start/],
    ['2', '2', /end time must be after the start/],
    ['1', '9', /within the video, which is 4\.0 seconds long/],
    ['-1', '2', /Please give a start and an end time/],
    ['abc', '2', /Please give a start and an end time/],
  ] as const) {
    it(`refuses snippet times ${start}–${end} with 400 and a message`, async () => {
      const res = await contributor.post(`/newsroom/media/${videoId}/clips`, { start, end });
      assert.equal(res.statusCode, 400);
      assert.match(res.body, message);
    });
  }

  it('refuses a snippet longer than 10 minutes', async () => {
    await site.db.updateTable('media').set({ duration_seconds: 3600 }).where('id', '=', videoId).execute();
    try {
      const res = await contributor.post(`/newsroom/media/${videoId}/clips`, { start: '0', end: '10:01' });
      assert.equal(res.statusCode, 400);
      assert.match(res.body, /at most 10 minutes/);
    } finally {
      await site.db.updateTable('media').set({ duration_seconds: 4 }).where('id', '=', videoId).execute();
    }
  });

  it('attaches WebVTT captions to a video, and refuses a caption file that is not WebVTT', async () => {
    const vtt = 'WEBVTT\n\n00:00.000 --> 00:02.000\nHello.\n\n00:02.000 --> 00:04.000\nGoodbye.\n';
    const ok = await upload(
      contributor,
      {},
      { filename: 'captions.vtt', content: Buffer.from(vtt) },
      `/newsroom/media/${videoId}/captions`,
    );
    assert.equal(ok.statusCode, 303, ok.body);
    const row = await site.db.selectFrom('media').selectAll().where('id', '=', videoId).executeTakeFirstOrThrow();
    const captions = await site.db
      .selectFrom('media')
      .selectAll()
      .where('id', '=', row.captions_media_id)
      .executeTakeFirstOrThrow();
    assert.equal(captions.kind, 'captions');
    const served = await site.app.inject({ url: `/media/${captions.file_name}` });
    assert.match(String(served.headers['content-type']), /^text\/vtt/);
    assert.equal(served.body, vtt);
    const page = await contributor.request({ method: 'GET', url: `/newsroom/media/${videoId}` });
    assert.match(page.body, /<track kind="captions"/);

    for (const bad of ['Hello, not captions', 'WEBVTT\n\n1:2 --> 3\nbad timing\n']) {
      const res = await upload(
        contributor,
        {},
        { filename: 'bad.vtt', content: Buffer.from(bad) },
        `/newsroom/media/${videoId}/captions`,
      );
      assert.equal(res.statusCode === 400 || res.statusCode === 415, true, `${res.statusCode}`);
      assert.match(res.body, /WebVTT|WEBVTT/);
    }
  });

  it('renders the library, an image page and a video page as valid, accessible HTML', async () => {
    const validator = new HtmlValidate({
      extends: ['html-validate:standard', 'html-validate:a11y', 'html-validate:document'],
      rules: { 'no-inline-style': 'error' },
    });
    const image = await site.db
      .selectFrom('media')
      .select('id')
      .where('original_name', '=', 'Harbour Cranes.JPG')
      .executeTakeFirstOrThrow();
    for (const url of ['/newsroom/media', `/newsroom/media/${image.id}`, `/newsroom/media/${videoId}`]) {
      const res = await contributor.request({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      const report = await validator.validateString(res.body);
      const errors = report.results.flatMap((r) =>
        r.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId} (line ${m.line}): ${m.message}`),
      );
      assert.deepEqual(errors, [], url);
    }
  });

  describe('bad input', () => {
    it('refuses an oversized image with 413 and a clear message, storing nothing', async () => {
      const before = [await mediaCount(site), await storedFiles(site)] as const;
      const big = await makeJpeg(1200, 900, { noise: true }); // well over the 400 KB test limit
      assert.ok(big.byteLength > 400 * 1024);
      const res = await upload(contributor, { alt: 'Too big' }, { filename: 'big.jpg', content: big });
      assert.equal(res.statusCode, 413);
      assert.match(res.body, /too large: images may be at most 400 KB/);
      assert.equal(res.headers.connection, 'close', 'the rest of the body is not read');
      assert.equal(await mediaCount(site), before[0]);
      assert.deepEqual(await storedFiles(site), before[1]);
      assert.deepEqual(await tmpFiles(site), []);
    });

    it('refuses a request whose Content-Length exceeds every limit before reading it', async () => {
      const res = await contributor.request({
        method: 'POST',
        url: '/newsroom/media',
        payload: 'x',
        headers: {
          'content-type': 'multipart/form-data; boundary=x',
          'content-length': String(50 * 1024 * 1024),
          'x-csrf-token': contributor.csrf,
        },
      });
      assert.equal(res.statusCode, 413);
      assert.match(res.body, /larger than the largest upload/);
    });

    it('refuses an .mp4 that is really HTML with 415 and says why', async () => {
      const before = await mediaCount(site);
      const res = await upload(
        contributor,
        { alt: 'x' },
        {
          filename: 'clip.mp4',
          content: Buffer.from('<!doctype html><html><script>alert(1)</script></html>'),
          contentType: 'video/mp4',
        },
      );
      assert.equal(res.statusCode, 415);
      assert.match(res.body, /not an image, video or caption file we accept/);
      assert.match(res.body, /read from the file itself, not its name/);
      assert.equal(await mediaCount(site), before);
    });

    it('refuses an SVG carrying a script (even named .png), explaining why', async () => {
      const svg =
        '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script></svg>';
      for (const filename of ['logo.svg', 'logo.png']) {
        const res = await upload(
          contributor,
          { alt: 'Logo' },
          { filename, content: Buffer.from(svg), contentType: 'image/png' },
        );
        assert.equal(res.statusCode, 415);
        assert.match(res.body, /SVG files are not accepted: they can carry scripts/);
      }
    });

    it('refuses a file whose bytes say image but will not decode', async () => {
      const broken = Buffer.concat([(await makeJpeg(64, 64)).subarray(0, 200), Buffer.alloc(200)]);
      const res = await upload(contributor, { alt: 'Broken' }, { filename: 'broken.jpg', content: broken });
      assert.equal(res.statusCode, 415);
      assert.match(res.body, /could not be read/);
    });

    for (const filename of [
      '../../etc/passwd.jpg',
      'C:\\x\\y.png',
      '/tmp/evil/../../abs.png',
      '..',
      '.hidden.png',
      '%2e%2e%2fx.png',
    ]) {
      it(`stores ${JSON.stringify(filename)} under a safe name, writing nothing outside DATA_DIR/media`, async () => {
        const png = await sharp({
          create: { width: 20 + filename.length, height: 10, channels: 3, background: '#123456' },
        })
          .png()
          .toBuffer();
        const res = await upload(contributor, { alt: 'Path test' }, { filename, content: png });
        assert.equal(res.statusCode, 303, res.body);
        const id = Number(/\/newsroom\/media\/(\d+)/.exec(String(res.headers.location))?.[1]);
        const row = await site.db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        assert.match(row.file_name, /^[a-z0-9-]+\.[0-9a-f]{12}\.png$/);
        assert.ok((await storedFiles(site)).includes(row.file_name));
        // Wherever the name would lead if it were used as a path, nothing is there.
        const media = mediaDirectory(site.config.dataDir);
        const posix = filename.replaceAll('\\', '/');
        for (const target of [
          path.resolve(media, posix),
          path.resolve(site.config.dataDir, posix),
          path.resolve(media, filename),
          path.join(path.dirname(site.config.dataDir), path.basename(posix)),
        ]) {
          if (target === media || site.config.dataDir.startsWith(target)) continue; // a folder that exists anyway (`..`)
          assert.equal(await stat(target).catch(() => null), null, `${target} must not exist`);
        }
        assert.deepEqual(
          (await readdir(site.config.dataDir)).filter(
            (f) => !['media', 'tmp', 'gazette.sqlite', 'gazette.sqlite-wal', 'gazette.sqlite-shm'].includes(f),
          ),
          [],
        );
      });
    }

    it('refuses an upload without a CSRF token (403), storing nothing', async () => {
      const before = await mediaCount(site);
      const body = multipart(
        { alt: 'No token' },
        {
          filename: 'a.png',
          content: await sharp({ create: { width: 10, height: 10, channels: 3, background: '#fff' } })
            .png()
            .toBuffer(),
        },
      );
      const res = await contributor.request({
        method: 'POST',
        url: '/newsroom/media',
        payload: body.payload,
        headers: { 'content-type': body.contentType },
      });
      assert.equal(res.statusCode, 403);
      assert.match(res.body, /form has expired or did not come from this site/);
      const forged = multipart(
        { _csrf: 'forged', alt: 'Forged' },
        {
          filename: 'a.png',
          content: await sharp({ create: { width: 11, height: 10, channels: 3, background: '#fff' } })
            .png()
            .toBuffer(),
        },
      );
      const res2 = await contributor.request({
        method: 'POST',
        url: '/newsroom/media',
        payload: forged.payload,
        headers: { 'content-type': forged.contentType },
      });
      assert.equal(res2.statusCode, 403);
      assert.equal(await mediaCount(site), before);
      assert.deepEqual(await tmpFiles(site), []);
    });

    it('refuses uploads from a visitor who is not signed in (401) and snippet jobs without CSRF (403)', async () => {
      const anonymous = clientFor(site);
      const body = multipart({ alt: 'x' }, { filename: 'a.png', content: Buffer.from('x') });
      const res = await anonymous.request({
        method: 'POST',
        url: '/newsroom/media',
        payload: body.payload,
        headers: { 'content-type': body.contentType },
      });
      assert.equal(res.statusCode, 401);
      const page = await anonymous.request({ method: 'GET', url: '/newsroom/media' });
      assert.equal(page.statusCode, 303);
      const noToken = await contributor.request({
        method: 'POST',
        url: `/newsroom/media/${videoId}/clips`,
        form: { start: '0', end: '1' },
      });
      assert.equal(noToken.statusCode, 403);
    });

    it("lets a contributor delete only their own media: an editor's upload needs an editor", async () => {
      const png = await sharp({ create: { width: 30, height: 30, channels: 3, background: '#abcdef' } })
        .png()
        .toBuffer();
      const mine = await upload(editor, { alt: "Editor's image" }, { filename: 'editors.png', content: png });
      const id = Number(/\/newsroom\/media\/(\d+)/.exec(String(mine.headers.location))?.[1]);
      const page = await contributor.request({ method: 'GET', url: `/newsroom/media/${id}` });
      assert.doesNotMatch(page.body, /Delete this image/);
      const refused = await contributor.post(`/newsroom/media/${id}/delete`, {});
      assert.equal(refused.statusCode, 403);
      assert.match(refused.body, /Only an editor may delete media someone else uploaded/);
      const file = (
        await site.db.selectFrom('media').select('file_name').where('id', '=', id).executeTakeFirstOrThrow()
      ).file_name;

      const own = await upload(
        contributor,
        { alt: 'Mine' },
        {
          filename: 'mine.png',
          content: await sharp({ create: { width: 31, height: 30, channels: 3, background: '#fedcba' } })
            .png()
            .toBuffer(),
        },
      );
      const ownId = Number(/\/newsroom\/media\/(\d+)/.exec(String(own.headers.location))?.[1]);
      assert.equal((await contributor.post(`/newsroom/media/${ownId}/delete`, {})).statusCode, 303);
      assert.equal(
        await site.db.selectFrom('media').select('id').where('id', '=', ownId).executeTakeFirst(),
        undefined,
      );

      assert.equal((await editor.post(`/newsroom/media/${id}/delete`, {})).statusCode, 303);
      assert.equal((await site.app.inject({ url: `/media/${file}` })).statusCode, 404, 'its file is gone too');
    });

    it('answers unknown or malformed media ids with 404', async () => {
      for (const url of [
        '/newsroom/media/999999',
        '/newsroom/media/abc',
        '/newsroom/media/-1',
        '/newsroom/media/clips/424242',
      ]) {
        const res = await contributor.request({ method: 'GET', url });
        assert.equal(res.statusCode, 404, url);
      }
    });
  });
});

describe('a video that ffprobe reads but ffmpeg cannot decode (truncated)', () => {
  let site: TestSite;
  let work = '';
  before(async () => {
    site = await createTestSite({ seed: false });
    work = await mkdtemp(path.join(tmpdir(), 'gazette-truncated-'));
  });
  after(async () => {
    await site.close();
    await rm(work, { recursive: true, force: true });
  });

  it('is refused (415) and leaves no stored file without its row', async () => {
    const editor = await signInAs(site, 'editor');
    const video = await makeVideo(work, 4);
    // The index first (+faststart), so ffprobe still reads the duration after the cut; the frames are gone.
    const faststart = path.join(work, 'faststart.mp4');
    await promisify(execFile)('ffmpeg', [
      '-nostdin',
      '-v',
      'error',
      '-y',
      '-i',
      video,
      '-c',
      'copy',
      '-movflags',
      '+faststart',
      faststart,
    ]);
    const whole = await readFile(faststart);
    const truncated = whole.subarray(0, Math.floor(whole.byteLength * 0.15));
    const res = await upload(
      editor,
      { alt: 'A cut-off recording' },
      { filename: 'cut.mp4', content: truncated, contentType: 'video/mp4' },
    );
    assert.equal(res.statusCode, 415, res.body);
    assert.equal(await mediaCount(site), 0);
    assert.deepEqual(await storedFiles(site), [], 'nothing public without a row');
  });
});

describe('a full disk during an upload', () => {
  let site: TestSite;
  let unmount: (() => Promise<void>) | null = null;
  before(async () => {
    site = await createTestSite({ seed: false });
    // Uploads are spooled to DATA_DIR/tmp: a 1 MB disk there fills up under a 3 MB upload.
    unmount = await mountTmpfs(path.join(site.config.dataDir, 'tmp'), '1m');
  });
  after(async () => {
    await unmount?.();
    await site.close();
  });

  it('answers 507 with a clear message (not 400 "could not be understood") and stores nothing', async (t) => {
    if (!unmount) return t.skip('cannot mount a tmpfs here (not root)');
    const editor = await signInAs(site, 'editor');
    const jpeg = await makeJpeg(64, 64);
    const content = Buffer.concat([jpeg, Buffer.alloc(3 * 1024 * 1024 - jpeg.byteLength)]);
    const res = await upload(
      editor,
      { alt: 'A photo too big for the disk' },
      { filename: 'big.jpg', content, contentType: 'image/jpeg' },
    );
    assert.equal(res.statusCode, 507, res.body);
    assert.match(res.body, /run out of disk space/);
    // Larger than the disk: the spooling itself fails (ENOSPC), which used to answer 400.
    const huge = Buffer.concat([jpeg, Buffer.alloc(8 * 1024 * 1024 - jpeg.byteLength, 1)]);
    const spooled = await upload(
      editor,
      { alt: 'A photo far too big for the disk' },
      { filename: 'huge.jpg', content: huge, contentType: 'image/jpeg' },
    );
    assert.equal(spooled.statusCode, 507, spooled.body);
    assert.match(spooled.body, /run out of disk space/);
    assert.equal(await mediaCount(site), 0);
    assert.deepEqual(await tmpFiles(site), [], 'the partial spool is removed');
  });
});
