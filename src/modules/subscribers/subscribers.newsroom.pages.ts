import { html, type SafeHtml } from '../../ui/html.ts';
import { barChart, type ChartPoint } from '../../ui/charts.ts';
import { csrfInput } from '../../ui/newsroom-layout.ts';
import { parseConsentDetail } from './subscribers.csv.ts';
import type { ImportProgress } from './subscribers.imports.ts';
import type { ConsentEventRow, SubscriberRow, SubscriberStatus } from './subscribers.table.ts';

// The newsroom's subscriber screens: the list (search, status filter with counts, pages), one subscriber
// with their consent record, and a CSV import's progress and result.

export const subscriberStatuses: readonly SubscriberStatus[] = ['pending', 'confirmed', 'unsubscribed'];

export interface SubscriberListView {
  csrf: string;
  query: string;
  status: SubscriberStatus | undefined;
  counts: Record<SubscriberStatus, number>;
  rows: SubscriberRow[];
  /** The keyset of the next (older) page, if there is one. */
  nextBefore: number | undefined;
  /** Whether this is a later page (so "Newest" is offered). */
  paged: boolean;
  growth: ChartPoint[];
  maxImportMegabytes: number;
  error?: string | undefined;
  source?: string | undefined;
}

function listUrl(query: string, status: SubscriberStatus | undefined, before?: number): string {
  const params = new URLSearchParams();
  if (query) params.set('q', query);
  if (status) params.set('status', status);
  if (before !== undefined) params.set('before', String(before));
  const text = params.toString();
  return `/newsroom/subscribers${text ? `?${text}` : ''}`;
}

export function subscriberListMain(view: SubscriberListView): SafeHtml {
  const total = subscriberStatuses.reduce((sum, s) => sum + view.counts[s], 0);
  const filters: { status: SubscriberStatus | undefined; label: string; count: number }[] = [
    { status: undefined, label: 'All', count: total },
    ...subscriberStatuses.map((s) => ({ status: s, label: s[0]!.toUpperCase() + s.slice(1), count: view.counts[s] })),
  ];
  return html`<h1>Subscribers</h1>
<form class="newsroom-search" method="get" action="/newsroom/subscribers" role="search">
  <label for="subscriber-q">Search by address</label>
  <input id="subscriber-q" name="q" type="search" maxlength="254" value="${view.query}" autocomplete="off">
  <label for="subscriber-status">Status</label>
  <select id="subscriber-status" name="status">
    <option value=""${view.status ? '' : html` selected`}>Any</option>
    ${subscriberStatuses.map((s) => html`<option value="${s}"${view.status === s ? html` selected` : ''}>${s}</option>`)}
  </select>
  <button class="newsroom__button" type="submit">Search</button>
</form>
<nav aria-label="Filter by status"><ul class="status-filters">${filters.map(
    (f) =>
      html`<li><a href="${listUrl(view.query, f.status)}"${f.status === view.status ? html` aria-current="true"` : ''}>${f.label} <span class="status-filters__count" data-status="${f.status ?? 'all'}">${f.count.toLocaleString('en')}</span></a></li>`,
  )}</ul></nav>
${
  view.rows.length === 0
    ? html`<p>No subscribers match.</p>`
    : html`<div class="table-scroll"><table class="newsroom__table subscriber-list">
<caption class="visually-hidden">Subscribers, newest first</caption>
<thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Came by</th><th scope="col">Since</th></tr></thead>
<tbody>${view.rows.map(
        (s) =>
          html`<tr><td><a href="/newsroom/subscribers/${s.id}">${s.email}</a></td><td>${s.name ?? ''}</td><td><span class="status status--${s.status}">${s.status}</span></td><td>${s.source === 'form' ? 'sign-up form' : 'import'}</td><td>${s.created_at.slice(0, 10)}</td></tr>`,
      )}</tbody></table></div>`
}
<nav class="pager" aria-label="Pages">
  ${view.paged ? html`<a href="${listUrl(view.query, view.status)}">Newest</a>` : ''}
  ${view.nextBefore !== undefined ? html`<a rel="next" href="${listUrl(view.query, view.status, view.nextBefore)}">Older</a>` : ''}
</nav>
${subscriberGrowthChart(view.growth)}
<h2>Export</h2>
<p><a class="newsroom__button" href="/newsroom/subscribers/export.csv" download>Download every subscriber as CSV</a></p>
<h2 id="import">Import a list</h2>
<p>A CSV file with a header row: <code>email</code> (required), <code>name</code>, <code>status</code> (<code>confirmed</code> only if they confirmed elsewhere), <code>consented_at</code>. Up to ${view.maxImportMegabytes} MB. Known and erased addresses are skipped; bad rows are listed by line.</p>
${view.error ? html`<p class="newsroom__error" role="alert" id="import-error">${view.error}</p>` : ''}
<form class="newsroom__form" method="post" action="/newsroom/subscribers/import" enctype="multipart/form-data" data-import-form>
  ${csrfInput(view.csrf)}
  <label for="import-source">Where the list came from and how its readers consented</label>
  <textarea id="import-source" name="source" required maxlength="1000" rows="3"${view.error ? html` aria-describedby="import-error"` : ''}>${view.source ?? ''}</textarea>
  <label for="import-file">CSV file</label>
  <input id="import-file" name="file" type="file" accept=".csv,text/csv" required>
  <button class="newsroom__button" type="submit">Import</button>
</form>`;
}

