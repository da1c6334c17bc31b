import type { ArticleStatus } from '../modules/articles/index.ts';
import type { SubscriberStatus } from '../modules/subscribers/index.ts';
import type { UserRow } from '../modules/users/index.ts';
import { html, type SafeHtml } from '../ui/html.ts';
import { csrfInput } from '../ui/newsroom-layout.ts';

// The newsroom's first screen: what is waiting in each column of work, the newsletter at a glance, and
// the signed-in user's own account (password, sign out everywhere).

/** What the dashboard shows an editor or admin about the newsletter. */
export interface DashboardNewsletter {
  subscribers: Record<SubscriberStatus, number>;
  lastIssue: { id: number; subject: string; status: string; sent: number; failed: number; recipients: number } | null;
}

/** The article counts the dashboard shows, in the editor's order of work. */
const articleStatuses: readonly [ArticleStatus, string][] = [
  ['draft', 'Drafts'],
  ['scheduled', 'Scheduled'],
  ['published', 'Published'],
  ['unpublished', 'Unpublished'],
];

export function dashboardMain(options: {
  user: UserRow;
  csrf: string;
  newsletter: DashboardNewsletter | null;
  articles: ReadonlyMap<ArticleStatus, number>;
  notice?: string;
  error?: string;
}): SafeHtml {
  const { user, newsletter } = options;
  return html`<h1>Newsroom</h1>
<p>Signed in as <strong>${user.name || user.email}</strong>${user.name ? html` (${user.email})` : ''} (${user.role}).</p>
${options.notice ? html`<p class="newsroom__notice" role="status">${options.notice}</p>` : ''}
<div class="dashboard">
<section class="dashboard__card" aria-labelledby="dashboard-articles" data-dashboard="articles">
  <h2 id="dashboard-articles">Articles</h2>
  <dl class="facts">${articleStatuses.map(
    ([status, label]) =>
      html`<dt>${label}</dt><dd data-count="${status}"><a href="/newsroom/articles?status=${status}">${(options.articles.get(status) ?? 0).toLocaleString('en')}</a></dd>`,
  )}</dl>
  <p><a href="/newsroom/articles/new">New article</a> · <a href="/newsroom/articles">All articles</a></p>
</section>
${
  newsletter
    ? html`<section class="dashboard__card" aria-labelledby="dashboard-subscribers" data-dashboard="subscribers">
  <h2 id="dashboard-subscribers">Subscribers</h2>
  <dl class="facts">
    <dt>Confirmed</dt><dd data-count="confirmed">${newsletter.subscribers.confirmed.toLocaleString('en')}</dd>
    <dt>Waiting to confirm</dt><dd data-count="pending">${newsletter.subscribers.pending.toLocaleString('en')}</dd>
    <dt>Unsubscribed</dt><dd data-count="unsubscribed">${newsletter.subscribers.unsubscribed.toLocaleString('en')}</dd>
  </dl>
  <p><a href="/newsroom/subscribers">All subscribers</a></p>
</section>
<section class="dashboard__card" aria-labelledby="dashboard-newsletter" data-dashboard="newsletter">
  <h2 id="dashboard-newsletter">Last newsletter</h2>
  ${
    newsletter.lastIssue
      ? html`<p><a href="/newsroom/newsletters/${newsletter.lastIssue.id}">${newsletter.lastIssue.subject}</a></p>
  <p>${newsletter.lastIssue.status}${newsletter.lastIssue.status === 'draft' ? '' : html` · ${newsletter.lastIssue.sent} of ${newsletter.lastIssue.recipients} sent${newsletter.lastIssue.failed ? `, ${newsletter.lastIssue.failed} failed` : ''}`}</p>`
      : html`<p>No issue yet.</p>`
  }
  <p><a href="/newsroom/newsletters/new">Compose an issue</a></p>
</section>`
    : ''
}
</div>
<div class="newsroom__actions">
  <form method="post" action="/newsroom/sign-out-everywhere">${csrfInput(options.csrf)}<button class="newsroom__button newsroom__button--quiet" type="submit">Sign out everywhere</button></form>
</div>
<h2>${user.password_hash ? 'Change your password' : 'Set a password'}</h2>
${user.password_hash ? '' : html`<p>You signed in with a one-time link. Set a password to sign in with it next time.</p>`}
${options.error ? html`<p class="newsroom__error" role="alert" id="password-error">${options.error}</p>` : ''}
<form class="newsroom__form" method="post" action="/newsroom/password">
  ${csrfInput(options.csrf)}
  <input type="text" name="username" autocomplete="username" value="${user.email}" hidden>
  ${
    user.password_hash
      ? html`<label for="current-password">Current password</label>
  <input id="current-password" name="current" type="password" autocomplete="current-password" required maxlength="1024">`
      : ''
  }
  <label for="new-password">New password (at least 12 characters)</label>
  <input id="new-password" name="password" type="password" autocomplete="new-password" required minlength="12" maxlength="1024"${options.error ? html` aria-describedby="password-error"` : ''}>
  <label for="repeat-password">The same again</label>
  <input id="repeat-password" name="repeat" type="password" autocomplete="new-password" required minlength="12" maxlength="1024">
  <button class="newsroom__button" type="submit">Save the password</button>
</form>`;
}
