import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { multipart } from '../../../test/helpers/multipart.ts';
import { type NewsroomClient, signInAs } from '../../../test/helpers/newsroom.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { renderMarkdown } from '../../ui/markdown.ts';
import { makeJpeg } from '../media/media.fixtures.ts';

/**
 * Cards in an article body over HTTP: what saving does to them (checks with a message, sizes and poster
 * filled in from the media library, HTML cards for editors only), what readers then get, and the autosave's
 * answer to a conflict.
 */
describe('cards in an article body', () => {
  let site: TestSite;
  let editor: NewsroomClient;
  let contributor: NewsroomClient;
  let imagePath: string;
  let videoPath: string;

  const autosave = (client: NewsroomClient, form: Record<string, string>, url = '/newsroom/articles/autosave') =>
    client.request({ method: 'POST', url, headers: { 'x-csrf-token': client.csrf, accept: 'application/json' }, form });
  const stored = (id: number) =>
    site.db.selectFrom('articles').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  before(async () => {
    site = await createTestSite();
    editor = await signInAs(site, 'editor');
    contributor = await signInAs(site, 'contributor');
    const body = multipart(
      { _csrf: editor.csrf, alt: 'Boats at dawn' },
      { filename: 'boats.jpg', content: await makeJpeg(1600, 900), contentType: 'image/jpeg' },
    );
    const uploaded = await editor.request({
      method: 'POST',
      url: '/newsroom/media',
      headers: { 'content-type': body.contentType, accept: 'application/json' },
      payload: body.payload,
    });
    assert.equal(uploaded.statusCode, 201, uploaded.body);
    imagePath = uploaded.json<{ url: string }>().url;
    const video = await site.db
      .selectFrom('media')
      .select('file_name')
      .where('kind', '=', 'video')
      .executeTakeFirstOrThrow();
    videoPath = `/media/${video.file_name}`;
  });
  after(() => site.close());

  it('fills an image card’s sizes and a video card’s poster and captions from the library; readers get figures', async () => {
    const saved = await editor.post('/newsroom/articles', {
      title: 'Boats and a briefing',
      body: `Intro.\n\n\`\`\`{image}\nsrc: ${imagePath}\nalt: Boats at dawn\ncaption: The harbour.\n\`\`\`\n\n\`\`\`{video}\nsrc: ${videoPath}\ncaption: The briefing.\n\`\`\``,
      action: 'publish',
    });
    assert.equal(saved.statusCode, 303, saved.body.slice(0, 1500));
    const id = Number(/articles\/(\d+)/.exec(String(saved.headers.location))?.[1]);
    const row = await stored(id);
    assert.match(
      row.body_markdown,
      new RegExp(
        `\`\`\`\\{image\\}\\nsrc: ${imagePath.replace(/\./g, '\\.')}\\nalt: Boats at dawn\\ncaption: The harbour\\.\\nwidth: 1600\\nheight: 900\\nsrcset: /media/\\S+ 480w, `,
      ),
    );
    assert.match(
      row.body_markdown,
      /```\{video\}\nsrc: \/media\/\S+\.mp4\ntype: video\/mp4\ncaption: The briefing\.\nposter: \/media\/\S+\.jpg\ncaptions: \/media\/\S+\.vtt\ncaptions-lang: en\nwidth: 640\nheight: 360\nduration: 6\n```/,
    );

    const page = await site.app.inject({ method: 'GET', url: '/articles/boats-and-a-briefing' });
    assert.equal(page.statusCode, 200);
    assert.match(
      page.body,
      /<figure class="article-figure"><img src="\/media\/[^"]+" srcset="\/media\/[^"]+ 480w, [^"]+" sizes="[^"]+" alt="Boats at dawn" width="1600" height="900" loading="lazy" decoding="async"><figcaption>The harbour\.<\/figcaption><\/figure>/,
    );
    assert.match(
      page.body,
      /<figure class="article-video">\s*<video controls preload="metadata" playsinline poster="\/media\/[^"]+" width="640" height="360">\s*<source src="\/media\/[^"]+\.mp4" type="video\/mp4">\s*<track kind="captions" src="\/media\/[^"]+\.vtt" srclang="en" label="Captions" default>/,
    );
    assert.doesNotMatch(page.body, /src: |srcset: /, 'no card source leaks into the page');
    // The description and reading time read the cards' words, not their fields.
    assert.match(page.body, /<meta name="description" content="Intro\. The harbour\. The briefing\. \(0:06\)"/);
  });

  it('refuses cards it cannot show, saying why, and saves nothing', async () => {
    const cases: [string, number, string, RegExp][] = [
      [
        'an image from another site',
        400,
        '```{image}\nsrc: https://tracker.example/p.gif\nalt: x\n```',
        /must be uploaded/,
      ],
      ['an image without alt text', 400, `\`\`\`{image}\nsrc: ${imagePath}\n\`\`\``, /needs alt text/],
      ['a javascript: embed', 400, '```{embed}\nurl: javascript:alert(1)\n```', /not a web link/],
      [
        'an unknown embed',
        400,
        '```{embed}\nurl: https://evil.example/watch?v=1\n```',
        /not a link Gazette recognises/,
      ],
      [
        'an HTML card with a script',
        400,
        '```{html}\n<p onclick="x()">Hi</p><script>alert(1)</script>\n```',
        /holds .*<script>.*, which readers’ pages do not allow/,
      ],
      ['a video that is an image', 400, `\`\`\`{video}\nsrc: ${imagePath}\n\`\`\``, /not a video in the media library/],
    ];
    const before = await site.db
      .selectFrom('articles')
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    for (const [what, status, card, message] of cases) {
      const response = await autosave(editor, { title: `Refused: ${what}`, body: `Text.\n\n${card}` });
      assert.equal(response.statusCode, status, what);
      const { error } = response.json<{ error: { code: string; message: string; fields: Record<string, string> } }>();
      assert.equal(error.code, 'article.card_invalid', what);
      assert.match(error.fields.body ?? '', message, what);
    }
    const afterwards = await site.db
      .selectFrom('articles')
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(afterwards.n), Number(before.n));
  });

  it('lets editors add HTML cards, sanitised; a contributor cannot add one, but may keep one an editor added', async () => {
    const refused = await autosave(contributor, {
      title: 'My HTML',
      body: '```{html}\n<div class="box">Mine</div>\n```',
    });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json<{ error: { code: string } }>().error.code, 'article.html_card_forbidden');

    // A contributor's draft, to which an editor adds an HTML card.
    const draft = await autosave(contributor, { title: 'Shared draft', body: 'From the contributor.' });
    assert.equal(draft.statusCode, 200);
    const { id } = draft.json<{ id: number }>();
    const withCard = `From the contributor.\n\n\`\`\`{html}\n<div class="box"><table><tr><td>1</td></tr></table></div>\n\`\`\``;
    const byEditor = await autosave(
      editor,
      { title: 'Shared draft', body: withCard, revision: String((await stored(id)).revision) },
      `/newsroom/articles/${id}/autosave`,
    );
    assert.equal(byEditor.statusCode, 200, byEditor.body);
    const kept = await autosave(
      contributor,
      {
        title: 'Shared draft',
        body: `${withCard}\n\nMore from the contributor.`,
        revision: String((await stored(id)).revision),
      },
      `/newsroom/articles/${id}/autosave`,
    );
    assert.equal(kept.statusCode, 200, kept.body);
    const changed = await autosave(
      contributor,
      {
        title: 'Shared draft',
        body: withCard.replace('<td>1</td>', '<td>2</td>'),
        revision: String((await stored(id)).revision),
      },
      `/newsroom/articles/${id}/autosave`,
    );
    assert.equal(changed.statusCode, 403);
    const preview = await editor.request({
      method: 'POST',
      url: '/newsroom/articles/preview',
      headers: { 'x-csrf-token': editor.csrf, accept: 'application/json' },
      form: { body: withCard },
    });
    assert.match(
      preview.json<{ html: string }>().html,
      /<div class="box"><table><tr><td>1<\/td><\/tr><\/table><\/div>/,
    );
  });

  it('answers an autosave from a stale tab with 409 and a link comparing its revision with the newest', async () => {
    const first = await autosave(editor, { title: 'Two tabs', body: 'One.' });
    const { id, revision } = first.json<{ id: number; revision: number }>();
    const url = `/newsroom/articles/${id}/autosave`;
    assert.equal(
      (
        await editor.post(`/newsroom/articles/${id}`, {
          title: 'Two tabs',
          body: 'One, saved in tab A.',
          revision: String(revision),
          action: 'save',
        })
      ).statusCode,
      303,
    );
    const stale = await autosave(
      editor,
      { title: 'Two tabs', body: 'One, typed in tab B.', revision: String(revision) },
      url,
    );
    assert.equal(stale.statusCode, 409);
    const { error } = stale.json<{ error: { code: string; compareUrl: string } }>();
    assert.equal(error.code, 'article.conflict');
    assert.match(error.compareUrl, new RegExp(`^/newsroom/articles/${id}/revisions(/diff\\?from=\\d+&to=\\d+)?$`));
    const diff = await editor.request({ method: 'GET', url: error.compareUrl });
    assert.equal(diff.statusCode, 200);
  });

  it('renders what a hand-written body may hold safely: nested cards checked the same, no forged placeholders', () => {
    const html = renderMarkdown(
      '> ```{image}\n> src: https://evil.example/x.jpg\n> alt: x\n> ```\n\n<p>gazette-card-0</p>\n\n```{pullquote}\ntext: <b>Loud</b>\n```',
    );
    assert.doesNotMatch(html, /evil\.example/);
    assert.match(html, /<p>gazette-card-0<\/p>/, 'text that looks like a placeholder stays text');
    assert.match(
      html,
      /<figure class="pull-quote"><blockquote><p>&lt;b&gt;Loud&lt;\/b&gt;<\/p><\/blockquote><\/figure>/,
    );
  });
});