function when(iso: string | null): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';
}

/** One subscriber and the auditable record of their consent, exactly as stored. */
export function subscriberDetailMain(subscriber: SubscriberRow, events: ConsentEventRow[]): SafeHtml {
  return html`<p><a href="/newsroom/subscribers">All subscribers</a></p>
<h1>${subscriber.email}</h1>
<dl class="facts">
  <dt>Name</dt><dd>${subscriber.name ?? '—'}</dd>
  <dt>Status</dt><dd><span class="status status--${subscriber.status}">${subscriber.status}</span></dd>
  <dt>Came by</dt><dd>${subscriber.source === 'form' ? 'sign-up form' : 'import'}</dd>
  <dt>Signed up</dt><dd>${when(subscriber.created_at)}</dd>
  <dt>Confirmed</dt><dd>${when(subscriber.confirmed_at) || '—'}</dd>
  <dt>Unsubscribed</dt><dd>${when(subscriber.unsubscribed_at) || '—'}</dd>
  <dt>Hard bounces</dt><dd>${subscriber.hard_bounce_count}</dd>
</dl>
<h2>Consent record</h2>
<p>Every event as it was recorded; events are never changed afterwards.</p>
${
  events.length === 0
    ? html`<p>No consent events.</p>`
    : html`<ol class="consent-events">${events.map((e) => {
        const detail = parseConsentDetail(e.detail);
        return html`<li class="consent-event">
<h3>${e.kind} <time datetime="${e.created_at}">${when(e.created_at)}</time></h3>
<dl class="facts">
  ${e.terms_version !== null ? html`<dt>Terms</dt><dd><a href="/terms?version=${e.terms_version}">version ${e.terms_version}</a> <code class="hash">${e.terms_hash ?? ''}</code></dd>` : ''}
  ${e.privacy_version !== null ? html`<dt>Privacy policy</dt><dd><a href="/privacy?version=${e.privacy_version}">version ${e.privacy_version}</a> <code class="hash">${e.privacy_hash ?? ''}</code></dd>` : ''}
  ${e.form_wording !== null ? html`<dt>Wording shown</dt><dd>${e.form_wording}</dd>` : ''}
  ${e.source_url !== null ? html`<dt>Page</dt><dd>${e.source_url}</dd>` : ''}
  ${e.ip !== null ? html`<dt>IP address (as stored)</dt><dd>${e.ip}</dd>` : ''}
  ${e.user_agent !== null ? html`<dt>Browser</dt><dd>${e.user_agent}</dd>` : ''}
  ${typeof detail.source === 'string' ? html`<dt>Provenance</dt><dd>${detail.source}</dd>` : ''}
  ${typeof detail.file === 'string' ? html`<dt>File</dt><dd>${detail.file}${typeof detail.line === 'number' ? `, line ${detail.line}` : ''}</dd>` : ''}
  ${typeof detail.consented_at === 'string' ? html`<dt>Consented (per the list)</dt><dd>${detail.consented_at}</dd>` : ''}
</dl>
</li>`;
      })}</ol>`
}`;
}

