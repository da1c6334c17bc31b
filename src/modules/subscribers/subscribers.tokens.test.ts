import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { it } from 'node:test';
import {
  createConfirmToken,
  createLegacyRecipientToken as createRecipientToken,
  createSubscriberTokens,
  verifyConfirmToken,
  verifySubscriberToken,
} from './subscribers.tokens.ts';

const verifyRecipientToken = (secret: string, token: string) => verifySubscriberToken(secret, 'unsubscribe', token);

/** The definition the tokens were made by before the purpose keys were cached: the key derived on every call. */
function referenceMac(secret: string, purpose: string, payload: string): string {
  const key = createHmac('sha256', secret).update(`gazette:${purpose}`).digest();
  return createHmac('sha256', key).update(payload).digest('base64url');
}

it('makes the same tokens as before the purpose keys were cached, call after call', () => {
  const secret = 'z'.repeat(40);
  for (const id of [1, 42, 99_999, 1_000_000]) {
    const expected = `${id}.${referenceMac(secret, 'recipient', String(id))}`;
    assert.equal(createRecipientToken(secret, id), expected);
    assert.equal(createRecipientToken(secret, id), expected, 'the second call, from the cached key');
    assert.equal(verifyRecipientToken(secret, expected), id);
  }
  const expires = new Date('2030-01-01T00:00:00Z');
  const payload = `7.nonce-nonce-nonce-non.${expires.getTime() / 1000}`;
  assert.equal(
    createConfirmToken(secret, 7, 'nonce-nonce-nonce-non', expires),
    `${payload}.${referenceMac(secret, 'confirm', payload)}`,
  );
});

it('keeps a key per secret and per purpose: another secret or purpose signs differently', () => {
  const a = 'a'.repeat(40);
  const b = 'b'.repeat(40);
  const tokenA = createRecipientToken(a, 5);
  const tokenB = createRecipientToken(b, 5);
  assert.notEqual(tokenA, tokenB);
  assert.equal(tokenB, `5.${referenceMac(b, 'recipient', '5')}`);
  assert.equal(verifyRecipientToken(a, tokenB), null, 'a token of one secret fails under another');
  assert.equal(verifyRecipientToken(b, tokenA), null);
  assert.equal(createRecipientToken(a, 5), tokenA, 'and the first secret still signs as it did');
  // The same MAC input under the confirm purpose is a different key: a recipient token is no confirmation.
  assert.notEqual(referenceMac(a, 'confirm', '5'), tokenA.split('.')[1]);
  assert.equal(verifyConfirmToken(a, `${tokenA}.x`, new Date()).kind, 'invalid');
});

it('still signs correctly after more secrets than the cache holds', () => {
  for (let i = 0; i < 100; i++) {
    const secret = `secret-${i}-`.padEnd(40, 'x');
    assert.equal(createRecipientToken(secret, i + 1), `${i + 1}.${referenceMac(secret, 'recipient', String(i + 1))}`);
  }
});

it('splits unsubscribe from self-service: the header token unsubscribes only; the manage token does both', () => {
  const secret = 'q'.repeat(40);
  const { unsubscribe, manage } = createSubscriberTokens(secret, 42);
  assert.match(unsubscribe, /^u42\.[A-Za-z0-9_-]{43}$/);
  assert.match(manage, /^m42\.[A-Za-z0-9_-]{43}$/);
  assert.equal(verifySubscriberToken(secret, 'unsubscribe', unsubscribe), 42);
  assert.equal(verifySubscriberToken(secret, 'manage', unsubscribe), null);
  assert.equal(
    verifySubscriberToken(secret, 'manage', `m${unsubscribe.slice(1)}`),
    null,
    'relabelling the header token opens nothing',
  );
  assert.equal(verifySubscriberToken(secret, 'manage', manage), 42);
  assert.equal(verifySubscriberToken(secret, 'unsubscribe', manage), 42);
  const legacy = createRecipientToken(secret, 42);
  assert.equal(verifySubscriberToken(secret, 'unsubscribe', legacy), 42, "an older mail's token still unsubscribes");
  assert.equal(verifySubscriberToken(secret, 'manage', legacy), null, 'and no more');
  assert.equal(verifySubscriberToken(secret, 'unsubscribe', unsubscribe.replace(/^u42/, 'u43')), null);
  assert.equal(verifySubscriberToken('w'.repeat(40), 'unsubscribe', unsubscribe), null);
});
