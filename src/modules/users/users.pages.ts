import { html, type SafeHtml } from '../../web/html.ts';
import { layout, type SiteContext } from '../../web/templates/layout.ts';
import { csrfField } from './users.auth.ts';
import type { UserRow } from './users.table.ts';

// The newsroom's account pages. Every page is `noindex` and answered with `cache-control: no-store`.

function page(site: SiteContext, path: string, title: string, main: SafeHtml): string {
  return layout(site, { title, description: title, path, robots: 'noindex, nofollow' }, html`<section class="newsroom">${main}</section>`);
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

export function dashboardPage(site: SiteContext, options: { user: UserRow; csrf: string; isAdmin: boolean; notice?: string; error?: string }): string {
  const { user } = options;
  return page(
    site,
    '/newsroom',
    'Newsroom',
    html`<h1 class="article__headline">Newsroom</h1>
<p>Signed in as <strong>${user.name || user.email}</strong>${user.name ? html` (${user.email})` : ''} (${user.role}).</p>
${options.isAdmin ? html`<nav aria-label="Newsroom"><ul><li><a href="/newsroom/users">Users</a></li></ul></nav>` : ''}
${options.notice ? html`<p class="newsroom__notice" role="status">${options.notice}</p>` : ''}
<div class="newsroom__actions">
  <form method="post" action="/newsroom/sign-out">${csrfInput(options.csrf)}<button class="newsroom__button" type="submit">Sign out</button></form>
  <form method="post" action="/newsroom/sign-out-everywhere">${csrfInput(options.csrf)}<button class="newsroom__button newsroom__button--quiet" type="submit">Sign out everywhere</button></form>
</div>
<h2>${user.password_hash ? 'Change your password' : 'Set a password'}</h2>
${user.password_hash ? '' : html`<p>You signed in with a one-time link. Set a password to sign in with it next time.</p>`}
${options.error ? html`<p class="newsroom__error" role="alert" id="password-error">${options.error}</p>` : ''}
<form class="newsroom__form" method="post" action="/newsroom/password">
  ${csrfInput(options.csrf)}
  <input type="text" name="username" autocomplete="username" value="${user.email}" hidden>
  <label for="new-password">New password (at least 12 characters)</label>
  <input id="new-password" name="password" type="password" autocomplete="new-password" required minlength="12" maxlength="1024"${options.error ? html` aria-describedby="password-error"` : ''}>
  <label for="repeat-password">The same again</label>
  <input id="repeat-password" name="repeat" type="password" autocomplete="new-password" required minlength="12" maxlength="1024">
  <button class="newsroom__button" type="submit">Save the password</button>
</form>`,
  );
}

export function usersPage(site: SiteContext, users: UserRow[]): string {
  return page(
    site,
    '/newsroom/users',
    'Users',
    html`<h1 class="article__headline">Users</h1>
<p><a href="/newsroom">Back to the newsroom</a></p>
<table class="newsroom__table">
  <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Since</th><th scope="col">Status</th></tr></thead>
  <tbody>${users.map(
    (u) =>
      html`<tr><td>${u.name}</td><td>${u.email}</td><td>${u.role}</td><td>${u.created_at.slice(0, 10)}</td><td>${u.disabled_at ? 'disabled' : u.password_hash ? 'active' : 'link only'}</td></tr>`,
  )}</tbody>
</table>
<p>To add a user: <code>npx gazette user add &lt;email&gt; --role &lt;role&gt;</code>.</p>`,
  );
}
