import assert from 'node:assert/strict';
import { it } from 'node:test';
import { manageUrl, unsubscribeMailto, unsubscribeUrl } from '../subscribers/subscribers.tokens.ts';
import { createRecipientLinks, listIdFor } from './newsletters.links.ts';

it('frames the recipient token exactly as the subscribers module does', () => {
  const secret = 'z'.repeat(40);
  const deps = { siteUrl: 'https://news.example.test', mailFrom: 'The Judean <newsletter@news.example.test>', secret };
  const links = createRecipientLinks(deps)(42);
  assert.equal(links.unsubscribeUrl, unsubscribeUrl(deps.siteUrl, secret, 42));
  assert.equal(links.unsubscribeMailto, unsubscribeMailto(deps.mailFrom, secret, 42));
  assert.equal(links.manageUrl, manageUrl(deps.siteUrl, secret, 42));
  assert.equal(listIdFor('https://news.example.test:8443/x'), 'newsletter.news.example.test');
});
