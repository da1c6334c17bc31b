/**
 * The article editor's script as `npm install` and `npm start` make it: built by esbuild from ui/editor/,
 * within its budget of 250 KB gzipped (printed), rebuilt when stale, and served with SRI to the editor page
 * alone (no reader's page carries a script).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildEditorBundle,
  editorBundleBudgetBytes,
  editorBundleIsFresh,
  editorBundleName,
  ensureEditorBundle,
  sharedSources,
} from '../src/ui/editor-bundle.ts';
import { signInAs } from './helpers/newsroom.ts';
import { createTestSite, type TestSite } from './helpers/site.ts';

const uiDir = path.join(import.meta.dirname, '..', 'src', 'ui');
const bundlePath = path.join(uiDir, 'assets', editorBundleName);

describe('the editor bundle', () => {
  let site: TestSite;
  before(async () => {
    await ensureEditorBundle();
    site = await createTestSite();
  });
  after(() => site?.close());

  it('is within its budget of 250 KB gzipped', async () => {
    const report = await buildEditorBundle();
    console.log(
      `editor bundle: ${(report.bytes / 1024).toFixed(1)} KB, ${(report.gzipBytes / 1024).toFixed(1)} KB gzipped (budget ${editorBundleBudgetBytes / 1024} KB), built in ${Math.round(report.milliseconds)} ms`,
    );
    assert.ok(report.gzipBytes <= editorBundleBudgetBytes, `${report.gzipBytes} bytes gzipped`);
    assert.ok(editorBundleIsFresh());
    // The stamp covers every file of ours the bundle is made of, so a change to any of them rebuilds it.
    const outside = report.inputs
      .map((input) => path.resolve(input))
      .filter((file) => !file.startsWith(path.join(uiDir, 'editor') + path.sep));
    assert.deepEqual(outside.map((file) => path.relative(uiDir, file)).sort(), [...sharedSources].sort());
  });

  it('is rebuilt when its stamp no longer matches its sources, as `gazette serve` checks at start', async () => {
    const good = readFileSync(bundlePath);
    writeFileSync(bundlePath, '/* gazette editor bundle 0000000000000000 */\n');
    try {
      assert.equal(editorBundleIsFresh(), false);
      assert.equal(await ensureEditorBundle(), 'built');
      assert.equal(editorBundleIsFresh(), true);
      assert.equal(await ensureEditorBundle(), 'fresh');
    } finally {
      if (!editorBundleIsFresh()) writeFileSync(bundlePath, good);
    }
  });

  it('is served, with SRI, on the editor page only', async () => {
    const editor = await signInAs(site, 'editor');
    const page = await editor.request({ method: 'GET', url: '/newsroom/articles/new' });
    const tag =
      /<script defer src="(\/assets\/editor\.bundle\.[0-9a-f]+\.js)" integrity="(sha384-[^"]+)"><\/script>/.exec(
        page.body,
      );
    assert.ok(tag?.[1], 'the editor page loads the bundle with an integrity hash');
    const asset = await site.app.inject({ method: 'GET', url: tag[1] });
    assert.equal(asset.statusCode, 200);
    assert.match(String(asset.headers['content-type']), /^text\/javascript/);
    for (const url of ['/newsroom', '/newsroom/articles', '/', '/articles/blinken-meets-herzog-ceasefire-push']) {
      const other = url.startsWith('/newsroom')
        ? await editor.request({ method: 'GET', url })
        : await site.app.inject({ method: 'GET', url });
      assert.doesNotMatch(other.body, /editor\.bundle/, `${url} does not load the editor`);
    }
  });
});
