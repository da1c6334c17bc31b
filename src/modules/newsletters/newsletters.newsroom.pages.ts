import { html, type SafeHtml } from '../../ui/html.ts';
import { barChart, type ChartPoint } from '../../ui/charts.ts';
import { subscriberGrowthChart } from '../subscribers/index.ts';
import { csrfInput } from '../../ui/newsroom-layout.ts';
import type { DeliveryCounts } from './newsletters.repository.ts';
import type { IssueRow } from './newsletters.table.ts';

// The newsroom's newsletter screens: the issue list, composing, an issue (preview, test send, send) and its
// live progress and delivery history.

export type IssueSummary = Omit<IssueRow, 'html' | 'text'>;

/** What the progress script polls, and what the page is first rendered with. */
export interface IssueProgressJson {
  id: number;
  status: IssueRow['status'];
  sent: number;
  failed: number;
  pending: number;
  skipped: number;
  total: number;
  percent: number;
  text: string;
}

export function issueProgressJson(issue: IssueSummary, counts: DeliveryCounts): IssueProgressJson {
  const pending = counts.queued + counts.sending;
  const total = counts.sent + counts.failed + pending;
  const percent =
    total === 0 ? (issue.status === 'draft' ? 0 : 100) : Math.floor(((counts.sent + counts.failed) / total) * 100);
  const text =
    issue.status === 'sent'
      ? `Finished: ${counts.sent} sent, ${counts.failed} failed.`
      : `${percent}%: ${counts.sent} sent, ${counts.failed} failed, ${pending} waiting.`;
  return {
    id: issue.id,
    status: issue.status,
    sent: counts.sent,
    failed: counts.failed,
    pending,
    skipped: counts.skipped,
    total,
    percent,
    text,
  };
}

function statusLabel(status: IssueRow['status']): string {
  return status === 'draft' ? 'draft' : status === 'sending' ? 'sending' : status === 'paused' ? 'paused' : 'sent';
}

export function issueListMain(issues: (IssueSummary & { counts: DeliveryCounts })[], growth: ChartPoint[]): SafeHtml {
  return html`<h1>Newsletter</h1>
<p><a class="newsroom__button" href="/newsroom/newsletters/new">Compose an issue</a></p>
${
  issues.length === 0
    ? html`<p>No issues yet.</p>`
    : html`<div class="table-scroll"><table class="newsroom__table issue-list">
<thead><tr><th scope="col">Subject</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Recipients</th><th scope="col">Sent</th><th scope="col">Failed</th><th scope="col">Waiting</th></tr></thead>
<tbody>${issues.map(
        (i) =>
          html`<tr><td><a href="/newsroom/newsletters/${i.id}">${i.subject}</a></td><td><span class="status status--${i.status}">${statusLabel(i.status)}</span></td><td>${i.created_at.slice(0, 10)}</td><td>${i.recipient_count}</td><td>${i.counts.sent}</td><td>${i.counts.failed}</td><td>${i.counts.queued + i.counts.sending}</td></tr>`,
      )}</tbody></table></div>`
}
<h2>Subscribers over time</h2>
${subscriberGrowthChart(growth)}`;
}

export interface ComposeView {
  csrf: string;
  articles: { id: number; title: string; publishedAt: string }[];
  subject: string;
  picked: Map<number, number | undefined>;
  error?: string | undefined;
}

export function composeMain(view: ComposeView): SafeHtml {
  return html`<p><a href="/newsroom/newsletters">All issues</a></p>
<h1>Compose an issue</h1>
${view.error ? html`<p class="newsroom__error" role="alert" id="compose-error">${view.error}</p>` : ''}
<form class="newsroom__form compose" method="post" action="/newsroom/newsletters">
  ${csrfInput(view.csrf)}
  <label for="issue-subject">Subject</label>
  <input id="issue-subject" name="subject" required maxlength="200" value="${view.subject}"${view.error ? html` aria-describedby="compose-error"` : ''}>
  <fieldset class="compose__articles">
    <legend>Articles (the first is shown in full; set a position to change the order)</legend>
    ${
      view.articles.length === 0
        ? html`<p>No published articles yet.</p>`
        : view.articles.map(
            (a) => html`<div class="compose__article">
      <input type="checkbox" id="article-${a.id}" name="articles" value="${a.id}"${view.picked.has(a.id) ? html` checked` : ''}>
      <label for="article-${a.id}">${a.title} <small>${a.publishedAt.slice(0, 10)}</small></label>
      <label class="compose__position" for="position-${a.id}">Position</label>
      <input class="compose__position-input" type="number" id="position-${a.id}" name="position_${a.id}" min="1" max="99" inputmode="numeric" value="${view.picked.get(a.id) ?? ''}">
    </div>`,
          )
    }
  </fieldset>
  <button class="newsroom__button" type="submit">Save and preview</button>
</form>`;
}

