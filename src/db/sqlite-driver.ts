import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * Adapts Node's built-in `node:sqlite` to the better-sqlite3-shaped interface that Kysely's SqliteDialect
 * expects, so the embedded default needs no native addon. Prepared statements are cached per SQL text:
 * Kysely prepares on every query, and the same few queries run on every request.
 */
export function openSqlite(file: string): { database: SqliteDatabase; raw: DatabaseSync } {
  const raw = new DatabaseSync(file);
  // WAL lets readers run beside one writer (web and worker processes share the file); busy_timeout makes a
  // second process wait for the write lock instead of failing; NORMAL sync is durable under WAL at commit
  // boundaries except on power loss (https://www.sqlite.org/pragma.html#pragma_synchronous).
  raw.exec('PRAGMA journal_mode = WAL');
  raw.exec('PRAGMA busy_timeout = 5000');
  raw.exec('PRAGMA synchronous = NORMAL');
  raw.exec('PRAGMA foreign_keys = ON');
  const cache = new Map<string, SqliteStatement>();
  const database: SqliteDatabase = {
    close: () => {
      cache.clear();
      if (raw.isOpen) raw.close();
    },
    prepare: (sqlText: string) => {
      let statement = cache.get(sqlText);
      if (!statement) {
        statement = wrap(raw.prepare(sqlText));
        // SQLite itself rolls the transaction back after SQLITE_FULL, IOERR, NOMEM or BUSY
        // (https://www.sqlite.org/lang_transaction.html, "Response To Errors Within A Transaction"); Kysely's
        // ROLLBACK would then fail with "no transaction is active" and that error would replace the real one.
        if (/^\s*rollback\s*$/i.test(sqlText)) statement = rollbackIfActive(raw, statement);
        if (cache.size > 500) cache.clear();
        cache.set(sqlText, statement);
      }
      return statement;
    },
  };
  return { database, raw };
}

type SqlParameter = null | number | bigint | string | Uint8Array;

function wrap(statement: StatementSync): SqliteStatement {
  // A statement that yields columns is a reader (SELECT, or INSERT/UPDATE … RETURNING).
  const reader = statement.columns().length > 0;
  const params = (parameters: ReadonlyArray<unknown>) => parameters.map(toSqlite);
  return {
    reader,
    all: (parameters) => named(() => statement.all(...params(parameters))),
    run: (parameters) => named(() => statement.run(...params(parameters))),
    iterate: (parameters) => named(() => statement.iterate(...params(parameters))),
  };
}

function rollbackIfActive(raw: DatabaseSync, statement: SqliteStatement): SqliteStatement {
  return {
    ...statement,
    run: (parameters) => (raw.isTransaction ? statement.run(parameters) : { changes: 0, lastInsertRowid: 0 }),
  };
}

/** SQLite's primary result codes worth naming in a log (https://www.sqlite.org/rescode.html). */
const resultCodes: Record<number, string> = {
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  7: 'SQLITE_NOMEM',
  8: 'SQLITE_READONLY',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  19: 'SQLITE_CONSTRAINT',
};

/**
 * node:sqlite says only "database or disk is full" (the code is in `errcode`): the message gains the result
 * code's name, so that every log line and error page path names SQLITE_FULL as such.
 */
function named<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    const e = error as Error & { errcode?: unknown; sqliteCode?: string };
    const name = typeof e.errcode === 'number' ? resultCodes[e.errcode & 0xff] : undefined;
    if (name && e instanceof Error && !e.sqliteCode) {
      e.sqliteCode = name;
      e.message = `${name}: ${e.message}`;
    }
    throw error;
  }
}

function toSqlite(value: unknown): SqlParameter {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string') return value;
  if (value instanceof Uint8Array) return value;
  return JSON.stringify(value);
}
