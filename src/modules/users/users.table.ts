import type { Generated, Insertable, Selectable } from 'kysely';

/** Newsroom roles, weakest first: each can do everything the ones before it can. */
export const roles = ['contributor', 'author', 'editor', 'admin'] as const;
export type Role = (typeof roles)[number];

export interface UsersTable {
  id: Generated<number>;
  email: string;
  /** Lower-cased address: unique, and what sign-in looks up. */
  email_key: string;
  name: Generated<string>;
  role: Role;
  /** `scrypt$…` (see passwords.ts); null for a user who signs in by link only. */
  password_hash: string | null;
  created_at: string;
  disabled_at: string | null;
}

/** One signed-in browser. `id` is the SHA-256 of the cookie's token, so a leaked table signs nobody in. */
export interface SessionsTable {
  id: string;
  user_id: number;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  user_agent: string | null;
  ip: string | null;
}

export interface SignInLinksTable {
  token_hash: string;
  user_id: number;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface UsersTables {
  users: UsersTable;
  sessions: SessionsTable;
  sign_in_links: SignInLinksTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;
