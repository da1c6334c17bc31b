import { html, type SafeHtml } from '../../ui/html.ts';
import { csrfInput } from '../../ui/newsroom-layout.ts';
import type { LegalDocumentRow, LegalKind } from './legal.table.ts';

// The admin's legal documents screen: edit the Terms and the Privacy policy; each save is a new version.

export const legalKinds: readonly { kind: LegalKind; label: string; defaultTitle: string; path: string }[] = [
  { kind: 'terms', label: 'Terms', defaultTitle: 'Terms and conditions', path: '/terms' },
  { kind: 'privacy', label: 'Privacy policy', defaultTitle: 'Privacy policy', path: '/privacy' },
];

export interface LegalDocumentState {
  current: LegalDocumentRow | undefined;
  versions: Omit<LegalDocumentRow, 'body_markdown'>[];
  /** What the form shows after a refused save: the text as typed. */
  draft?: { title: string; body: string; error: string } | undefined;
}

export function legalMain(
  csrf: string,
  documents: Record<LegalKind, LegalDocumentState>,
  saved: LegalKind | undefined,
): SafeHtml {
  return html`<h1>Legal documents</h1>
<p>Saving publishes a new version at once: the public page shows it, and every sign-up from then on records it. Old versions stay readable, since consent records cite them.</p>
${saved ? html`<p class="newsroom__notice" role="status">The ${legalKinds.find((k) => k.kind === saved)?.label ?? saved} are published as version ${documents[saved].current?.version ?? ''}.</p>` : ''}
${legalKinds.map(({ kind, label, defaultTitle, path }) => {
  const state = documents[kind];
  const { current, draft } = state;
  const errorId = `${kind}-error`;
  return html`<section class="legal-editor" aria-labelledby="${kind}-heading">
<h2 id="${kind}-heading">${label}</h2>
<p>${current ? html`Current: <a href="${path}">version ${current.version}</a>, published ${current.published_at.slice(0, 16).replace('T', ' ')} UTC, hash <code class="hash">${current.content_hash.slice(0, 12)}</code>.` : 'Not published yet.'}</p>
${draft ? html`<p class="newsroom__error" role="alert" id="${errorId}">${draft.error}</p>` : ''}
<form class="newsroom__form" method="post" action="/newsroom/legal/${kind}">
  ${csrfInput(csrf)}
  <label for="${kind}-title">Title</label>
  <input id="${kind}-title" name="title" required maxlength="200" value="${draft?.title ?? current?.title ?? defaultTitle}"${draft ? html` aria-describedby="${errorId}"` : ''}>
  <label for="${kind}-body">Text (Markdown)</label>
  <textarea id="${kind}-body" name="body" required rows="16" maxlength="200000">${draft?.body ?? current?.body_markdown ?? ''}</textarea>
  <button class="newsroom__button" type="submit">Publish a new version of the ${label}</button>
</form>
${
  state.versions.length > 0
    ? html`<details><summary>History (${state.versions.length} ${state.versions.length === 1 ? 'version' : 'versions'})</summary>
<ol class="legal-history" reversed>${state.versions.map(
        (v) =>
          html`<li><a href="${path}?version=${v.version}">Version ${v.version}</a> · ${v.title} · ${v.published_at.slice(0, 16).replace('T', ' ')} UTC · <code class="hash">${v.content_hash.slice(0, 12)}</code></li>`,
      )}</ol></details>`
    : ''
}
</section>`;
})}`;
}
