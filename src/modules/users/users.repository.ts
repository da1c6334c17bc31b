import { PostgresAdapter } from 'kysely';
import type { Db } from '../../db/index.ts';
import type { NewUser, Role, SessionRow, UserRow } from './users.table.ts';

// The SQL of newsroom accounts. Plain functions taking `db` (or a transaction) first.

export async function insertUser(db: Db, user: NewUser): Promise<UserRow> {
  return db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow();
}

export async function findUserByEmailKey(db: Db, emailKey: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email_key', '=', emailKey).executeTakeFirst();
}

export async function findUserById(db: Db, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listUsers(db: Db): Promise<UserRow[]> {
  return db.selectFrom('users').selectAll().orderBy('id').execute();
}

export async function setPasswordHash(db: Db, userId: number, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
}

export async function setDisabledAt(db: Db, userId: number, disabledAt: string | null): Promise<void> {
  await db.updateTable('users').set({ disabled_at: disabledAt }).where('id', '=', userId).execute();
}

export async function insertSession(db: Db, session: SessionRow): Promise<void> {
  await db.insertInto('sessions').values(session).execute();
}

/** The session and its user, if the session is live and the user not disabled. */
export async function findLiveSession(
  db: Db,
  sessionId: string,
  now: string,
): Promise<{ session: SessionRow; user: UserRow } | undefined> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id as session_id',
      'sessions.created_at as session_created_at',
      'sessions.last_seen_at',
      'sessions.expires_at',
      'sessions.user_agent',
      'sessions.ip',
      'users.id',
      'users.email',
      'users.email_key',
      'users.name',
      'users.role',
      'users.password_hash',
      'users.created_at',
      'users.disabled_at',
    ])
    .where('sessions.id', '=', sessionId)
    .where('sessions.expires_at', '>', now)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  const { session_id, session_created_at, last_seen_at, expires_at, user_agent, ip, ...user } = row;
  return {
    session: {
      id: session_id,
      user_id: user.id,
      created_at: session_created_at,
      last_seen_at,
      expires_at,
      user_agent,
      ip,
    },
    user,
  };
}

export async function touchSession(db: Db, sessionId: string, lastSeenAt: string, expiresAt: string): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ last_seen_at: lastSeenAt, expires_at: expiresAt })
    .where('id', '=', sessionId)
    .execute();
}

export async function deleteSession(db: Db, sessionId: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', sessionId).execute();
}

/** Returns how many sessions were ended. */
export async function deleteSessionsOfUser(db: Db, userId: number): Promise<number> {
  const result = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function deleteOtherSessionsOfUser(db: Db, userId: number, keepSessionId: string): Promise<void> {
  await db.deleteFrom('sessions').where('user_id', '=', userId).where('id', '!=', keepSessionId).execute();
}

export async function deleteExpiredSessions(db: Db, now: string): Promise<void> {
  await db.deleteFrom('sessions').where('expires_at', '<=', now).execute();
}

export async function insertSignInLink(
  db: Db,
  link: { token_hash: string; user_id: number; created_at: string; expires_at: string },
): Promise<void> {
  await db
    .insertInto('sign_in_links')
    .values({ ...link, used_at: null })
    .execute();
}

export async function findSignInLink(db: Db, tokenHash: string) {
  return db.selectFrom('sign_in_links').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Voids every link of a user (disabled, or a new password): a link issued before then must not sign in. */
export async function deleteSignInLinksOfUser(db: Db, userId: number): Promise<void> {
  await db.deleteFrom('sign_in_links').where('user_id', '=', userId).execute();
}

/**
 * Marks a link used, only if it is unused and unexpired, in one statement: of two simultaneous uses, one
 * wins. Returns whether this call consumed it.
 */
export async function consumeSignInLink(db: Db, tokenHash: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('sign_in_links')
    .set({ used_at: now })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function setRole(db: Db, userId: number, role: Role): Promise<void> {
  await db.updateTable('users').set({ role }).where('id', '=', userId).execute();
}

/**
 * Locks the rows of the admins who can still sign in (PostgreSQL), until the transaction ends: two admins
 * disabling or demoting each other at once are then taken one after the other, and the second counts what
 * the first left. SQLite needs no lock: its writers are serialised and a stale reader cannot commit.
 */
export async function lockActiveAdmins(db: Db): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await db
    .selectFrom('users')
    .select('id')
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .orderBy('id')
    .forUpdate()
    .execute();
}

/** Admins who can still sign in. */
export async function countActiveAdmins(db: Db): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
