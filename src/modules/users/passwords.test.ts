import assert from 'node:assert/strict';
import { scryptSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { hashPassword, needsRehash, verifyPassword } from './passwords.ts';

describe('passwords', () => {
  it('hashes with scrypt, parameters included, salted, and verifies', async () => {
    const hash = await hashPassword('correct horse battery staple');
    assert.match(hash, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{86}$/);
    assert.notEqual(hash, await hashPassword('correct horse battery staple'));
    assert.equal(await verifyPassword('correct horse battery staple', hash), true);
    assert.equal(await verifyPassword('correct horse battery stapler', hash), false);
    assert.equal(needsRehash(hash), false);
  });

  it('verifies hashes made with older, cheaper parameters, and says they need a rehash', async () => {
    const salt = Buffer.alloc(16, 7);
    const key = scryptSync('old password here', salt, 64, { N: 2 ** 14, r: 8, p: 1 });
    const old = `scrypt$16384$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
    assert.equal(await verifyPassword('old password here', old), true);
    assert.equal(needsRehash(old), true);
  });

  it('never matches a malformed or tampered hash', async () => {
    for (const stored of [
      '',
      'plain',
      'scrypt$1$1$1$a$b',
      'scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA$' + 'A'.repeat(86),
      'bcrypt$x$y$z$a$b',
    ]) {
      assert.equal(await verifyPassword('anything at all', stored), false, stored);
    }
  });
});
