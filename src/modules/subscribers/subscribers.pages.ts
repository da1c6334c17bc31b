import { html, type SafeHtml } from '../../ui/html.ts';
import { signupBlock } from '../../ui/components.ts';
import { layout, type SiteContext } from '../../ui/layout.ts';
import type { SubscriberRow } from './subscribers.table.ts';

// The pages of sign-up and self-service, and the two mails sign-up sends. Every page is `noindex`: they
// are answers to one visitor, reached through personal links.

function page(site: SiteContext, path: string, title: string, main: SafeHtml): string {
  return layout(
    site,
    { title, description: title, path, robots: 'noindex' },
    html`<section class="newsletter-page">${main}</section>`,
  );
}

/** After a sign-up, whatever happened: the same words for a new, a known and a suppressed address. */
export function checkInboxPage(site: SiteContext): string {
  return page(
    site,
    '/newsletter/subscribe',
    'Check your inbox',
    html`<h1 class="article__headline">Check your inbox</h1>
<p>If the address can receive ${site.settings.newsletterName}, a message is on its way with a link to confirm your subscription. The link works for 48 hours.</p>
<p>Nothing else is sent until you confirm. If nothing arrives, look in your spam folder, or sign up again later.</p>
<p><a href="/">Back to the front page</a></p>`,
  );
}

/** The sign-up form again, with the message next to the field and what was typed (nothing was stored). */
export function signupAgainPage(
  site: SiteContext,
  options: { error: string; email: string; sourcePath: string; invalid: 'email' | 'consent' },
): string {
  return page(
    site,
    '/newsletter/subscribe',
    'Sign up for the newsletter',
    html`<h1 class="visually-hidden">Sign up</h1>${signupBlock(site.settings, options)}`,
  );
}

/** The GET of a confirmation link: one button that POSTs, so a scanner fetching the link confirms nothing. */
export function confirmPage(site: SiteContext, token: string): string {
  return page(
    site,
    '/newsletter/confirm',
    'Confirm your subscription',
    html`<h1 class="article__headline">Confirm your subscription</h1>
<p>Press the button to start receiving ${site.settings.newsletterName}. You can unsubscribe at any time from a link in every mail.</p>
<form method="post" action="/newsletter/confirm">
  <input type="hidden" name="token" value="${token}">
  <button class="signup__button" type="submit">Confirm my subscription</button>
</form>`,
  );
}

export function confirmedPage(site: SiteContext, manageToken: string): string {
  return page(
    site,
    '/newsletter/confirm',
    'Subscription confirmed',
    html`<h1 class="article__headline">You are subscribed</h1>
<p>Thank you: ${site.settings.newsletterName} will arrive in your inbox. Every mail has a link to unsubscribe.</p>
<p><a href="/newsletter/me?token=${manageToken}">Your subscription and your data</a></p>`,
  );
}

/**
 * A confirmation link pressed when the address is confirmed already (the reader signed up twice and pressed
 * both links, or pressed one twice). No manage link: the first confirmation showed it, and every mail has one.
 */
export function alreadyConfirmedPage(site: SiteContext): string {
  return page(
    site,
    '/newsletter/confirm',
    'Already confirmed',
    html`<h1 class="article__headline">Already confirmed</h1>
<p>This address is already subscribed to ${site.settings.newsletterName}: there is nothing more to do. Every mail has a link to unsubscribe.</p>`,
  );
}

export function unsubscribePage(site: SiteContext, token: string): string {
  return page(
    site,
    '/newsletter/unsubscribe',
    'Unsubscribe',
    html`<h1 class="article__headline">Unsubscribe</h1>
<p>Press the button to stop receiving ${site.settings.newsletterName}.</p>
<form method="post" action="/newsletter/unsubscribe?token=${token}">
  <button class="signup__button" type="submit">Unsubscribe</button>
</form>`,
  );
}

