import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signInAs, type NewsroomClient } from '../../../test/helpers/newsroom.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { createClipWorker } from './media.clips.ts';
import { multipart } from '../../../test/helpers/multipart.ts';
import { eventually } from '../../../test/helpers/eventually.ts';
import { MediaNewsroomService } from './media.newsroom.service.ts';
import { FileSystemMediaStorage, mediaDirectory, type MediaStorage } from './media.storage.ts';
import { sniffType } from './media.upload.ts';
import { runMediaTool } from './media.video.ts';

/** Pids of running processes whose command line mentions `marker` (a unique temporary path). */
async function processesMentioning(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker) && !cmdline.includes('media.ffmpeg.test')) pids.push(Number(entry));
  }
  return pids;
}

/**
 * Hostile uploads: playlists and manifests that ffmpeg's format probe recognises anywhere in its first
 * buffer (DASH) or at the start (HLS, concat), wearing QuickTime or MP4 magic bytes so the upload sniffer
 * takes them for video. Each names a real video outside DATA_DIR, by path and over HTTP.
 */
function hostileFiles(secretPath: string, secretUrl: string): { name: string; content: Buffer }[] {
  const mpd = (baseUrl: string) =>
    `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" type="static" mediaPresentationDuration="PT7.3S" minBufferTime="PT1S">` +
    `<Period><AdaptationSet mimeType="video/mp4"><Representation id="1" bandwidth="1000" width="96" height="64" codecs="avc1.64000a">` +
    `<BaseURL>${baseUrl}</BaseURL></Representation></AdaptationSet></Period></MPD>\n`;
  // An XML comment whose bytes 4–7 are a QuickTime atom name (`free`) or an MP4 `ftyp` box: no NUL bytes,
  // so ffmpeg's text probes still see the manifest after it.
  const quicktime = '<!--free-->\n';
  const mp4 = '<!--ftypisom-->\n';
  return [
    { name: 'DASH, QuickTime magic, file: URL', content: Buffer.from(quicktime + mpd(`file://${secretPath}`)) },
    { name: 'DASH, QuickTime magic, http: URL', content: Buffer.from(quicktime + mpd(secretUrl)) },
    { name: 'DASH, QuickTime magic, bare path', content: Buffer.from(quicktime + mpd(secretPath)) },
    { name: 'DASH, MP4 magic, http: URL', content: Buffer.from(mp4 + mpd(secretUrl)) },
    {
      name: 'HLS, QuickTime magic',
      content: Buffer.from(
        `${quicktime}#EXTM3U\n#EXT-X-TARGETDURATION:8\n#EXTINF:7.3,\n${secretUrl}\n#EXTINF:7.3,\nfile://${secretPath}\n#EXT-X-ENDLIST\n`,
      ),
    },
    { name: 'HLS, MP4 magic', content: Buffer.from(`${mp4}#EXTM3U\n#EXTINF:7.3,\n${secretUrl}\n#EXT-X-ENDLIST\n`) },
    {
      name: 'ffconcat, QuickTime magic',
      content: Buffer.from(`${quicktime}ffconcat version 1.0\nfile 'file:${secretPath}'\nfile '${secretUrl}'\n`),
    },
    { name: 'concat, MP4 magic', content: Buffer.from(`${mp4}file '${secretPath}'\nfile '${secretUrl}'\n`) },
  ];
}