export interface IssueView {
  csrf: string;
  issue: IssueSummary;
  progress: IssueProgressJson;
  history: { period: 'minute' | 'hour'; points: { period: string; count: number }[] };
  notice?: string | undefined;
  error?: string | undefined;
  testTo?: string | undefined;
}

export function issueMain(view: IssueView): SafeHtml {
  const { issue, progress } = view;
  return html`<p><a href="/newsroom/newsletters">All issues</a></p>
<h1>${issue.subject}</h1>
<p>Issue ${issue.id} · <span class="status status--${issue.status}">${statusLabel(issue.status)}</span> · created ${issue.created_at.slice(0, 16).replace('T', ' ')}</p>
${view.notice ? html`<p class="newsroom__notice" role="status">${view.notice}</p>` : ''}
${view.error ? html`<p class="newsroom__error" role="alert" id="test-error">${view.error}</p>` : ''}
${
  issue.status === 'draft'
    ? html`<div class="newsroom__actions"><a class="newsroom__button" href="/newsroom/newsletters/${issue.id}/send">Send to subscribers…</a></div>
<h2>Test copy</h2>
<form class="newsroom__form newsroom__form--inline" method="post" action="/newsroom/newsletters/${issue.id}/test">
  ${csrfInput(view.csrf)}
  <label for="test-to">Send a test copy to</label>
  <input id="test-to" name="to" type="email" required maxlength="254" autocomplete="email" value="${view.testTo ?? ''}"${view.error ? html` aria-describedby="test-error"` : ''}>
  <button class="newsroom__button" type="submit">Send test</button>
</form>`
    : html`<h2>Delivery</h2>
<div class="live-progress" data-progress-url="/newsroom/newsletters/${issue.id}/progress.json" data-progress-status="${issue.status}">
  <label for="issue-progress">Delivered to the mail server</label>
  <progress id="issue-progress" max="100" value="${progress.percent}">${progress.percent}%</progress>
  <p role="status" data-progress-text>${progress.text}${issue.status === 'sent' ? '' : html` <a href="">Refresh</a> to see more.`}</p>
</div>
<dl class="facts delivery-counts">
  <dt>Recipients</dt><dd data-count="total">${progress.total}</dd>
  <dt>Sent</dt><dd data-count="sent">${progress.sent}</dd>
  <dt>Failed</dt><dd data-count="failed">${progress.failed}</dd>
  <dt>Waiting</dt><dd data-count="pending">${progress.pending}</dd>
  <dt>Skipped (unsubscribed or erased meanwhile)</dt><dd data-count="skipped">${progress.skipped}</dd>
</dl>
${barChart({
  id: 'sent-chart',
  title: `Messages sent per ${view.history.period}`,
  description: `${view.history.points.reduce((sum, p) => sum + p.count, 0)} messages accepted by the mail server over ${view.history.points.length} ${view.history.period}${view.history.points.length === 1 ? '' : 's'}.`,
  points: view.history.points.map((p) => ({
    label: p.period.replace('T', ' ') + (view.history.period === 'hour' ? ':00' : ''),
    value: p.count,
  })),
  labelHeading: view.history.period === 'minute' ? 'Minute (UTC)' : 'Hour (UTC)',
  valueHeading: 'Messages sent',
  shortLabel: (label) => label.slice(11),
})}`
}
<h2>Preview</h2>
<p><a href="/newsroom/newsletters/${issue.id}/preview" target="_blank" rel="noopener">Open the preview on its own</a></p>
<iframe class="mail-preview" src="/newsroom/newsletters/${issue.id}/preview" sandbox title="Preview of the mail: ${issue.subject}" loading="lazy"></iframe>`;
}

export function sendConfirmMain(csrf: string, issue: IssueSummary, recipients: number): SafeHtml {
  return html`<p><a href="/newsroom/newsletters/${issue.id}">Back to the issue</a></p>
<h1>Send “${issue.subject}”?</h1>
<p>It goes to <strong data-recipients>${recipients.toLocaleString('en')}</strong> confirmed ${recipients === 1 ? 'subscriber' : 'subscribers'} (fewer if some were erased or bounced). This cannot be undone.</p>
<form class="newsroom__actions" method="post" action="/newsroom/newsletters/${issue.id}/send">
  ${csrfInput(csrf)}
  <button class="newsroom__button" type="submit">Send now</button>
  <a href="/newsroom/newsletters/${issue.id}">Cancel</a>
</form>`;
}
