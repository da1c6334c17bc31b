import { html, type SafeHtml } from '../../ui/html.ts';
import { csrfInput } from '../../ui/newsroom-layout.ts';
import { webhookEventNames } from './webhooks.events.ts';
import type { DeliveryView, EndpointView } from './webhooks.service.ts';

// The admin's webhooks screens: register an endpoint, list them with their deliveries, rotate a secret,
// remove one. Whatever an endpoint answered is shown as text through the escaping `html` tag, never as markup.

export interface WebhooksPageView {
  csrf: string;
  endpoints: EndpointView[];
  /** A secret just made (registration or rotation), shown once. */
  secret?: { endpointId: number; value: string; rotated: boolean } | undefined;
  notice?: string | undefined;
  error?: string | undefined;
  /** The form as typed, after a refusal. */
  draft?: { url: string; events: string[]; allowPrivate: boolean } | undefined;
}

const time = (iso: string | null) => (iso ? `${iso.slice(0, 19).replace('T', ' ')} UTC` : '');

export function webhooksMain(view: WebhooksPageView): SafeHtml {
  const draft = view.draft;
  return html`<h1>Webhooks</h1>
<p>Gazette tells other systems what happened by POSTing a JSON event to their endpoint, signed per the Standard Webhooks
specification (<code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>). A delivery that is
not answered with a 2xx is retried for a day; one article's events arrive in order.</p>
${view.notice ? html`<p class="newsroom__notice" role="status">${view.notice}</p>` : ''}
${view.error ? html`<p class="newsroom__error" role="alert" id="webhook-error">${view.error}</p>` : ''}
${
  view.secret
    ? html`<div class="newsroom__notice" role="status"><p>${view.secret.rotated ? 'The new' : 'The'} signing secret of webhook ${view.secret.endpointId}, shown only this once${view.secret.rotated ? ' (the previous one also signs for 24 hours)' : ''}:</p>
<p><code class="webhook-secret">${view.secret.value}</code></p></div>`
    : ''
}
${
  view.endpoints.length === 0
    ? html`<p>No endpoints yet.</p>`
    : html`<div class="table-scroll"><table class="newsroom__table webhook-list">
<caption class="visually-hidden">Webhook endpoints</caption>
<thead><tr><th scope="col">#</th><th scope="col">Endpoint</th><th scope="col">Events</th><th scope="col">Deliveries</th><th scope="col">Actions</th></tr></thead>
<tbody>${view.endpoints.map(
        (e) => html`<tr>
<td>${e.id}</td>
<td><a href="/newsroom/webhooks/${e.id}">${e.url}</a>${e.allowPrivate ? html`<br><small>private addresses allowed</small>` : ''}</td>
<td>${e.events.join(', ')}</td>
<td>${e.counts.delivered} delivered, ${e.counts.queued + e.counts.sending} waiting, ${e.counts.failed} failed</td>
<td><form class="inline-form" method="post" action="/newsroom/webhooks/${e.id}/rotate">${csrfInput(view.csrf)}<button class="newsroom__button newsroom__button--quiet" type="submit">Rotate secret<span class="visually-hidden"> of webhook ${e.id}</span></button></form>
<form class="inline-form" method="post" action="/newsroom/webhooks/${e.id}/remove">${csrfInput(view.csrf)}<button class="newsroom__button newsroom__button--quiet" type="submit">Remove<span class="visually-hidden"> webhook ${e.id}</span></button></form></td>
</tr>`,
      )}</tbody></table></div>`
}
<h2 id="register-heading">Register an endpoint</h2>
<form class="newsroom__form" method="post" action="/newsroom/webhooks" aria-labelledby="register-heading">
  ${csrfInput(view.csrf)}
  <label for="webhook-url">Endpoint URL</label>
  <input id="webhook-url" name="url" type="url" required maxlength="2000" value="${draft?.url ?? ''}"${view.error ? html` aria-describedby="webhook-error"` : ''}>
  <fieldset><legend>Events</legend>
  ${[...webhookEventNames, 'post.*', 'page.*', 'subscriber.*'].map(
    (name) =>
      html`<label class="checkbox"><input type="checkbox" name="events" value="${name}"${draft?.events.includes(name) ? html` checked` : ''}> <code>${name}</code></label>`,
  )}
  </fieldset>
  <label class="checkbox"><input type="checkbox" name="allow_private" value="1"${draft?.allowPrivate ? html` checked` : ''}> Allow private addresses (loopback, 10.x, 192.168.x, link-local…) for this endpoint</label>
  <button class="newsroom__button" type="submit">Register</button>
</form>`;
}

export function webhookDeliveriesMain(endpoint: EndpointView, deliveries: DeliveryView[]): SafeHtml {
  return html`<h1>Webhook ${endpoint.id}</h1>
<p><a href="/newsroom/webhooks">All webhooks</a></p>
<p>${endpoint.url} · ${endpoint.events.join(', ')}${endpoint.allowPrivate ? ' · private addresses allowed' : ''}</p>
<h2>Recent deliveries</h2>
${
  deliveries.length === 0
    ? html`<p>Nothing has been sent to this endpoint yet.</p>`
    : html`<div class="table-scroll"><table class="newsroom__table webhook-deliveries">
<caption class="visually-hidden">The latest deliveries, newest first</caption>
<thead><tr><th scope="col">Event</th><th scope="col">Created</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Response time</th></tr></thead>
<tbody>${deliveries.map(
        (d) => html`<tr>
<td><code>${d.event}</code> <small>${d.subject}</small></td>
<td>${time(d.created_at)}</td>
<td>${d.status}${d.status === 'queued' && Number(d.attempts) > 0 ? html`, next try ${time(d.next_attempt_at)}` : ''}</td>
<td>${Number(d.attempts)}</td>
<td>${d.last_status ?? ''}${d.last_error ? html` <small>${d.last_error}</small>` : ''}</td>
<td>${d.last_duration_ms === null ? '' : `${d.last_duration_ms} ms`}</td>
</tr>${
          d.log.length > 0
            ? html`<tr><td colspan="6"><details><summary>Attempts of ${d.message_id}</summary><ol>${d.log.map(
                (a) =>
                  html`<li>${time(a.attempted_at)}: ${a.status_code ?? 'no answer'} in ${a.duration_ms} ms${a.error ? html` (${a.error})` : ''}${
                    a.response_excerpt ? html`<pre class="webhook-response">${a.response_excerpt}</pre>` : ''
                  }</li>`,
              )}</ol></details></td></tr>`
            : ''
        }`,
      )}</tbody></table></div>`
}`;
}