describe('ffmpeg and ffprobe read only the uploaded bytes', () => {
  let site: TestSite;
  let contributor: NewsroomClient;
  let outside: string;
  let secretPath: string;
  let secretUrl: string;
  let server: Server;
  const requests: string[] = [];

  before(async () => {
    site = await createTestSite({ seed: false });
    contributor = await signInAs(site, 'contributor');
    // A real video outside DATA_DIR with a tell-tale size and length: 96×64, 7.3 seconds.
    outside = await mkdtemp(path.join(tmpdir(), 'gazette-outside-'));
    secretPath = path.join(outside, 'secret.mp4');
    execFileSync('ffmpeg', [
      '-nostdin',
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'color=c=red:size=96x64:rate=10:duration=7.3',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      secretPath,
    ]);
    const secret = await readFile(secretPath);
    // The same video over HTTP, recording every request: a fetch of it proves ffmpeg followed a reference.
    server = createServer((request, response) => {
      requests.push(`${request.method} ${request.url}`);
      response.writeHead(200, { 'content-type': 'video/mp4', 'content-length': secret.byteLength }).end(secret);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    secretUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/secret.mp4`;
  });
  after(async () => {
    server.close();
    await site.close();
    await rm(outside, { recursive: true, force: true });
  });

  for (const index of [0, 1, 2, 3, 4, 5, 6, 7]) {
    it(`refuses a hostile upload (${['DASH/file', 'DASH/http', 'DASH/path', 'DASH/mp4', 'HLS', 'HLS/mp4', 'ffconcat', 'concat'][index]}) with 415, reading and storing nothing`, async () => {
      const file = hostileFiles(secretPath, secretUrl)[index]!;
      assert.equal((await sniffType(file.content)).kind, 'video', `${file.name}: the sniffer takes it for video`);
      requests.length = 0;
      const body = multipart(
        { _csrf: contributor.csrf, alt: 'Hostile' },
        { filename: 'clip.mov', content: file.content, contentType: 'video/quicktime' },
      );
      const res = await contributor.request({
        method: 'POST',
        url: '/newsroom/media',
        payload: body.payload,
        headers: { 'content-type': body.contentType },
      });
      assert.equal(res.statusCode, 415, `${file.name}: ${res.statusCode}`);
      assert.match(res.body, /could not be read/);
      assert.deepEqual(
        await site.db.selectFrom('media').select(['id', 'width', 'duration_seconds']).execute(),
        [],
        `${file.name}: nothing stored`,
      );
      assert.deepEqual(await readdir(mediaDirectory(site.config.dataDir)).catch(() => []), []);
      assert.deepEqual(requests, [], `${file.name}: the referenced video was not fetched`);
    });
  }

  for (const [what, lavfi, message] of [
    ['over 4 hours', 'color=c=blue:size=32x32:rate=1/600:duration=14460', /lasts over 4 hours/],
    ['wider than 7680 pixels', 'color=c=blue:size=7696x16:rate=1:duration=1', /larger than 7680 pixels/],
  ] as const) {
    it(`refuses a real video ${what} with 413 before making a poster, storing nothing`, async () => {
      const file = path.join(outside, 'limit.mp4');
      execFileSync('ffmpeg', [
        '-nostdin',
        '-v',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        lavfi,
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-pix_fmt',
        'yuv420p',
        file,
      ]);
      const body = multipart(
        { _csrf: contributor.csrf, alt: 'Too much' },
        { filename: 'limit.mp4', content: await readFile(file) },
      );
      const res = await contributor.request({
        method: 'POST',
        url: '/newsroom/media',
        payload: body.payload,
        headers: { 'content-type': body.contentType },
      });
      assert.equal(res.statusCode, 413, res.body);
      assert.match(res.body, message);
      assert.deepEqual(await site.db.selectFrom('media').select('id').execute(), []);
      assert.deepEqual(await readdir(mediaDirectory(site.config.dataDir)).catch(() => []), []);
    });
  }

  it('cuts no snippet from a stored video whose bytes are a manifest: the job fails and nothing is fetched', async () => {
    // A row as an older version (or a swapped file in storage) could have left it: the worker must not trust the bytes.
    const storage: MediaStorage = new FileSystemMediaStorage(site.config.dataDir);
    const dash = hostileFiles(secretPath, secretUrl)[1]!;
    const scratch = path.join(outside, 'hostile.mov');
    await writeFile(scratch, dash.content);
    const stored = await storage.putFile('hostile.mov', 'mov', scratch, 'video/quicktime');
    const user = await site.db.selectFrom('users').select('id').executeTakeFirstOrThrow();
    const now = new Date().toISOString();
    const { id } = await site.db
      .insertInto('media')
      .values({
        kind: 'video',
        file_name: stored.fileName,
        original_name: 'hostile.mov',
        mime_type: 'video/quicktime',
        byte_size: stored.byteSize,
        sha256: stored.sha256,
        width: 96,
        height: 64,
        duration_seconds: 7,
        alt_text: '',
        poster_media_id: null,
        captions_media_id: null,
        uploaded_by: user.id,
        created_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const res = await contributor.post(`/newsroom/media/${id}/clips`, { start: '1', end: '3' });
    assert.equal(res.statusCode, 303, res.body);
    requests.length = 0;
    const tmp = path.join(site.config.dataDir, 'tmp');
    const worker = createClipWorker({
      db: site.db,
      storage,
      tmpDir: tmp,
      media: new MediaNewsroomService({ db: site.db, storage, tmpDir: tmp, now: () => new Date() }),
    });
    assert.equal(await worker.runOnce(), 'failed');
    assert.deepEqual(requests, [], 'the referenced video was not fetched');
    assert.deepEqual(
      (await site.db.selectFrom('media').select('id').execute()).map((r) => r.id),
      [id],
      'no snippet stored',
    );
  });

  describe('the process', () => {
    let dir: string;
    let fifo: string;
    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'gazette-ffmpeg-'));
      // Opening a FIFO for reading blocks until a writer comes: an ffprobe that hangs for as long as we like.
      fifo = path.join(dir, 'stuck.mp4');
      execFileSync('mkfifo', [fifo]);
    });
    after(async () => {
      for (const pid of await processesMentioning(fifo)) process.kill(pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    });

    it('is killed when it runs past its timeout', async () => {
      const started = Date.now();
      await assert.rejects(
        runMediaTool('ffprobe', {
          input: { path: fifo, mimeType: 'video/mp4' },
          args: ['-show_format'],
          timeoutMs: 300,
        }),
        /took longer than 0.3 s and was stopped/,
      );
      assert.ok(Date.now() - started < 5_000);
      await eventually(
        async () => (await processesMentioning(fifo)).length === 0,
        'the timed-out ffprobe to be gone',
        10_000,
      );
    });

    it('dies with the process that started it, even when that one is SIGKILLed', async () => {
      const script = `import { runMediaTool } from ${JSON.stringify(new URL('./media.video.ts', import.meta.url).href)};
        await runMediaTool('ffprobe', { input: { path: ${JSON.stringify(fifo)}, mimeType: 'video/mp4' }, args: ['-show_format'], timeoutMs: 600000 });`;
      const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
      // Running ffprobe itself (past any wrapper), blocked opening the FIFO: it would wait there forever.
      const pid = await eventually(
        async () => {
          for (const p of (await processesMentioning(fifo)).filter((p) => p !== parent.pid)) {
            const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
            if (/^\d+ \(ffprobe\) S /.test(stat)) return p;
          }
          return null;
        },
        'ffprobe to block on the FIFO',
        10_000,
      );
      parent.kill('SIGKILL');
      await once(parent, 'exit');
      await eventually(
        async () => (await processesMentioning(fifo)).length === 0,
        `ffprobe ${pid} to die with its parent`,
        5_000,
      );
    });
  });
});
