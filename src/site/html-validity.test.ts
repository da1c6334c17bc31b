import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HtmlValidate } from 'html-validate';
import { createTestSite, type TestSite } from '../../test/helpers/site.ts';

// Correctness, accessibility and document rules; the pure code-style presets (upper-case DOCTYPE,
// trailing whitespace) say nothing about what a reader or a browser sees.
const validator = new HtmlValidate({
  extends: ['html-validate:standard', 'html-validate:a11y', 'html-validate:document'],
  rules: { 'no-inline-style': 'error' },
});

describe('html-validate', () => {
  let site: TestSite;
  before(async () => {
    site = await createTestSite();
  });
  after(() => site.close());

  for (const url of [
    '/',
    '/articles/blinken-meets-herzog-ceasefire-push',
    '/articles/gaza-aid-corridor-explainer',
    '/tags/diplomacy',
    '/authors/eitan-marcus',
    '/terms',
    '/privacy',
    '/no-such-page',
  ]) {
    it(`reports no errors on ${url}`, async () => {
      const res = await site.app.inject({ url });
      const report = await validator.validateString(res.body);
      const errors = report.results.flatMap((r) =>
        r.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId} (line ${m.line}): ${m.message}`),
      );
      assert.deepEqual(errors, []);
    });
  }
});
