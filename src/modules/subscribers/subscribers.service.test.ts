import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { getOrCreateSecretKey } from '../settings/secret.ts';
import { normaliseEmail, sameSitePath } from './subscribers.schema.ts';
import { storeIp } from './subscribers.service.ts';
import {
  createConfirmToken,
  createSubscriberToken,
  unsubscribeMailto,
  unsubscribeUrl,
  verifyConfirmToken,
  verifySubscriberToken,
} from './subscribers.tokens.ts';

const createRecipientToken = (secret: string, id: number) => createSubscriberToken(secret, 'unsubscribe', id);
const verifyRecipientToken = (secret: string, token: string) => verifySubscriberToken(secret, 'unsubscribe', token);

const secret = 'k'.repeat(43);

describe('subscriber rules', () => {
  it('normalises addresses: punycode domains, lower-cased key, no control characters', () => {
    assert.deepEqual(normaliseEmail(' Ann@Bücher.Example '), {
      email: 'Ann@xn--bcher-kva.example',
      emailKey: 'ann@xn--bcher-kva.example',
    });
    for (const bad of [
      'a@b',
      'a@example.com\nBcc: x@y.z',
      'a\u0000@example.com',
      '@example.com',
      'a@@example.com',
      'a..b@example.com',
      'a@-x.com',
      'a@1.2.3.4',
      `${'a'.repeat(65)}@example.com`,
      'a@exa\u2028mple.com',
    ]) {
      assert.equal(normaliseEmail(bad), null, JSON.stringify(bad));
    }
  });

  it('keeps only same-site paths as the sign-up source', () => {
    assert.equal(sameSitePath('/articles/x'), '/articles/x');
    for (const bad of ['//evil.example/x', 'https://evil.example', '/\\evil.example', '/a b', '', undefined])
      assert.equal(sameSitePath(bad), null);
  });

  it('stores IP addresses full, truncated (/24, /48) or hashed', () => {
    assert.equal(storeIp('203.0.113.77', 'full', secret), '203.0.113.77');
    assert.equal(storeIp('203.0.113.77', 'truncated', secret), '203.0.113.0');
    assert.equal(storeIp('::ffff:203.0.113.77', 'truncated', secret), '203.0.113.0');
    assert.equal(storeIp('2001:db8:abcd:12::1', 'truncated', secret), '2001:db8:abcd::');
    assert.equal(storeIp('2001:db8::1', 'truncated', secret), '2001:db8:0::');
    const hashed = storeIp('203.0.113.77', 'hashed', secret);
    assert.match(hashed ?? '', /^[0-9a-f]{64}$/);
    assert.notEqual(hashed, storeIp('203.0.113.77', 'hashed', 'x'.repeat(43)));
    assert.equal(storeIp('not an ip', 'full', secret), null);
  });

  it('signs confirmation tokens that expire and cannot be altered', () => {
    const now = new Date('2026-11-25T10:00:00Z');
    const token = createConfirmToken(secret, 7, 'A'.repeat(22), new Date(now.getTime() + 1000));
    assert.deepEqual(verifyConfirmToken(secret, token, now), { kind: 'valid', subscriberId: 7, nonce: 'A'.repeat(22) });
    assert.equal(verifyConfirmToken(secret, token, new Date(now.getTime() + 2000)).kind, 'expired');
    assert.equal(verifyConfirmToken(secret, token.replace(/^7\./, '8.'), now).kind, 'invalid');
    assert.equal(verifyConfirmToken('other'.repeat(9), token, now).kind, 'invalid');
    // A recipient token is not a confirmation token, and the other way round.
    assert.equal(verifyConfirmToken(secret, createRecipientToken(secret, 7), now).kind, 'invalid');
    assert.equal(verifyRecipientToken(secret, token), null);
  });

  it('makes stable per-recipient unsubscribe links for List-Unsubscribe', () => {
    assert.equal(createRecipientToken(secret, 42), createRecipientToken(secret, 42));
    assert.equal(verifyRecipientToken(secret, createRecipientToken(secret, 42)), 42);
    assert.equal(verifyRecipientToken(secret, createRecipientToken(secret, 42).replace(/^u42/, 'u43')), null);
    assert.match(
      unsubscribeUrl('https://news.example/', secret, 42),
      /^https:\/\/news\.example\/newsletter\/unsubscribe\?token=u42\.[A-Za-z0-9_-]{43}$/,
    );
    assert.match(
      unsubscribeMailto('The Judean <newsletter@news.example>', secret, 42),
      /^mailto:newsletter@news\.example\?subject=unsubscribe%20u42\./,
    );
  });
});

describe('secret key', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase('sqlite');
  });
  after(() => t.drop());

  it('prefers SECRET_KEY, otherwise generates one key that every caller agrees on', async () => {
    assert.equal(await getOrCreateSecretKey(t.db, 'c'.repeat(40)), 'c'.repeat(40));
    const keys = await Promise.all(Array.from({ length: 5 }, () => getOrCreateSecretKey(t.db, null)));
    assert.equal(new Set(keys).size, 1);
    assert.ok((keys[0] ?? '').length >= 43);
    assert.equal(await getOrCreateSecretKey(t.db, null), keys[0]);
  });
});
