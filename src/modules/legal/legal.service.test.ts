import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { getLegalDocument, legalContentHash, publishLegalDocument } from './legal.service.ts';

describeEachDatabase('legal documents', (dialect) => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase(dialect);
  });
  after(() => t.drop());

  it('has no Terms until they are published, then a 404-coded error', async () => {
    await assert.rejects(getLegalDocument(t.db, 'terms'), { code: 'legal.not_found' });
  });

  it('publishes new versions without rewriting old ones, each with the hash of its text', async () => {
    const first = await publishLegalDocument(t.db, 'terms', 'Terms and conditions', 'Be kind.');
    const second = await publishLegalDocument(t.db, 'terms', 'Terms and conditions', 'Be kind. Be brief.');
    assert.deepEqual([first.version, second.version], [1, 2]);
    assert.equal(first.content_hash, legalContentHash('Terms and conditions', 'Be kind.'));
    assert.notEqual(first.content_hash, second.content_hash);
    assert.equal((await getLegalDocument(t.db, 'terms')).version, 2);
    const old = await getLegalDocument(t.db, 'terms', 1);
    assert.equal(old.body_markdown, 'Be kind.');
    assert.equal(old.content_hash, first.content_hash);
    // Versions are per document: the privacy policy starts at 1.
    assert.equal((await publishLegalDocument(t.db, 'privacy', 'Privacy policy', 'We keep little.')).version, 1);
  });
});
