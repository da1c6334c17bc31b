import { html, raw, type SafeHtml } from '../../ui/html.ts';
import { formatDateTime } from '../../ui/format.ts';
import type { SiteContext } from '../../ui/layout.ts';
import { editorBundleName } from '../../ui/editor-bundle.ts';
import { csrfInput, newsroomLayout } from '../../ui/newsroom-layout.ts';
import { mediaUrl } from '../media/index.ts';
import type { UserRow } from '../users/index.ts';
import type { EditorChoices, FieldDiff } from './articles.editor.service.ts';
import type { MediaChoice, NewsroomArticleRow } from './articles.editor.repository.ts';
import { type FieldErrors, limits, utcToZoned } from './articles.schema.ts';
import type { ArticleRow, ArticleStatus, AuthorRow, RevisionRow } from './articles.table.ts';

// The newsroom's article pages: the list, the editor, the revision history and a diff. Every form works
// without JavaScript; the editor's script (ui/editor/, bundled) turns the body's Markdown textarea into a
// rich-text editor and adds autosave, the live preview and the settings panel's toggle on top.

type PageUser = Pick<UserRow, 'name' | 'email' | 'role'>;
export type FormValues = Record<string, string | string[]>;

const statusLabels: Record<ArticleStatus, string> = {
  draft: 'Draft',
  scheduled: 'Scheduled',
  published: 'Published',
  unpublished: 'Unpublished',
};
const statuses = Object.keys(statusLabels) as ArticleStatus[];

/** How many articles the list shows (listNewsroomArticles' limit). */
const listLimit = 200;

function when(site: SiteContext, iso: string | null): SafeHtml | string {
  return iso
    ? html`<time datetime="${iso}">${formatDateTime(iso, site.settings.locale, site.settings.timeZone)}</time>`
    : '';
}

export function articleListPage(
  site: SiteContext,
  meta: { user: PageUser; csrf: string },
  list: {
    rows: (NewsroomArticleRow & { authors: AuthorRow[]; editable: boolean })[];
    counts: Map<ArticleStatus, number>;
    status: ArticleStatus | undefined;
    notice?: string | undefined;
  },
): string {
  const total = [...list.counts.values()].reduce((a, b) => a + b, 0);
  const filterLink = (status: ArticleStatus | undefined, label: string, count: number) => {
    const href = status ? `/newsroom/articles?status=${status}` : '/newsroom/articles';
    return html`<li><a href="${href}"${list.status === status ? html` aria-current="page"` : ''}>${label} <span class="editor-count">(${count})</span></a></li>`;
  };
  return newsroomLayout(
    site,
    { title: 'Articles', path: '/newsroom/articles', user: meta.user, csrf: meta.csrf },
    html`<div class="editor-head">
  <h1>Articles</h1>
  <a class="newsroom__button editor-new" href="/newsroom/articles/new">New article</a>
</div>
${list.notice ? html`<p class="newsroom__notice" role="status">${list.notice}</p>` : ''}
<nav aria-label="Filter by status"><ul class="editor-filters">
  ${filterLink(undefined, 'All', total)}
  ${statuses.map((status) => filterLink(status, statusLabels[status], list.counts.get(status) ?? 0))}
</ul></nav>
${
  list.rows.length === 0
    ? html`<p>No ${list.status ? statusLabels[list.status].toLowerCase() : ''} articles yet.</p>`
    : html`<div class="editor-table-wrap"><table class="newsroom__table editor-list">
  <caption class="visually-hidden">${list.status ? statusLabels[list.status] : 'All'} articles, most recently changed first</caption>
  <thead><tr><th scope="col">Title</th><th scope="col">Status</th><th scope="col">Authors</th><th scope="col">Updated</th><th scope="col">Scheduled for</th></tr></thead>
  <tbody>${list.rows.map(
    (row) => html`<tr>
    <td class="editor-list__title">${row.editable ? html`<a href="/newsroom/articles/${row.id}">${row.title || '(untitled)'}</a>` : row.title || '(untitled)'}</td>
    <td data-label="Status"><span class="editor-status editor-status--${row.status}">${statusLabels[row.status]}</span></td>
    <td data-label="Authors">${row.authors.map((a) => a.name).join(', ')}</td>
    <td data-label="Updated">${when(site, row.updated_at)}</td>
    <td data-label="Scheduled for">${when(site, row.scheduled_at)}</td>
  </tr>`,
  )}</tbody>
</table></div>
${list.rows.length >= listLimit ? html`<p>Showing the ${listLimit} most recently changed; filter by status to see others.</p>` : ''}`
}`,
  );
}

