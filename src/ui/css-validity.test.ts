import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import postcss, { type Root } from 'postcss';
import { createTestSite, type TestSite } from '../../test/helpers/site.ts';

const srcDir = path.join(import.meta.dirname, '..');

/**
 * What is wrong with a stylesheet, or nothing. postcss's own parser is strict: an unclosed block, string,
 * comment or bracket, or a stray word, is an error (a browser would instead swallow the rest of the file).
 * We write no CSS nesting, so a rule inside another rule means a lost `}` that a later one closed.
 */
function cssProblems(css: string, from: string): string[] {
  let root: Root;
  try {
    root = postcss.parse(css, { from });
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
  const problems: string[] = [];
  root.walkRules((rule) => {
    if (rule.parent?.type === 'rule')
      problems.push(
        `${from}:${rule.source?.start?.line ?? '?'}: "${rule.selector}" is nested in "${(rule.parent as { selector?: string }).selector ?? ''}" (an unclosed block?)`,
      );
  });
  return problems;
}

function stylesheetLinks(page: string): string[] {
  return [...page.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map((m) => m[1] ?? '');
}

describe('stylesheets', () => {
  it('every .css file under src parses without errors', () => {
    const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.css'));
    assert.ok(files.includes(path.join('ui', 'assets', 'site.css')), `found ${files.join(', ')}`);
    const problems = files.flatMap((name) =>
      cssProblems(readFileSync(path.join(srcDir, name), 'utf8'), path.join(srcDir, name)),
    );
    assert.deepEqual(problems, []);
  });

  it('reports an unclosed block and a rule swallowed by one', () => {
    assert.match(cssProblems('.a {\n  color: red;\n\n.b {\n  color: blue;\n}\n', 'x.css').join('\n'), /Unclosed block/);
    assert.match(
      cssProblems('.a {\n  color: red;\n\n.b {\n  color: blue;\n}\n}\n', 'x.css').join('\n'),
      /"\.b" is nested in "\.a"/,
    );
  });

  describe('as served', () => {
    let site: TestSite;
    before(async () => {
      site = await createTestSite();
    });
    after(() => site.close());

    it("readers get only the reader's stylesheet; the newsroom's sign-in page adds newsroom.css; both parse", async () => {
      const home = await site.app.inject({ url: '/' });
      const readerSheets = stylesheetLinks(home.body);
      assert.equal(readerSheets.length, 1);
      assert.match(readerSheets[0] ?? '', /^\/assets\/site\.[0-9a-f]+\.css$/);
      const signIn = await site.app.inject({ url: '/newsroom/sign-in' });
      const newsroomSheets = stylesheetLinks(signIn.body);
      assert.equal(newsroomSheets.length, 2);
      assert.equal(newsroomSheets[0], readerSheets[0]);
      assert.match(newsroomSheets[1] ?? '', /^\/assets\/newsroom\.[0-9a-f]+\.css$/);
      for (const url of newsroomSheets) {
        const response = await site.app.inject({ url });
        assert.equal(response.statusCode, 200);
        assert.deepEqual(cssProblems(response.body, url), []);
      }
      const readerCss = (await site.app.inject({ url: readerSheets[0] ?? '' })).body;
      // The media library's and the charts' rules are the newsroom's alone.
      assert.doesNotMatch(readerCss, /\.media-grid|\.chart__bars|\.mail-preview/);
    });
  });
});
