import { html, type SafeHtml } from '../../ui/html.ts';
import { layout, type SiteContext } from '../../ui/layout.ts';
import { csrfInput } from '../../ui/newsroom-layout.ts';
import { roles, type Role, type UserRow } from './users.table.ts';

// The newsroom's account pages. Every page is `noindex` and answered with `cache-control: no-store`.

function page(site: SiteContext, path: string, title: string, main: SafeHtml): string {
  return layout(
    site,
    { title, description: title, path, robots: 'noindex, nofollow', stylesheets: ['newsroom.css'] },
    html`<section class="newsroom">${main}</section>`,
  );
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
