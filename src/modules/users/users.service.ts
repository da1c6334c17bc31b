import { type Db, inTransaction } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import { normaliseEmail } from '../../email-address.ts';
import { ipSource, RateLimiter } from '../rate-limits/index.ts';
import {
  decoyHash,
  hashingIsBusy,
  hashPassword,
  maxPasswordLength,
  minPasswordLength,
  needsRehash,
  verifyPassword,
} from './passwords.ts';
import * as repo from './users.repository.ts';
import type { Role, SessionRow, UserRow } from './users.table.ts';
import { roles } from './users.table.ts';
import { newToken, tokenHash, tokenPattern } from './users.tokens.ts';

/** A sign-in link works once, for 24 hours. */
export const signInLinkLifetimeMs = 24 * 60 * 60 * 1000;
/** A session lasts 14 days from its last use (sliding); the cookie's Max-Age says the same. */
export const sessionLifetimeMs = 14 * 24 * 60 * 60 * 1000;
/** last_seen_at is written at most this often, so reading a page is not a write each time. */
const touchEveryMs = 5 * 60 * 1000;
/** Throttling window and limits: failed sign-ins per account and per IP. */
export const throttleWindowMs = 15 * 60 * 1000;
export const maxFailuresPerAccount = 5;
export const maxFailuresPerIp = 20;

/** Is `role` at least `minimum`? contributor < author < editor < admin. */
export function hasRole(role: Role, minimum: Role): boolean {
  return roles.indexOf(role) >= roles.indexOf(minimum);
}

/** `auth.throttled`, with how long to wait (for Retry-After). */
export class ThrottledError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('auth.throttled');
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface SignedIn {
  /** The cookie's value; only its hash is stored. */
  token: string;
  user: UserRow;
}

export interface ClientInfo {
  ip: string;
  userAgent: string | undefined;
}

export interface UserServiceDeps {
  db: Db;
  siteUrl: string;
  now: () => Date;
  /** Sign-in throttling; shared with the sign-up limits in the app. */
  limits?: RateLimiter;
}

/** Newsroom accounts: creating users, sign-in by password or one-time link, sessions, throttling. */
export class UserService {
  private readonly db: Db;
  private readonly siteUrl: string;
  private readonly now: () => Date;
  private readonly limits: RateLimiter;

  constructor(deps: UserServiceDeps) {
    this.db = deps.db;
    this.siteUrl = deps.siteUrl;
    this.now = deps.now;
    this.limits = deps.limits ?? new RateLimiter(deps.db);
  }

  /**
   * Creates a user. With a password, sets it and returns no link; without, returns a one-time sign-in link
   * (the first admin is made this way, from the command line).
   */
  async createUser(input: {
    email: string;
    role: Role;
    name?: string | undefined;
    password?: string | undefined;
  }): Promise<{ user: UserRow; link: string | null }> {
    const address = normaliseEmail(input.email);
    if (!address) throw new AppError('user.invalid_email');
    const name = input.name?.trim() ?? '';
    if (name.length > 200 || /[\x00-\x1f\x7f]/.test(name)) throw new AppError('user.invalid_name');
    if (input.password !== undefined) checkPasswordStrength(input.password);
    const passwordHash = input.password !== undefined ? await hashPassword(input.password) : null;
    if (await repo.findUserByEmailKey(this.db, address.emailKey)) throw new AppError('user.exists');
    let user: UserRow;
    try {
      user = await repo.insertUser(this.db, {
        email: address.email,
        email_key: address.emailKey,
        name,
        role: input.role,
        password_hash: passwordHash,
        created_at: this.now().toISOString(),
        disabled_at: null,
      });
    } catch (error) {
      // Two simultaneous adds of one address: the unique index decides.
      if (await repo.findUserByEmailKey(this.db, address.emailKey)) throw new AppError('user.exists');
      throw error;
    }
    const link = passwordHash ? null : await this.issueSignInLink(user.id);
    return { user, link };
  }

