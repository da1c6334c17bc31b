import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readBounce } from './bounces.parse.ts';

const corpus = path.resolve(import.meta.dirname, '../../../test/fixtures/bounces');

interface Expected {
  file: string;
  class: 'hard' | 'soft' | 'complaint' | 'auto-reply' | 'ignored';
  sisimai: { reason: string; hardbounce: boolean; feedbackType?: string };
}

describe('reading real bounce mails (sisimai set-of-emails)', async () => {
  const expected = JSON.parse(await readFile(path.join(corpus, 'expected.json'), 'utf8')) as Expected[];

  it('covers DSNs, ARF, Exchange, Gmail, Yahoo, qmail, Postfix and auto-replies: at least 40 files', () => {
    assert.ok(expected.length >= 40, String(expected.length));
    for (const kind of ['hard', 'soft', 'complaint', 'auto-reply'])
      assert.ok(
        expected.some((e) => e.class === kind),
        kind,
      );
  });

  for (const e of expected) {
    it(`${e.file}: ${e.class} (sisimai: ${e.sisimai.reason}${e.sisimai.feedbackType ? `/${e.sisimai.feedbackType}` : ''})`, async () => {
      const report = await readBounce(await readFile(path.join(corpus, e.file)));
      assert.equal(report.class, e.class, `${e.file} read as ${report.format}: ${report.summary}`);
      if (e.sisimai.feedbackType) assert.equal(report.feedbackType, e.sisimai.feedbackType);
    });
  }

  it('never throws on garbage: what is not a bounce is ignored', async () => {
    for (const junk of [
      '',
      '\0\0\0',
      'Subject: hi\n\nhello',
      'Content-Type: multipart/report; boundary="x"\n\n--x\n--x--',
    ]) {
      const report = await readBounce(Buffer.from(junk));
      assert.equal(report.class, 'ignored');
    }
  });
});