export interface EditorPageOptions {
  user: PageUser;
  csrf: string;
  /** The saved article, or undefined for a new one. */
  article?: ArticleRow | undefined;
  values: FormValues;
  errors: FieldErrors;
  choices: EditorChoices;
  canPublish: boolean;
  canCreateTags: boolean;
  /** Editors and admins may add raw HTML cards; the server refuses them from anyone else. */
  canUseHtmlCards: boolean;
  preview: string;
  notice?: string | undefined;
}

/** The editor form's values from a saved article. */
export function formValuesOf(
  site: SiteContext,
  article: ArticleRow,
  tagIds: number[],
  authorIds: number[],
): FormValues {
  return {
    title: article.title,
    slug: article.slug,
    standfirst: article.standfirst,
    body: article.body_markdown,
    tags: tagIds.map(String),
    new_tags: '',
    authors: authorIds.map(String),
    feature_image_id: article.feature_image_id === null ? '' : String(article.feature_image_id),
    video_id: article.video_id === null ? '' : String(article.video_id),
    video_caption: article.video_caption ?? '',
    seo_title: article.seo_title ?? '',
    seo_description: article.seo_description ?? '',
    correction_note: article.correction_note ?? '',
    scheduled_at: article.scheduled_at ? utcToZoned(article.scheduled_at, site.settings.timeZone) : '',
    revision: String(article.revision),
  };
}

