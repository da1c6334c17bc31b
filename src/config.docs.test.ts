import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { environmentReference } from './config.ts';
import { configurationMarkdown, regenerateCommand } from './config.docs.ts';

const docsFile = path.join(import.meta.dirname, '..', 'docs', 'configuration.md');

describe('docs/configuration.md', () => {
  it('is exactly what the schema in src/config.ts generates', async () => {
    const committed = await readFile(docsFile, 'utf8').catch(() => '');
    assert.ok(
      committed === configurationMarkdown(),
      `docs/configuration.md is out of date with src/config.ts: run \`${regenerateCommand}\` and commit docs/configuration.md.`,
    );
  });

  it('describes every variable, with its default and its values', () => {
    const reference = environmentReference();
    assert.ok(reference.length >= 30);
    for (const variable of reference) {
      assert.ok(
        variable.description.length > 10,
        `${variable.name} needs a description in environmentDocs (src/config.ts)`,
      );
      assert.ok(variable.values.length > 0, variable.name);
    }
    const byName = new Map(reference.map((v) => [v.name, v]));
    // Read from the schema, not written twice.
    assert.equal(byName.get('PORT')?.default, '`3000`');
    assert.equal(byName.get('SEND_CONCURRENCY')?.values, 'integer 1–200');
    assert.equal(byName.get('IP_STORAGE')?.values, '`full`, `truncated`, `hashed`');
    assert.equal(byName.get('SMTP_URL')?.default, null);
  });
});