export function unsubscribedPage(site: SiteContext): string {
  return page(
    site,
    '/newsletter/unsubscribe',
    'Unsubscribed',
    html`<h1 class="article__headline">You are unsubscribed</h1>
<p>You will receive no more of ${site.settings.newsletterName}. You can sign up again at any time.</p>
<p><a href="/">Back to the front page</a></p>`,
  );
}

const statusWords: Record<SubscriberRow['status'], string> = {
  pending: 'waiting for you to confirm (nothing is sent until then)',
  confirmed: 'subscribed',
  unsubscribed: 'unsubscribed',
};

/** Self-service: status, download my data, unsubscribe, delete me. */
export function managePage(site: SiteContext, subscriber: SubscriberRow, token: string): string {
  return page(
    site,
    '/newsletter/me',
    'Your subscription',
    html`<h1 class="article__headline">Your subscription</h1>
<p>Address: <strong>${subscriber.email}</strong>. Status: ${statusWords[subscriber.status]}.</p>
<h2>Your data</h2>
<p><a href="/newsletter/me/data?token=${token}" download="newsletter-data.json">Download my data (JSON)</a>: your subscription and every consent record we keep.</p>
${
  subscriber.status === 'unsubscribed'
    ? ''
    : html`<h2>Unsubscribe</h2>
<form method="post" action="/newsletter/unsubscribe?token=${token}"><button class="signup__button" type="submit">Unsubscribe</button></form>`
}
<h2>Delete me</h2>
<p>Deletes your address. We keep only a one-way hash of it, so that it is never mailed again, and the consent records without your address.</p>
<form method="post" action="/newsletter/me/delete?token=${token}"><button class="signup__button" type="submit">Delete my address</button></form>`,
  );
}

export function erasedPage(site: SiteContext): string {
  return page(
    site,
    '/newsletter/me',
    'Address deleted',
    html`<h1 class="article__headline">Your address is deleted</h1>
<p>We keep only a one-way hash of it, so that it is never mailed again.</p>
<p><a href="/">Back to the front page</a></p>`,
  );
}

export interface MailNames {
  publicationName: string;
  newsletterName: string;
}

interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

function mailDocument(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head>
<body style="margin:0;padding:24px;background:#fbfaf7;color:#141414;font-family:Georgia,serif;font-size:17px;line-height:1.5">
<div style="max-width:560px;margin:0 auto">${body}</div>
</body></html>`.value;
}

/** The double opt-in mail: the only mail an unconfirmed address ever receives. */
export function confirmationMail(names: MailNames, links: { confirmUrl: string }): RenderedMail {
  const subject = `Confirm your subscription to ${names.newsletterName}`;
  return {
    subject,
    html: mailDocument(
      subject,
      html`<p>Someone, hopefully you, asked to receive ${names.newsletterName} from ${names.publicationName} at this address.</p>
<p><a href="${links.confirmUrl}" style="display:inline-block;padding:10px 18px;background:#141414;color:#ffffff;text-decoration:none">Confirm my subscription</a></p>
<p>The link works for 48 hours. If you did not ask for this, ignore this mail: nothing more will be sent.</p>`,
    ),
    text: `Someone, hopefully you, asked to receive ${names.newsletterName} from ${names.publicationName} at this address.

Confirm your subscription:
${links.confirmUrl}

The link works for 48 hours. If you did not ask for this, ignore this mail: nothing more will be sent.
`,
  };
}

/** A sign-up for an address already confirmed: no new consent is needed, so just say so. */
export function alreadySubscribedMail(names: MailNames, links: { manageUrl: string }): RenderedMail {
  const subject = `You are already subscribed to ${names.newsletterName}`;
  return {
    subject,
    html: mailDocument(
      subject,
      html`<p>Someone, hopefully you, asked to receive ${names.newsletterName} from ${names.publicationName} at this address. You are already subscribed, so nothing changes.</p>
<p><a href="${links.manageUrl}">Your subscription and your data</a></p>`,
    ),
    text: `Someone, hopefully you, asked to receive ${names.newsletterName} from ${names.publicationName} at this address. You are already subscribed, so nothing changes.

Your subscription and your data:
${links.manageUrl}
`,
  };
}