/** The JSON the progress script polls (and the page renders from). */
export function importProgressJson(progress: ImportProgress) {
  return {
    id: progress.id,
    status: progress.status,
    rows: progress.rows,
    bytesRead: progress.bytesRead,
    size: progress.size,
    percent: progress.size > 0 ? Math.floor((progress.bytesRead / progress.size) * 100) : 100,
    summary: progress.summary,
    badRowCount: progress.summary?.bad ?? progress.badRows.length,
    error: progress.error,
  };
}

export function importMain(progress: ImportProgress): SafeHtml {
  const json = importProgressJson(progress);
  return html`<p><a href="/newsroom/subscribers">All subscribers</a></p>
<h1>Import of ${progress.fileName}</h1>
<p>Provenance: ${progress.source}</p>
<div class="live-progress" data-progress-url="/newsroom/subscribers/imports/${progress.id}.json" data-progress-status="${progress.status}">
  <label for="import-progress">Imported so far</label>
  <progress id="import-progress" max="100" value="${json.percent}">${json.percent}%</progress>
  <p role="status" data-progress-text>${
    progress.status === 'running'
      ? html`${json.percent}% · ${progress.rows.toLocaleString('en')} rows read. <a href="">Refresh</a> to see more.`
      : progress.status === 'done'
        ? 'Finished.'
        : html`Stopped: ${progress.error ?? ''}`
  }</p>
</div>
${
  progress.summary
    ? html`<h2>Result</h2>
<ul class="import-summary">
  <li><span data-result="imported">${progress.summary.imported}</span> imported (${progress.summary.confirmed} confirmed)</li>
  <li><span data-result="known">${progress.summary.known}</span> skipped: already on the list</li>
  <li><span data-result="suppressed">${progress.summary.suppressed}</span> skipped: erased or bounced before</li>
  <li><span data-result="bad">${progress.summary.bad}</span> bad rows</li>
</ul>
${
  progress.badRows.length > 0
    ? html`<h3>Bad rows</h3>${progress.summary.bad > progress.badRows.length ? html`<p>The first ${progress.badRows.length} of ${progress.summary.bad}:</p>` : ''}
<div class="table-scroll"><table class="newsroom__table bad-rows"><thead><tr><th scope="col">Line</th><th scope="col">Problem</th></tr></thead>
<tbody>${progress.badRows.map((b) => html`<tr><td>${b.line ?? '?'}</td><td>${b.message}</td></tr>`)}</tbody></table></div>`
    : ''
}`
    : ''
}`;
}

/** The "subscribers over time" chart: confirmations per day (newsletter and subscriber screens). */
export function subscriberGrowthChart(growth: readonly ChartPoint[]): SafeHtml {
  return barChart({
    id: 'growth-chart',
    title: `Confirmed subscribers per day, last ${growth.length} days`,
    description: `${growth.reduce((sum, p) => sum + p.value, 0)} readers confirmed in the last ${growth.length} days; the busiest day had ${Math.max(0, ...growth.map((p) => p.value))}.`,
    points: growth,
    labelHeading: 'Day',
    valueHeading: 'Confirmed',
    shortLabel: (day) => day.slice(5),
  });
}
