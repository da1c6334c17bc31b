import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import {
  claimClipJob,
  deleteMediaRows,
  failAbandonedClipJobs,
  findClipJob,
  findVariantsOfMedia,
  finishClipJob,
  insertClipJob,
  insertMedia,
  insertVariants,
  listLibrary,
  recordClipProgress,
  releaseClipJob,
} from './media.repository.ts';
import type { NewMedia } from './media.table.ts';

const t0 = '2026-11-25T12:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(t0) + seconds * 1000).toISOString();

function media(name: string, overrides: Partial<NewMedia> = {}): NewMedia {
  return {
    kind: 'video',
    file_name: `${name}.0123456789ab.mp4`,
    original_name: `${name}.mp4`,
    mime_type: 'video/mp4',
    byte_size: 1000,
    sha256: name.padEnd(64, '0'),
    width: 160,
    height: 120,
    duration_seconds: 30,
    alt_text: '',
    poster_media_id: null,
    captions_media_id: null,
    created_at: t0,
    ...overrides,
  };
}

describeEachDatabase('media repository', (dialect) => {
  let test: TestDatabase;
  before(async () => {
    test = await createTestDatabase(dialect);
  });
  after(() => test.drop());

  it('claims a queued snippet job exactly once, even when several workers ask at the same moment', async () => {
    const { db } = test;
    const source = await insertMedia(db, media('race'));
    const jobId = await insertClipJob(db, {
      sourceMediaId: source,
      startSeconds: 1,
      endSeconds: 5,
      requestedBy: null,
      now: t0,
    });
    const claims = await Promise.all(
      Array.from({ length: 6 }, (_, i) => claimClipJob(db, `worker-${i}`, at(1), at(-60))),
    );
    const winners = claims.filter((c) => c !== undefined);
    assert.equal(winners.length, 1);
    assert.equal(winners[0]?.id, jobId);
    assert.equal(winners[0]?.attempts, 1);
    assert.equal(winners[0]?.status, 'running');
    // While its lease is fresh, nobody else gets it.
    assert.equal(await claimClipJob(db, 'late', at(30), at(30 - 60)), undefined);
    assert.ok(await finishClipJob(db, jobId, winners[0].claimed_by!, source, at(40)));
    assert.equal(await claimClipJob(db, 'later', at(500), at(440)), undefined, 'a done job is never taken again');
  });

  it("gives a dead worker's job to another once its lease lapses; the dead worker's writes are then refused", async () => {
    const { db } = test;
    const source = await insertMedia(db, media('lease'));
    const jobId = await insertClipJob(db, {
      sourceMediaId: source,
      startSeconds: 0,
      endSeconds: 5,
      requestedBy: null,
      now: t0,
    });
    const first = await claimClipJob(db, 'crashed', at(1000), at(940));
    assert.equal(first?.id, jobId);
    assert.ok(await recordClipProgress(db, jobId, 'crashed', 40, at(1010)));
    // 59 s after its last heartbeat the lease still holds; at 61 s it has lapsed.
    assert.equal(await claimClipJob(db, 'rescuer', at(1069), at(1069 - 60)), undefined);
    const second = await claimClipJob(db, 'rescuer', at(1071), at(1071 - 60));
    assert.equal(second?.id, jobId);
    assert.equal(second?.attempts, 2);
    assert.equal(second?.progress, 0, 'starts afresh');
    assert.equal(
      await recordClipProgress(db, jobId, 'crashed', 80, at(1072)),
      false,
      'the old worker learns it lost the job',
    );
    assert.equal(await finishClipJob(db, jobId, 'crashed', source, at(1073)), false);
    assert.ok(await recordClipProgress(db, jobId, 'rescuer', 100, at(1074)));
    assert.ok(await finishClipJob(db, jobId, 'rescuer', source, at(1075)));
    const done = await findClipJob(db, jobId);
    assert.equal(done?.status, 'done');
    assert.equal(done?.progress, 100);
  });

  it('gives up on a job whose workers keep dying, and gives back a job on an orderly stop', async () => {
    const { db } = test;
    const source = await insertMedia(db, media('doomed'));
    const jobId = await insertClipJob(db, {
      sourceMediaId: source,
      startSeconds: 0,
      endSeconds: 5,
      requestedBy: null,
      now: t0,
    });
    for (let attempt = 1; attempt <= 3; attempt++) {
      const now = at(2000 + attempt * 100);
      assert.equal(await failAbandonedClipJobs(db, at(2000 + attempt * 100 - 60), 3, now), 0);
      assert.equal((await claimClipJob(db, `dies-${attempt}`, now, at(2000 + attempt * 100 - 60)))?.attempts, attempt);
    }
    assert.equal(await failAbandonedClipJobs(db, at(2400 - 60), 3, at(2400)), 1);
    const failed = await findClipJob(db, jobId);
    assert.equal(failed?.status, 'failed');
    assert.match(failed?.error ?? '', /3 times/);

    const other = await insertClipJob(db, {
      sourceMediaId: source,
      startSeconds: 0,
      endSeconds: 5,
      requestedBy: null,
      now: t0,
    });
    assert.equal((await claimClipJob(db, 'stopping', at(3000), at(2940)))?.id, other);
    await releaseClipJob(db, other, 'stopping');
    const again = await claimClipJob(db, 'next', at(3001), at(2941));
    assert.equal(again?.id, other);
    assert.equal(again?.attempts, 1, 'an orderly stop does not count as an attempt');
  });

  it('lists the library without poster frames, keeps variants per image, and deletes rows with their variants', async () => {
    const { db } = test;
    const poster = await insertMedia(
      db,
      media('lib-poster', { kind: 'image', mime_type: 'image/jpeg', file_name: 'lib-poster.0123456789ab.jpg' }),
    );
    const video = await insertMedia(db, media('lib-video', { poster_media_id: poster }));
    const image = await insertMedia(
      db,
      media('lib-image', { kind: 'image', mime_type: 'image/png', file_name: 'lib-image.0123456789ab.png' }),
    );
    await insertVariants(db, [
      {
        media_id: image,
        file_name: 'lib-image-960.aaaaaaaaaaaa.webp',
        mime_type: 'image/webp',
        width: 960,
        height: 540,
        byte_size: 10,
      },
      {
        media_id: image,
        file_name: 'lib-image-480.aaaaaaaaaaaa.webp',
        mime_type: 'image/webp',
        width: 480,
        height: 270,
        byte_size: 5,
      },
    ]);
    const ids = (await listLibrary(db, 100)).map((r) => r.id);
    assert.ok(ids.includes(video) && ids.includes(image));
    assert.ok(!ids.includes(poster), 'a poster frame is shown with its video, not on its own');
    assert.deepEqual(
      (await findVariantsOfMedia(db, [image])).get(image)?.map((v) => v.width),
      [480, 960],
    );
    const removed = await deleteMediaRows(db, [image]);
    assert.deepEqual(removed.sort(), [
      'lib-image-480.aaaaaaaaaaaa.webp',
      'lib-image-960.aaaaaaaaaaaa.webp',
      'lib-image.0123456789ab.png',
    ]);
    assert.equal((await findVariantsOfMedia(db, [image])).size, 0);
  });
});
