import { it } from 'node:test';
import { createTestSite } from '/work/wt/editor/test/helpers/site.ts';
it('dbg', async () => {
  const site = await createTestSite();
  console.log(await site.db.selectFrom('media').select(['id','kind','file_name','poster_media_id','captions_media_id','width']).execute());
  console.log(await site.db.selectFrom('media_variants').select(['media_id','file_name','width','crop']).execute());
  await site.close();
});
