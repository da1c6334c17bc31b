import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp, { type Sharp } from 'sharp';
import { signInAs, type NewsroomClient } from '../../../test/helpers/newsroom.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { pngChunk } from './media.fixtures.ts';
import { multipart } from '../../../test/helpers/multipart.ts';

/** What a phone or an editing tool leaves in a file: who made it and where. */
const author = 'Secret Reporter';
const exif = {
  IFD0: { Artist: author, Copyright: author },
  IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 0/1' },
};
const xmp = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>${author}</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>`;

/** Three differently coloured frames, wide enough (520 px) for a 480 px responsive size. */
function frames(): Sharp {
  const width = 520;
  const height = 40;
  const raw = Buffer.alloc(width * height * 3 * 4);
  for (let i = 0; i < raw.length; i += 4) {
    const frame = Math.floor(i / (width * height * 4));
    raw.set([frame * 120, 60, 200 - frame * 60, 255], i);
  }
  return sharp(raw, { raw: { width, height: height * 3, channels: 4, pageHeight: height } });
}

/** GIF has no EXIF; its metadata travels in a comment extension and an XMP application extension. */
function withGifMetadata(gif: Buffer): Buffer {
  const flags = gif[10] ?? 0;
  const afterColourTable = 13 + (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0);
  const subBlocks = (data: Buffer) => {
    const parts: Buffer[] = [];
    for (let i = 0; i < data.length; i += 255) {
      const part = data.subarray(i, i + 255);
      parts.push(Buffer.from([part.length]), part);
    }
    return Buffer.concat([...parts, Buffer.from([0])]);
  };
  const comment = Buffer.concat([Buffer.from([0x21, 0xfe]), subBlocks(Buffer.from(`${author}, 51.5N 0.12W`))]);
  const xmpExtension = Buffer.concat([
    Buffer.from([0x21, 0xff, 11]),
    Buffer.from('XMP DataXMP'),
    subBlocks(Buffer.from(xmp)),
  ]);
  return Buffer.concat([gif.subarray(0, afterColourTable), comment, xmpExtension, gif.subarray(afterColourTable)]);
}

/** Asserts served bytes carry none of the fixture's metadata and are still an animation of three frames. */
async function assertClean(bytes: Buffer, what: string, animated: boolean): Promise<void> {
  const meta = await sharp(bytes, { animated: true }).metadata();
  assert.equal(meta.exif, undefined, `${what}: no EXIF`);
  assert.equal(meta.xmp, undefined, `${what}: no XMP`);
  assert.ok(!bytes.includes(author), `${what}: the author's name is nowhere in the bytes`);
  assert.ok(!bytes.includes('XMP DataXMP') && !bytes.includes('51.5N'), `${what}: no GIF comment or XMP block`);
  if (animated) assert.equal(meta.pages, 3, `${what}: still three frames`);
}

describe('metadata is stripped from every stored image, animated or not', () => {
  let site: TestSite;
  let contributor: NewsroomClient;
  let work: string;

  before(async () => {
    site = await createTestSite({ seed: false });
    contributor = await signInAs(site, 'contributor');
    work = await mkdtemp(path.join(tmpdir(), 'gazette-metadata-'));
  });
  after(async () => {
    await site.close();
    await rm(work, { recursive: true, force: true });
  });

  const upload = (filename: string, content: Buffer) => {
    const body = multipart({ _csrf: contributor.csrf, alt: 'Three colours' }, { filename, content });
    return contributor.request({
      method: 'POST',
      url: '/newsroom/media',
      payload: body.payload,
      headers: { 'content-type': body.contentType },
    });
  };

  const kinds: { name: string; make: () => Promise<Buffer>; animated: boolean }[] = [
    {
      name: 'an animated WebP',
      animated: true,
      make: () =>
        frames()
          .withExif(exif)
          .withXmp(xmp)
          .webp({ loop: 0, delay: [100, 200, 300] })
          .toBuffer(),
    },
    {
      name: 'an animated GIF',
      animated: true,
      make: async () =>
        withGifMetadata(
          await frames()
            .gif({ loop: 0, delay: [100, 200, 300] })
            .toBuffer(),
        ),
    },
    // sharp writes AVIF stills only; an AVIF sequence is checked below.
    {
      name: 'an AVIF still',
      animated: false,
      make: () =>
        frames().extract({ left: 0, top: 0, width: 520, height: 40 }).withExif(exif).withXmp(xmp).avif().toBuffer(),
    },
    {
      name: 'a PNG',
      animated: false,
      make: () =>
        frames().extract({ left: 0, top: 0, width: 520, height: 40 }).withExif(exif).withXmp(xmp).png().toBuffer(),
    },
  ];

  for (const kind of kinds) {
    it(`stores and serves ${kind.name} without its GPS position or author${kind.animated ? ', still animated' : ''}`, async () => {
      const content = await kind.make();
      assert.ok(content.includes(author), 'the fixture carries the metadata');
      const res = await upload(`${kind.name.replaceAll(' ', '-')}.bin`, content);
      assert.equal(res.statusCode, 303, res.body);
      const id = Number(/\/newsroom\/media\/(\d+)/.exec(String(res.headers.location))?.[1]);
      const row = await site.db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const original = await site.app.inject({ url: `/media/${row.file_name}` });
      assert.equal(original.statusCode, 200);
      await assertClean(original.rawPayload, `${kind.name} original`, kind.animated);
      if (kind.animated)
        assert.deepEqual(
          (await sharp(original.rawPayload, { animated: true }).metadata()).delay,
          [100, 200, 300],
          'frame delays kept',
        );
      const variants = await site.db.selectFrom('media_variants').selectAll().where('media_id', '=', id).execute();
      assert.ok(variants.length > 0, 'has responsive sizes');
      for (const v of variants) {
        const served = await site.app.inject({ url: `/media/${v.file_name}` });
        assert.equal(served.statusCode, 200);
        await assertClean(served.rawPayload, `${kind.name} ${v.width} px ${v.mime_type}`, kind.animated);
      }
    });
  }

  it('refuses an APNG and an AVIF sequence (which we cannot re-encode as animations), storing nothing', async () => {
    const apngFile = path.join(work, 'anim.png');
    execFileSync('ffmpeg', [
      '-nostdin',
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=64x48:rate=5:duration=0.6',
      '-plays',
      '0',
      '-f',
      'apng',
      apngFile,
    ]);
    const apng = await readFile(apngFile);
    // Author and XMP as text chunks right after IHDR (8-byte signature, then 25 bytes of IHDR).
    const withText = Buffer.concat([
      apng.subarray(0, 33),
      pngChunk('tEXt', Buffer.from(`Author\0${author}`)),
      pngChunk('iTXt', Buffer.from(`XML:com.adobe.xmp\0\0\0\0\0${xmp}`)),
      apng.subarray(33),
    ]);
    const avisFile = path.join(work, 'anim.avif');
    execFileSync('ffmpeg', [
      '-nostdin',
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=64x48:rate=5:duration=0.6',
      '-c:v',
      'libaom-av1',
      '-cpu-used',
      '8',
      '-pix_fmt',
      'yuv420p',
      '-f',
      'avif',
      avisFile,
    ]);
    for (const [name, content] of [
      ['anim.png', withText],
      ['anim.avif', await readFile(avisFile)],
    ] as const) {
      const res = await upload(name, content);
      assert.equal(res.statusCode, 415, `${name}: ${res.statusCode}`);
    }
    const stored = await site.db.selectFrom('media').select('original_name').execute();
    assert.deepEqual(
      stored.filter((r) => r.original_name.startsWith('anim.')),
      [],
    );
  });
});