const one = (values: FormValues, name: string): string => {
  const value = values[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
};
const many = (values: FormValues, name: string): string[] => {
  const value = values[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
};

/** ids for `aria-describedby`: the hint, then the error, whichever exist. */
function describedBy(name: string, hint: boolean, errors: FieldErrors): SafeHtml | string {
  const ids = [hint ? `${name}-hint` : '', errors[name as keyof FieldErrors] ? `${name}-error` : '']
    .filter(Boolean)
    .join(' ');
  return ids ? html` aria-describedby="${ids}"` : '';
}

function invalid(name: string, errors: FieldErrors): SafeHtml | string {
  return errors[name as keyof FieldErrors] ? html` aria-invalid="true"` : '';
}

function errorFor(name: string, errors: FieldErrors): SafeHtml | string {
  const message = errors[name as keyof FieldErrors];
  return message ? html`<p class="editor-field__error" id="${name}-error">${message}</p>` : '';
}

function textField(
  values: FormValues,
  errors: FieldErrors,
  name: string,
  label: string,
  max: number,
  hint?: SafeHtml | string,
  extra?: SafeHtml,
): SafeHtml {
  return html`<div class="editor-field">
  <label for="${name}">${label}</label>
  ${hint ? html`<p class="editor-field__hint" id="${name}-hint">${hint}</p>` : ''}
  ${errorFor(name, errors)}
  <input id="${name}" name="${name}" type="text" maxlength="${max}" value="${one(values, name)}"${describedBy(name, Boolean(hint), errors)}${invalid(name, errors)}${extra ?? ''}>
</div>`;
}

function areaField(
  values: FormValues,
  errors: FieldErrors,
  name: string,
  label: string,
  max: number,
  rows: number,
  hint?: SafeHtml | string,
): SafeHtml {
  return html`<div class="editor-field">
  <label for="${name}">${label}</label>
  ${hint ? html`<p class="editor-field__hint" id="${name}-hint">${hint}</p>` : ''}
  ${errorFor(name, errors)}
  <textarea id="${name}" name="${name}" rows="${rows}" maxlength="${max}"${describedBy(name, Boolean(hint), errors)}${invalid(name, errors)}>${one(values, name)}</textarea>
</div>`;
}

/** A picture of a media item: the image itself, or a video's poster frame. */
function thumbOf(m: MediaChoice): string | null {
  return m.kind === 'image' ? m.file_name : m.poster_file_name;
}

function mediaField(
  values: FormValues,
  errors: FieldErrors,
  name: string,
  label: string,
  choices: MediaChoice[],
  none: string,
): SafeHtml {
  const selected = one(values, name);
  const chosen = choices.find((m) => String(m.id) === selected);
  const thumb = chosen ? thumbOf(chosen) : null;
  return html`<div class="editor-field">
  <label for="${name}">${label}</label>
  ${errorFor(name, errors)}
  <select id="${name}" name="${name}" data-media-picker${describedBy(name, false, errors)}${invalid(name, errors)}>
    <option value="">${none}</option>
    ${choices.map((m) => html`<option value="${m.id}"${String(m.id) === selected ? ' selected' : ''}${thumbOf(m) ? html` data-thumb="${mediaUrl(thumbOf(m) ?? '')}"` : ''}>${m.alt_text ? `${m.alt_text} — ` : ''}${m.original_name} (#${m.id})</option>`)}
  </select>
  ${thumb ? html`<img class="editor-thumb" src="${mediaUrl(thumb)}" alt="" width="160" height="90">` : ''}
</div>`;
}

export function editorPage(site: SiteContext, options: EditorPageOptions): string {
  const { values, errors, choices, article } = options;
  const isNew = !article;
  const action = isNew ? '/newsroom/articles' : `/newsroom/articles/${article.id}`;
  const title = isNew ? 'New article' : `Edit: ${article.title || '(untitled)'}`;
  const status = article?.status ?? 'draft';
  const selectedTags = new Set(many(values, 'tags'));
  const authorSlots = Math.max(3, many(values, 'authors').length + 1);
  const chosenAuthors = many(values, 'authors');
  const errorList = Object.entries(errors);
  const published = status === 'published';
  const bundle = site.assets.has(editorBundleName);
  // What the editor's script offers in its image, gallery and video cards: the media library's files.
  const mediaJson = JSON.stringify({
    images: choices.images.map((m) => ({
      id: m.id,
      url: mediaUrl(m.file_name),
      alt: m.alt_text ?? '',
      name: m.original_name,
    })),
    videos: choices.videos.map((m) => ({
      id: m.id,
      url: mediaUrl(m.file_name),
      name: m.original_name,
      poster: m.poster_file_name ? mediaUrl(m.poster_file_name) : null,
    })),
  }).replace(/</g, '\\u003c');

  return newsroomLayout(
    site,
    {
      title,
      path: isNew ? '/newsroom/articles/new' : `/newsroom/articles/${article.id}`,
      user: options.user,
      csrf: options.csrf,
      scripts: bundle ? [editorBundleName] : [],
      styles: ['editor.css'],
    },
    html`<div class="editor-top">
  <p class="editor-crumbs"><a href="/newsroom/articles">All articles</a>${
    article
      ? html` · <a href="/newsroom/articles/${article.id}/revisions">Revisions</a>${published ? html` · <a href="/articles/${article.slug}">View on the site</a>` : ''}`
      : ''
  }</p>
  <p class="editor-state">Status: <strong class="editor-status editor-status--${status}">${statusLabels[status]}</strong>${
    article?.status === 'scheduled' && article.scheduled_at ? html` for ${when(site, article.scheduled_at)}` : ''
  }${article ? html` · revision <span data-revision-label>${article.revision}</span> · last saved ${when(site, article.updated_at)}` : ''}</p>
  <button class="newsroom__button newsroom__button--quiet editor-settings-toggle" type="button" data-settings-toggle aria-controls="editor-settings" aria-expanded="true" hidden>Settings</button>
</div>
<h1 class="visually-hidden">${title}</h1>
${options.notice ? html`<p class="newsroom__notice" role="status">${options.notice}</p>` : ''}
${
  errorList.length > 0
    ? html`<div class="newsroom__error editor-errors" role="alert" tabindex="-1" id="form-errors">
  <p>${errors.form ?? 'Nothing was saved. Please correct:'}</p>
  <ul>${errorList.filter(([field]) => field !== 'form').map(([field, message]) => html`<li><a href="#${field}">${message}</a></li>`)}</ul>
</div>`
    : ''
}
<div class="newsroom__error editor-conflict" id="editor-conflict" role="alert" hidden></div>
<form class="editor" method="post" action="${action}" novalidate data-editor data-autosave="${isNew ? '/newsroom/articles/autosave' : `/newsroom/articles/${article.id}/autosave`}" data-autosave-enabled="${published ? 'false' : 'true'}" data-html-cards="${options.canUseHtmlCards ? 'true' : 'false'}">
  ${csrfInput(options.csrf)}
  <input type="hidden" name="revision" value="${one(values, 'revision')}">
  <div class="editor-main">
    ${textField(values, errors, 'title', 'Title', limits.title, undefined, html` required autocomplete="off" class="editor-title"`)}
    ${areaField(values, errors, 'standfirst', 'Standfirst', limits.standfirst, 2, 'One or two sentences under the headline.')}
    ${areaField(values, errors, 'body', 'Body', limits.body, 18, html`Markdown: <code>## Heading</code>, <code>**bold**</code>, <code>*italic*</code>, <code>[link](https://…)</code>, <code>&gt; quote</code>. Cards are fenced blocks such as <code>\`\`\`{image}</code>: see the newsroom guide.`)}
    <div class="editor-actions">
      <button class="newsroom__button newsroom__button--quiet" type="submit" name="action" value="preview">Preview</button>
      <button class="newsroom__button" type="submit" name="action" value="save">${published ? 'Update' : 'Save draft'}</button>
      ${options.canPublish && !published ? html`<button class="newsroom__button" type="submit" name="action" value="publish">Publish now</button>` : ''}
      <p class="editor-autosave" id="autosave-status" role="status" aria-live="polite"></p>
    </div>
    <details class="editor-preview" data-preview-details${options.notice && /preview/i.test(options.notice) ? ' open' : ''}>
      <summary id="preview-heading">Preview as readers will see it</summary>
      <div class="editor-preview__body article__body prose" id="preview" data-preview>${raw(options.preview)}</div>
    </details>
  </div>
  <aside class="editor-side" id="editor-settings" aria-labelledby="settings-heading">
    <h2 class="editor-side__heading" id="settings-heading">Settings</h2>
    <fieldset class="editor-group">
      <legend>Publishing</legend>
      ${
        options.canPublish
          ? html`<div class="editor-field">
        <label for="scheduled_at">Publish at</label>
        <p class="editor-field__hint" id="scheduled_at-hint">For “Schedule”: a date and time in ${site.settings.timeZone}.</p>
        ${errorFor('scheduled_at', errors)}
        <input id="scheduled_at" name="scheduled_at" type="datetime-local" value="${one(values, 'scheduled_at')}"${describedBy('scheduled_at', true, errors)}${invalid('scheduled_at', errors)}>
      </div>
      <div class="editor-buttons">
        <button class="newsroom__button newsroom__button--quiet" type="submit" name="action" value="schedule">Schedule</button>
        ${status === 'published' || status === 'scheduled' ? html`<button class="newsroom__button newsroom__button--quiet" type="submit" name="action" value="unpublish">Unpublish</button>` : ''}
      </div>`
          : html`<p>Your role writes drafts; an editor publishes them.</p>`
      }
    </fieldset>
    <fieldset class="editor-group">
      <legend>Address</legend>
      ${textField(values, errors, 'slug', 'Slug', limits.slug, html`The address: /articles/<span data-slug-preview>${one(values, 'slug') || '…'}</span>. Made from the title if left empty; lowercase letters, digits and hyphens.${published ? ' Changing it keeps the old address working (it redirects).' : ''}`, html` autocomplete="off" pattern="[a-z0-9]+(-[a-z0-9]+)*"`)}
    </fieldset>
    <fieldset class="editor-group">
      <legend>Tags</legend>
      ${errorFor('tags', errors)}
      <ul class="editor-checks">${choices.tags.map(
        (tag) =>
          html`<li><input type="checkbox" id="tag-${tag.id}" name="tags" value="${tag.id}"${selectedTags.has(String(tag.id)) ? ' checked' : ''}> <label for="tag-${tag.id}">${tag.name}</label></li>`,
      )}</ul>
      ${options.canCreateTags ? textField(values, errors, 'new_tags', 'New tags', 500, 'Comma-separated; created when you save.') : ''}
    </fieldset>
    <fieldset class="editor-group">
      <legend>Authors, in byline order</legend>
      ${errorFor('authors', errors)}
      ${Array.from({ length: authorSlots }, (_, i) => {
        const chosen = chosenAuthors[i] ?? '';
        return html`<div class="editor-field"><label for="author-${i + 1}">Author ${i + 1}</label>
        <select id="author-${i + 1}" name="authors"><option value="">—</option>${choices.authors.map(
          (a) => html`<option value="${a.id}"${String(a.id) === chosen ? ' selected' : ''}>${a.name}</option>`,
        )}</select></div>`;
      })}
    </fieldset>
    <fieldset class="editor-group">
      <legend>Media</legend>
      ${mediaField(values, errors, 'feature_image_id', 'Feature image', choices.images, 'No feature image')}
      ${mediaField(values, errors, 'video_id', 'Video snippet', choices.videos, 'No video')}
      ${textField(values, errors, 'video_caption', 'Video caption', limits.videoCaption)}
      <p class="editor-field__hint">Upload files in <a href="/newsroom/media">Media</a>.</p>
    </fieldset>
    <fieldset class="editor-group">
      <legend>Search engines</legend>
      ${textField(values, errors, 'seo_title', 'Search title', limits.seoTitle, 'Instead of the title in search results; optional.')}
      ${areaField(values, errors, 'seo_description', 'Search description', limits.seoDescription, 3, 'Instead of the standfirst in search results; optional.')}
    </fieldset>
    <fieldset class="editor-group">
      <legend>Correction</legend>
      ${areaField(values, errors, 'correction_note', 'Correction note', limits.correctionNote, 3, 'Shown on the article and in its structured data: say what was wrong and what is right.')}
    </fieldset>
  </aside>
</form>
<script type="application/json" id="editor-media">${raw(mediaJson)}</script>`,
  );
}

const eventLabels: Record<string, string> = {
  saved: 'Saved',
  autosaved: 'Autosaved',
  published: 'Published',
  scheduled: 'Scheduled',
  unpublished: 'Unpublished',
  restored: 'Restored',
  media_changed: 'Media changed',
};

export function revisionsPage(
  site: SiteContext,
  meta: { user: PageUser; csrf: string; notice?: string | undefined },
  article: ArticleRow,
  revisions: RevisionRow[],
): string {
  const newest = revisions[0];
  return newsroomLayout(
    site,
    {
      title: `Revisions: ${article.title}`,
      path: `/newsroom/articles/${article.id}/revisions`,
      user: meta.user,
      csrf: meta.csrf,
    },
    html`<p class="editor-crumbs"><a href="/newsroom/articles">All articles</a> · <a href="/newsroom/articles/${article.id}">Back to the editor</a></p>
<h1>Revisions of “${article.title}”</h1>
${meta.notice ? html`<p class="newsroom__notice" role="status">${meta.notice}</p>` : ''}
<form class="editor-compare" method="get" action="/newsroom/articles/${article.id}/revisions/diff">
  <div class="editor-field"><label for="from">Compare</label>
  <select id="from" name="from">${revisions.map((r, i) => html`<option value="${r.id}"${i === 1 || (revisions.length === 1 && i === 0) ? ' selected' : ''}>${revisionName(site, r)}</option>`)}</select></div>
  <div class="editor-field"><label for="to">with</label>
  <select id="to" name="to">${revisions.map((r, i) => html`<option value="${r.id}"${i === 0 ? ' selected' : ''}>${revisionName(site, r)}</option>`)}</select></div>
  <button class="newsroom__button" type="submit">Show the differences</button>
</form>
<div class="editor-table-wrap"><table class="newsroom__table">
  <caption class="visually-hidden">Revisions, newest first</caption>
  <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">By</th><th scope="col">Title</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
  <tbody>${revisions.map(
    (r) => html`<tr>
    <td>${when(site, r.created_at)}</td>
    <td>${eventLabels[r.event] ?? r.event}${r.revision > 0 ? ` (revision ${r.revision})` : ''}</td>
    <td>${r.created_by ?? ''}</td>
    <td>${r.title}</td>
    <td>${
      newest && r.id !== newest.id
        ? html`<a href="/newsroom/articles/${article.id}/revisions/diff?from=${r.id}&amp;to=${newest.id}">Compare with the newest</a>
      <form method="post" action="/newsroom/articles/${article.id}/revisions/${r.id}/restore" class="editor-inline-form">${csrfInput(meta.csrf)}<button class="newsroom__button newsroom__button--quiet" type="submit">Restore<span class="visually-hidden"> the revision of ${formatDateTime(r.created_at, site.settings.locale, site.settings.timeZone)}</span></button></form>`
        : 'Newest'
    }</td>
  </tr>`,
  )}</tbody>
</table></div>`,
  );
}

function revisionName(site: SiteContext, r: RevisionRow): string {
  return `${formatDateTime(r.created_at, site.settings.locale, site.settings.timeZone)} — ${eventLabels[r.event] ?? r.event}${r.revision > 0 ? ` (revision ${r.revision})` : ''}`;
}

/** Insertions and deletions are `<ins>`/`<del>` with a spoken label and a visible mark, not colour alone. */
function diffParts(field: FieldDiff): SafeHtml {
  return html`${field.parts.map((part) =>
    part.added
      ? html`<ins><span class="visually-hidden">[inserted: </span>${part.value}<span class="visually-hidden">]</span></ins>`
      : part.removed
        ? html`<del><span class="visually-hidden">[deleted: </span>${part.value}<span class="visually-hidden">]</span></del>`
        : part.value,
  )}`;
}

export function diffPage(
  site: SiteContext,
  meta: { user: PageUser; csrf: string },
  article: ArticleRow,
  from: RevisionRow,
  to: RevisionRow,
  fields: FieldDiff[],
): string {
  const changed = fields.filter((f) => f.changed);
  return newsroomLayout(
    site,
    {
      title: `Differences: ${article.title}`,
      path: `/newsroom/articles/${article.id}/revisions/diff`,
      user: meta.user,
      csrf: meta.csrf,
    },
    html`<p class="editor-crumbs"><a href="/newsroom/articles/${article.id}/revisions">All revisions</a> · <a href="/newsroom/articles/${article.id}">Back to the editor</a></p>
<h1>Differences</h1>
<p>From <strong>${revisionName(site, from)}</strong> to <strong>${revisionName(site, to)}</strong>.
Inserted text is <ins class="editor-legend">underlined</ins>; deleted text is <del class="editor-legend">struck through</del>.</p>
${
  changed.length === 0
    ? html`<p>These two revisions are the same.</p>`
    : changed.map(
        (field) =>
          html`<section class="editor-diff" aria-label="${field.label}"><h2>${field.label}</h2><div class="editor-diff__text">${diffParts(field)}</div></section>`,
      )
}
${
  fields.length > changed.length
    ? html`<p>Unchanged: ${fields
        .filter((f) => !f.changed)
        .map((f) => f.label)
        .join(', ')}.</p>`
    : ''
}`,
  );
}
