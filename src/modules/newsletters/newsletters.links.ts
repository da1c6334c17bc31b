import { createSubscriberTokens } from '../subscribers/index.ts';
import type { RecipientLinkSet } from './delivery.worker.ts';

/**
 * The per-recipient links of a newsletter mail, from the subscribers module's signed tokens (it verifies
 * them on the one-click endpoint and the self-service page): the unsubscribe token in the headers, which
 * every relay sees, and the manage token only in the body. Both come from one HMAC, computed once per
 * recipient and framed here the way subscribers.tokens.ts frames them (`unsubscribeUrl`, `unsubscribeMailto`
 * and `manageUrl` there each compute it again: a visible cost at thousands of mails per second);
 * newsletters.links.test.ts holds the two in step.
 */
export function createRecipientLinks(deps: {
  siteUrl: string;
  mailFrom: string;
  secret: string;
}): (subscriberId: number) => RecipientLinkSet {
  const base = deps.siteUrl.replace(/\/+$/, '');
  const address = /<([^<>\s]+@[^<>\s]+)>/.exec(deps.mailFrom)?.[1] ?? deps.mailFrom.trim();
  return (subscriberId) => {
    const { unsubscribe: token, manage } = createSubscriberTokens(deps.secret, subscriberId);
    return {
      // RFC 8058 §3.1: an https URI that accepts a cookie-less POST `List-Unsubscribe=One-Click`.
      unsubscribeUrl: `${base}/newsletter/unsubscribe?token=${token}`,
      // RFC 2369 §3.2: the mailto alternative.
      unsubscribeMailto: `mailto:${address}?subject=${encodeURIComponent(`unsubscribe ${token}`)}`,
      manageUrl: `${base}/newsletter/me?token=${manage}`,
    };
  };
}

/** RFC 2919 List-Id for the site: `newsletter.<host>`. */
export function listIdFor(siteUrl: string): string {
  return `newsletter.${new URL(siteUrl).hostname}`;
}
