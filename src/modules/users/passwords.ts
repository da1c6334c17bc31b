import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { availableParallelism } from 'node:os';
import pLimit from 'p-limit';
import { AppError } from '../../errors.ts';

/** Shortest password accepted (NIST SP 800-63B §5.1.1.2 asks for at least 8; we ask for more). */
export const minPasswordLength = 12;
/** Longest accepted: scrypt takes any length, but a megabyte of "password" is only a way to burn CPU. */
export const maxPasswordLength = 1024;

/** Today's scrypt cost: N=2^15, r=8, p=1 uses 32 MiB per hash (RFC 7914 §2; OWASP's recommendation). */
const current = { N: 2 ** 15, r: 8, p: 1 } as const;
const saltBytes = 16;
const keyBytes = 64;

/**
 * scrypt runs on libuv's thread pool (4 threads), which also does every file read: a burst of sign-ins
 * would fill it and stall media and assets for seconds. So at most half the cores hash at once, per process.
 */
const hashing = pLimit(Math.max(1, Math.floor(availableParallelism() / 2)));
/** Hashes waiting beyond this are refused with `auth.busy` (each takes ~0.1 s, so later answers come too late to help). */
export const maxQueuedHashes = 16;

/** True when a new hash would be refused: callers check before spending anything else on a request. */
export function hashingIsBusy(): boolean {
  return hashing.pendingCount >= maxQueuedHashes;
}

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  if (hashingIsBusy()) return Promise.reject(new AppError('auth.busy'));
  return hashing(
    () =>
      new Promise<Buffer>((resolve, reject) => {
        scryptCallback(password.normalize('NFKC'), salt, keyLength, options, (error, key) =>
          error ? reject(error) : resolve(key),
        );
      }),
  );
}

/** 128·N·r bytes of memory, plus headroom; Node's default limit (32 MiB) is just too small for N=2^15. */
function maxmem(N: number, r: number): number {
  return 128 * N * r * 2;
}

/**
 * Hashes a password as `scrypt$N$r$p$<salt>$<key>` (base64url). The parameters travel with the hash, so
 * the cost can be raised later and old hashes still verify (see `needsRehash`).
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(saltBytes);
  const key = await scrypt(password, salt, keyBytes, { ...current, maxmem: maxmem(current.N, current.r) });
  return ['scrypt', current.N, current.r, current.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Checks a password against a stored hash in constant time; a malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  // Bounds keep a tampered row from asking for gigabytes.
  if (![N, r, p].every(Number.isSafeInteger) || N < 2 ** 10 || N > 2 ** 20 || r < 1 || r > 32 || p < 1 || p > 16)
    return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (salt.length < 8 || expected.length < 32) return false;
  const actual = await scrypt(password, salt, expected.length, { N, r, p, maxmem: maxmem(N, r) });
  return timingSafeEqual(actual, expected);
}

/** True when a hash was made with weaker parameters than today's, so it should be replaced at sign-in. */
export function needsRehash(stored: string): boolean {
  const [, N, r, p] = stored.split('$');
  return Number(N) < current.N || Number(r) < current.r || Number(p) < current.p;
}

/** A hash of nothing, verified against when the account does not exist, so both cases take as long. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}
