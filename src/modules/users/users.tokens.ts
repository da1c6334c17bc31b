import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh secret for a cookie or a link: 32 random bytes, base64url (43 characters). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the database keeps instead of a token: its SHA-256, hex. A stolen row signs nobody in. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A token's shape: what `newToken` makes. Anything else is refused before the database is asked. */
export const tokenPattern = /^[A-Za-z0-9_-]{43}$/;

/**
 * The CSRF token for a form: an HMAC, under the secret key, of what ties the form to one browser — the
 * session id once signed in, or the random `gz_csrf` cookie before (a signed double-submit cookie; OWASP
 * CSRF cheat sheet). A page from another site can neither read the cookie nor compute the HMAC.
 */
export function csrfToken(secret: string, binding: string): string {
  return createHmac('sha256', secret).update(`gazette-newsroom-csrf:${binding}`).digest('base64url');
}

export function sameToken(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