  /** A new one-time sign-in link for a user: `${SITE_URL}/newsroom/sign-in/link?token=…`. */
  async issueSignInLink(userId: number): Promise<string> {
    const token = newToken();
    const now = this.now();
    await repo.insertSignInLink(this.db, {
      token_hash: tokenHash(token),
      user_id: userId,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + signInLinkLifetimeMs).toISOString(),
    });
    return `${this.siteUrl}/newsroom/sign-in/link?token=${token}`;
  }

  /** The user with this address (any case), if any. */
  async findByEmail(email: string): Promise<UserRow | undefined> {
    const address = normaliseEmail(email);
    return address ? repo.findUserByEmailKey(this.db, address.emailKey) : undefined;
  }

  /**
   * Disables a user: no sign-in of any kind, every session ends now, and unused sign-in links are void (so
   * enabling the user again does not bring them back). Reversible with `enable`.
   */
  async disableUser(userId: number): Promise<void> {
    await repo.setDisabledAt(this.db, userId, this.now().toISOString());
    await repo.deleteSessionsOfUser(this.db, userId);
    await repo.deleteSignInLinksOfUser(this.db, userId);
  }

  async enableUser(userId: number): Promise<void> {
    await repo.setDisabledAt(this.db, userId, null);
  }

  /**
   * Changes a user's role, or disables or enables them, from the newsroom. The last active admin can be
   * neither demoted nor disabled (nobody could then manage users); checked and written in one transaction
   * that first locks the active admins, so two such changes at once cannot both pass the check.
   */
  async updateUser(userId: number, change: { role: Role } | { disabled: boolean }): Promise<UserRow> {
    return inTransaction(this.db, async (trx) => {
      await repo.lockActiveAdmins(trx);
      const user = await repo.findUserById(trx, userId);
      if (!user) throw new AppError('user.not_found');
      const losesAdmin =
        user.role === 'admin' && !user.disabled_at && ('role' in change ? change.role !== 'admin' : change.disabled);
      if (losesAdmin && (await repo.countActiveAdmins(trx)) <= 1) throw new AppError('user.last_admin');
      if ('role' in change) await repo.setRole(trx, userId, change.role);
      else if (change.disabled) {
        await repo.setDisabledAt(trx, userId, user.disabled_at ?? this.now().toISOString());
        await repo.deleteSessionsOfUser(trx, userId);
        await repo.deleteSignInLinksOfUser(trx, userId);
      } else await repo.setDisabledAt(trx, userId, null);
      const updated = await repo.findUserById(trx, userId);
      if (!updated) throw new AppError('user.not_found');
      return updated;
    });
  }

  listUsers(): Promise<UserRow[]> {
    return repo.listUsers(this.db);
  }

  /** Whether an admin who can sign in exists (until one does, `serve` says how to make the first). */
  async hasActiveAdmin(): Promise<boolean> {
    return (await repo.countActiveAdmins(this.db)) > 0;
  }

  /**
   * Signs in with email and password. Every failure is the same `auth.failed`, whether or not the account
   * exists (an unknown account still costs one scrypt). Throttled before the password is looked at, so
   * even the right password is refused while throttled.
   */
  async signInWithPassword(email: string, password: string, client: ClientInfo): Promise<SignedIn> {
    const emailKey = normaliseEmail(email)?.emailKey ?? email.trim().toLowerCase();
    const ip = ipSource(client.ip);
    if (hashingIsBusy()) throw new AppError('auth.busy');
    await this.reserveAttempt(emailKey, ip);
    const user =
      emailKey.length > 0 && emailKey.length <= 254 ? await repo.findUserByEmailKey(this.db, emailKey) : undefined;
    const usable = user && !user.disabled_at && user.password_hash ? user : undefined;
    const tooLong = password.length > maxPasswordLength;
    const matches = await verifyPassword(tooLong ? '' : password, usable?.password_hash ?? (await decoyHash()));
    if (!usable || !matches || tooLong) throw new AppError('auth.failed'); // the attempt stays counted
    // Only failures count: the account starts afresh, and the IP gets its attempt back.
    await this.limits.clear('signin-account', emailKey);
    await this.limits.refund('signin-ip', ip);
    if (needsRehash(usable.password_hash ?? ''))
      await repo.setPasswordHash(this.db, usable.id, await hashPassword(password));
    return { token: await this.startSession(usable.id, client), user: usable };
  }

  /**
   * Counts the attempt against the account and the IP before any password is hashed, each in one atomic
   * statement: of a burst of simultaneous guesses only the first `maxFailuresPerAccount` are ever looked
   * at, in every process. Throws ThrottledError when either limit is reached.
   */
  private async reserveAttempt(emailKey: string, ip: string): Promise<void> {
    const now = this.now();
    const window = { windowMs: throttleWindowMs };
    const accountWait = await this.limits.hit(
      'signin-account',
      emailKey,
      { ...window, limit: maxFailuresPerAccount },
      now,
    );
    if (accountWait !== null) throw new ThrottledError(accountWait);
    const ipWait = await this.limits.hit('signin-ip', ip, { ...window, limit: maxFailuresPerIp }, now);
    if (ipWait !== null) {
      await this.limits.refund('signin-account', emailKey); // not looked at, so not an attempt on the account
      throw new ThrottledError(ipWait);
    }
  }

  /** For the GET of a link: throws `auth.bad_link`, `auth.link_used` or `auth.link_expired`; consumes nothing. */
  async checkSignInLink(token: string): Promise<void> {
    await this.liveLink(token);
  }

  /** Consumes a sign-in link (once) and starts a session. */
  async signInWithLink(token: string, client: ClientInfo): Promise<SignedIn> {
    const link = await this.liveLink(token);
    if (!(await repo.consumeSignInLink(this.db, link.token_hash, this.now().toISOString())))
      throw new AppError('auth.link_used');
    const user = await repo.findUserById(this.db, link.user_id);
    if (!user || user.disabled_at) throw new AppError('auth.bad_link');
    return { token: await this.startSession(user.id, client), user };
  }

  private async liveLink(token: string) {
    if (!tokenPattern.test(token)) throw new AppError('auth.bad_link');
    const link = await repo.findSignInLink(this.db, tokenHash(token));
    if (!link) throw new AppError('auth.bad_link');
    if (link.used_at) throw new AppError('auth.link_used');
    if (link.expires_at <= this.now().toISOString()) throw new AppError('auth.link_expired');
    return link;
  }

  private async startSession(userId: number, client: ClientInfo): Promise<string> {
    const token = newToken();
    const now = this.now();
    await repo.deleteExpiredSessions(this.db, now.toISOString());
    await repo.insertSession(this.db, {
      id: tokenHash(token),
      user_id: userId,
      created_at: now.toISOString(),
      last_seen_at: now.toISOString(),
      expires_at: new Date(now.getTime() + sessionLifetimeMs).toISOString(),
      user_agent: client.userAgent?.slice(0, 512) ?? null,
      ip: client.ip,
    });
    return token;
  }

  /** The live session a cookie's token names, and its user; extends the session when in use. */
  async sessionFor(token: string): Promise<{ session: SessionRow; user: UserRow } | null> {
    if (!tokenPattern.test(token)) return null;
    const now = this.now();
    const found = await repo.findLiveSession(this.db, tokenHash(token), now.toISOString());
    if (!found) return null;
    if (now.getTime() - Date.parse(found.session.last_seen_at) >= touchEveryMs) {
      await repo.touchSession(
        this.db,
        found.session.id,
        now.toISOString(),
        new Date(now.getTime() + sessionLifetimeMs).toISOString(),
      );
    }
    return found;
  }

  /**
   * Sets (or changes) the signed-in user's password. Changing one asks for the current one (throttled as
   * sign-ins are, per account), so a session left open or stolen cannot take the account over. Every other
   * session of the user ends and unused sign-in links are void, so a password changed after a theft also
   * shuts the thief out; this session stays.
   */
  async setPassword(
    userId: number,
    keepSessionId: string,
    password: string,
    repeated: string,
    current?: string,
  ): Promise<void> {
    checkPasswordStrength(password);
    if (password !== repeated) throw new AppError('user.password_mismatch');
    const user = await repo.findUserById(this.db, userId);
    if (!user) throw new AppError('user.not_found');
    if (user.password_hash) {
      const wait = await this.limits.hit(
        'signin-account',
        user.email_key,
        { limit: maxFailuresPerAccount, windowMs: throttleWindowMs },
        this.now(),
      );
      if (wait !== null) throw new ThrottledError(wait);
      if (
        current === undefined ||
        current.length > maxPasswordLength ||
        !(await verifyPassword(current, user.password_hash))
      )
        throw new AppError('user.wrong_password');
      await this.limits.clear('signin-account', user.email_key);
    }
    await repo.setPasswordHash(this.db, userId, await hashPassword(password));
    await repo.deleteOtherSessionsOfUser(this.db, userId, keepSessionId);
    await repo.deleteSignInLinksOfUser(this.db, userId);
  }

  async signOut(sessionId: string): Promise<void> {
    await repo.deleteSession(this.db, sessionId);
  }

  /** Ends every session of the user, on every device (this one included). */
  async signOutEverywhere(userId: number): Promise<number> {
    return repo.deleteSessionsOfUser(this.db, userId);
  }
}

export function checkPasswordStrength(password: string): void {
  if ([...password].length < minPasswordLength || password.length > maxPasswordLength)
    throw new AppError('user.weak_password');
}
