import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Secrets Gazette must read back to use (a webhook's signing secret, an integration's Admin API secret) are
 * stored sealed: AES-256-GCM under a key derived (HKDF-SHA256) from the secret key, so a copy of the
 * database alone does not hold them. Secrets that only need checking (the Content API key, sign-in tokens)
 * are stored as hashes instead. A new SECRET_KEY makes sealed secrets unreadable: rotate them afterwards.
 */
export interface SecretSealer {
  seal(plain: string): string;
  /** The plain secret; throws if it was sealed under another key or altered. */
  open(sealed: string): string;
}

const prefix = 's1:';

export function createSecretSealer(secretKey: string): SecretSealer {
  const key = Buffer.from(hkdfSync('sha256', secretKey, '', 'gazette sealed secrets v1', 32));
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return prefix + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    },
    open(sealed) {
      if (!sealed.startsWith(prefix)) throw new Error('not a sealed secret');
      const bytes = Buffer.from(sealed.slice(prefix.length), 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
      decipher.setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}
