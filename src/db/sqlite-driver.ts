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
    all: (parameters) => statement.all(...params(parameters)),
    run: (parameters) => statement.run(...params(parameters)),
    iterate: (parameters) => statement.iterate(...params(parameters)),
  };
}

function toSqlite(value: unknown): SqlParameter {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string') return value;
  if (value instanceof Uint8Array) return value;
  return JSON.stringify(value);
}
