import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { demoArticles, demoLegalDocuments } from './demo.content.ts';

const seedPage = path.join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  '..',
  'shared',
  'seed',
  'the-judean-article-page.txt',
);

/** Lower-case words, with quoted speech removed (short attributed quotes are facts of what was said). */
function words(text: string): string[] {
  return text
    .replace(/["“][^"”]{0,80}["”]/g, ' ')
    .toLowerCase()
    .replace(/[’']/g, "'")
    .split(/[^a-z0-9']+/)
    .filter(Boolean);
}

function shingles(text: string, size: number): Set<string> {
  const w = words(text);
  const out = new Set<string>();
  for (let i = 0; i + size <= w.length; i++) out.add(w.slice(i, i + size).join(' '));
  return out;
}

describe('the demo content', () => {
  it('is written in our own words: no run of eight words is taken from the reference page', async (t) => {
    const reference = await readFile(seedPage, 'utf8').catch(() => undefined);
    if (reference === undefined) {
      t.skip(`reference page not found at ${seedPage}`);
      return;
    }
    const theirs = shingles(reference, 8);
    const ours = [
      ...demoArticles.flatMap((a) => [a.title, a.standfirst, a.bodyMarkdown]),
      ...demoLegalDocuments.map((d) => d.bodyMarkdown),
    ].join('\n');
    const copied = [...shingles(ours, 8)].filter((s) => theirs.has(s));
    assert.deepEqual(copied, []);
  });

  it('opens the lead article with the seed page’s video snippet and its caption', () => {
    const lead = demoArticles[0]!;
    assert.equal(lead.video?.caption, 'Video snippet from the meeting between Blinken and Pres. Herzog');
    assert.ok(lead.hoursAgo < Math.min(...demoArticles.slice(1).map((a) => a.hoursAgo)), 'the lead is the newest');
  });
});
