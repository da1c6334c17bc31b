import { html, type SafeHtml } from '../../ui/html.ts';
import { layout, type SiteContext } from '../../ui/layout.ts';
import { csrfField } from './users.auth.ts';
import type { ArticleStatus } from '../articles/articles.table.ts';
import type { SubscriberStatus } from '../subscribers/subscribers.table.ts';
import { roles, type Role, type UserRow } from './users.table.ts';

// The newsroom's account pages. Every page is `noindex` and answered with `cache-control: no-store`.

function page(site: SiteContext, path: string, title: string, main: SafeHtml): string {
  return layout(site, { title, description: title, path, robots: 'noindex, nofollow', stylesheets: ['newsroom.css'] }, html`<section class="newsroom">${main}</section>`);
}

function csrfInput(token: string): SafeHtml {
  return html`<input type="hidden" name="${csrfField}" value="${token}">`;
}

export function signInPage(site: SiteContext, options: { csrf: string; email?: string; error?: string }): string {
  return page(
    site,
    '/newsroom/sign-in',
    'Sign in to the newsroom',
    html`<h1 class="article__headline">Sign in to the newsroom</h1>
${options.error ? html`<p class="newsroom__error" role="alert" id="sign-in-error">${options.error}</p>` : ''}
<form class="newsroom__form" method="post" action="/newsroom/sign-in">
  ${csrfInput(options.csrf)}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required maxlength="254" value="${options.email ?? ''}"${options.error ? html` aria-describedby="sign-in-error"` : ''}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
  <button class="newsroom__button" type="submit">Sign in</button>
</form>
<p>No password yet? Ask an admin for a sign-in link.</p>`,
  );
}

/** The GET of a sign-in link: a button that POSTs, so a mail scanner fetching the link uses nothing up. */
export function signInLinkPage(site: SiteContext, options: { csrf: string; token: string }): string {
  return page(
    site,
    '/newsroom/sign-in/link',
    'Sign in to the newsroom',
    html`<h1 class="article__headline">Sign in to the newsroom</h1>
<p>This link signs you in once. Press the button to continue.</p>
<form class="newsroom__form" method="post" action="/newsroom/sign-in/link">
  ${csrfInput(options.csrf)}
  <input type="hidden" name="token" value="${options.token}">
  <button class="newsroom__button" type="submit">Sign in</button>
</form>`,
  );
}

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
    ([status, label]) => html`<dt>${label}</dt><dd data-count="${status}"><a href="/newsroom/articles?status=${status}">${(options.articles.get(status) ?? 0).toLocaleString('en')}</a></dd>`,
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
  ${user.password_hash ? html`<label for="current-password">Current password</label>
  <input id="current-password" name="current" type="password" autocomplete="current-password" required maxlength="1024">` : ''}
  <label for="new-password">New password (at least 12 characters)</label>
  <input id="new-password" name="password" type="password" autocomplete="new-password" required minlength="12" maxlength="1024"${options.error ? html` aria-describedby="password-error"` : ''}>
  <label for="repeat-password">The same again</label>
  <input id="repeat-password" name="repeat" type="password" autocomplete="new-password" required minlength="12" maxlength="1024">
  <button class="newsroom__button" type="submit">Save the password</button>
</form>`;
}

export interface UsersView {
  csrf: string;
  users: UserRow[];
  me: number;
  notice?: string | undefined;
  error?: string | undefined;
  /** A link to pass on by hand, when the invitation mail could not be sent. */
  link?: string | undefined;
  invite?: { email: string; name: string; role: Role } | undefined;
}

function roleSelect(id: string, selected: Role, describedBy?: string): SafeHtml {
  return html`<select id="${id}" name="role"${describedBy ? html` aria-describedby="${describedBy}"` : ''}>${roles.map((r) => html`<option value="${r}"${r === selected ? html` selected` : ''}>${r}</option>`)}</select>`;
}

export function usersMain(view: UsersView): SafeHtml {
  return html`<h1>Users</h1>
${view.notice ? html`<p class="newsroom__notice" role="status">${view.notice}</p>` : ''}
${view.error ? html`<p class="newsroom__error" role="alert" id="users-error">${view.error}</p>` : ''}
${view.link ? html`<p>Pass this one-time sign-in link on yourself: <code class="sign-in-link">${view.link}</code></p>` : ''}
<div class="table-scroll"><table class="newsroom__table user-list">
  <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Since</th><th scope="col">Status</th><th scope="col">Access</th></tr></thead>
  <tbody>${view.users.map((u) => {
    const status = u.disabled_at ? 'disabled' : u.password_hash ? 'active' : 'link only';
    return html`<tr><td>${u.name}</td><td>${u.email}</td><td>${u.role}</td><td>${u.created_at.slice(0, 10)}</td><td>${status}</td><td>
<form class="inline-form" method="post" action="/newsroom/users/${u.id}/role">${csrfInput(view.csrf)}<label class="visually-hidden" for="role-${u.id}">Role of ${u.email}</label>${roleSelect(`role-${u.id}`, u.role)}<button class="newsroom__button newsroom__button--quiet" type="submit">Change role<span class="visually-hidden"> of ${u.email}</span></button></form>
<form class="inline-form" method="post" action="/newsroom/users/${u.id}/${u.disabled_at ? 'enable' : 'disable'}">${csrfInput(view.csrf)}<button class="newsroom__button newsroom__button--quiet" type="submit">${u.disabled_at ? 'Enable' : 'Disable'}<span class="visually-hidden"> ${u.email}</span></button></form>
</td></tr>`;
  })}</tbody>
</table></div>
<h2>Invite someone</h2>
<p>They get an email with a one-time sign-in link, valid for 24 hours.</p>
<form class="newsroom__form" method="post" action="/newsroom/users/invite">
  ${csrfInput(view.csrf)}
  <label for="invite-email">Email</label>
  <input id="invite-email" name="email" type="email" required maxlength="254" autocomplete="off" value="${view.invite?.email ?? ''}">
  <label for="invite-name">Name</label>
  <input id="invite-name" name="name" maxlength="200" autocomplete="off" value="${view.invite?.name ?? ''}">
  <label for="invite-role">Role</label>
  ${roleSelect('invite-role', view.invite?.role ?? 'contributor')}
  <button class="newsroom__button" type="submit">Send the invitation</button>
</form>
<p>From the command line: <code>npx gazette user add &lt;email&gt; --role &lt;role&gt;</code>.</p>`;
}
