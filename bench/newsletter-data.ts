// Data for `npm run bench:newsletter`: an issue of about 30 KB of HTML (the subscribers come from bench/generate.ts).
import type { Db } from '../src/db/index.ts';
import { renderArticleBody } from '../src/modules/articles/articles.body.ts';
import type { ArticleView } from '../src/modules/articles/articles.service.ts';
import { type ComposedIssue, composeIssue } from '../src/modules/newsletters/newsletters.compose.ts';
import { insertIssue } from '../src/modules/newsletters/newsletters.repository.ts';

const paragraph =
  'The council voted late on Tuesday to keep the harbour ferry running through the winter, after a public meeting at which ' +
  'residents of the outer islands described mornings spent waiting for a bus that no longer comes. The decision costs the ' +
  'city a little more than it saves, officials said, but the alternative was to cut off two schools and a clinic. ';

/** A long-read article whose rendered issue is about `htmlBytes` of HTML; stored as a draft issue. */
export async function createBenchIssue(
  db: Db,
  siteUrl: string,
  htmlBytes = 30_000,
): Promise<{ id: number; htmlBytes: number }> {
  const composed = composeBenchIssue(siteUrl, htmlBytes);
  const issue = await insertIssue(db, {
    subject: composed.subject,
    article_ids: '[]',
    html: composed.html,
    text: composed.text,
    status: 'draft',
    created_at: new Date().toISOString(),
    queued_at: null,
    finished_at: null,
  });
  return { id: issue.id, htmlBytes: Buffer.byteLength(composed.html) };
}

/** The issue createBenchIssue stores, composed without a database (the bench measures its message size first). */
export function composeBenchIssue(siteUrl: string, htmlBytes = 30_000): ComposedIssue {
  const article = (paragraphs: number): ArticleView => {
    const bodyMarkdown = Array.from(
      { length: paragraphs },
      (_, i) => `${i % 6 === 5 ? '## A heading in the story\n\n' : ''}${paragraph}`,
    ).join('\n\n');
    const { body_html, body_text } = renderArticleBody(bodyMarkdown);
    return {
      id: 1,
      slug: 'harbour-ferry-survives-winter-vote',
      title: 'Harbour ferry survives the winter vote',
      standfirst: 'Islanders packed the chamber; the council listened, and the ferry keeps its timetable until spring.',
      bodyMarkdown,
      bodyHtml: body_html,
      bodyText: body_text,
      publishedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      correctionNote: null,
      seoTitle: null,
      seoDescription: null,
      authors: [],
      tags: [],
      image: null,
      video: null,
      videoCaption: null,
    };
  };
  let paragraphs = 10;
  let composed = composeIssue({
    publicationName: 'The Bench Gazette',
    newsletterName: 'the morning briefing',
    language: 'en',
    siteUrl,
    articles: [article(paragraphs)],
  });
  while (Buffer.byteLength(composed.html) < htmlBytes) {
    paragraphs++;
    composed = composeIssue({
      publicationName: 'The Bench Gazette',
      newsletterName: 'the morning briefing',
      language: 'en',
      siteUrl,
      articles: [article(paragraphs)],
    });
  }
  return composed;
}
