#!/usr/bin/env bash
# Freezes a data folder made by an older Gazette into test/fixtures/upgrade-<migration>/, for
# test/upgrade.test.ts. The outputs are committed; this only documents (and can redo) how they were made.
#
# The old code runs from a git worktree of COMMIT (default 0068015, the commit that landed
# 20261125190000_content_version: after it, 160000, 170000 and 180000 landed with older timestamps, which is
# the upgrade path most likely to break). With the old CLI it: serves once (migrates and seeds the demo),
# takes two sign-ups through the form, imports three subscribers, adds a newsroom user and queues an issue.
# SQLite: the database file, checkpointed and vacuumed. PostgreSQL: a plain pg_dump (needs a server at
# PGURL, default postgres://postgres@127.0.0.1:5432/postgres, and pg_dump).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COMMIT="${COMMIT:-0068015}"
NAME="${NAME:-20261125190000}"
OUT="$ROOT/test/fixtures/upgrade-$NAME"
NODE="$ROOT/node_modules/.bin/node"
PGURL="${PGURL:-postgres://postgres@127.0.0.1:5432/postgres}"
WORK="$(mktemp -d)"
OLD="$WORK/gazette-old"
DBNAME="gazette_upgrade_fixture_$$"
trap 'git -C "$ROOT" worktree remove --force "$OLD" 2>/dev/null || true; psql -q "$PGURL" -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

git -C "$ROOT" worktree add --detach "$OLD" "$COMMIT" >/dev/null
# The old dependencies; Node itself is this checkout's (24), so no install scripts are needed.
(cd "$OLD" && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
mkdir -p "$OUT"

# Runs the old CLI with the environment given for one data folder.
old() { (cd "$OLD" && env SITE_URL="http://127.0.0.1:$PORT" SECRET_KEY="fixture-secret-key-fixture-secret-key" LOG_LEVEL=warn "$@"); }

fill() {
  local env=("$@")
  PORT="$("$NODE" -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
  # Not through old(): a backgrounded function is a subshell of its own, and $! would not be the server.
  (cd "$OLD" && exec env SITE_URL="http://127.0.0.1:$PORT" SECRET_KEY="fixture-secret-key-fixture-secret-key" LOG_LEVEL=warn "${env[@]}" PORT="$PORT" "$NODE" bin/gazette.js serve) >"$WORK/serve.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 300); do grep -q 'Gazette is serving' "$WORK/serve.log" && break; sleep 0.1; done
  grep -q 'Gazette is serving' "$WORK/serve.log" || { cat "$WORK/serve.log" >&2; exit 1; }
  for who in ada grace; do
    curl -sf -o /dev/null -A 'fixture-browser/1.0' -X POST --data "email=$who@readers.example&consent=yes&source=/" "http://127.0.0.1:$PORT/newsletter/subscribe"
  done
  kill -TERM "$pid"; wait "$pid" || true
  printf 'email,name,status\nalan@readers.example,Alan,confirmed\nmary@readers.example,Mary,confirmed\nkatherine@readers.example,,pending\n' >"$WORK/list.csv"
  old "${env[@]}" PORT="$PORT" "$NODE" bin/gazette.js subscribers import "$WORK/list.csv" --source "Fixture list, November 2026" >/dev/null 2>&1
  old "${env[@]}" PORT="$PORT" "$NODE" bin/gazette.js user add editor@newsroom.example --role editor --name "Fixture Editor" >/dev/null
  local slug
  slug="$(cd "$OLD" && "$NODE" -e "import('./src/modules/seed/demo.content.ts').then(m => console.log(m.demoArticles[0].slug))")"
  old "${env[@]}" PORT="$PORT" "$NODE" bin/gazette.js newsletter send "$slug" --subject "Fixture issue" >/dev/null
}

# SQLite
fill DATA_DIR="$WORK/sqlite"
"$NODE" -e "
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(process.argv[1]);
db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
db.prepare('VACUUM INTO ?').run(process.argv[2]);
db.close();" "$WORK/sqlite/gazette.sqlite" "$WORK/gazette.sqlite"
cp "$WORK/gazette.sqlite" "$OUT/gazette.sqlite"

# PostgreSQL
psql -q "$PGURL" -c "CREATE DATABASE $DBNAME" >/dev/null
DB_URL="${PGURL%/*}/$DBNAME"
fill DATA_DIR="$WORK/postgres" DATABASE_URL="$DB_URL"
# Plain SQL with INSERTs: loaded by the test through the pg client, without psql; psql's \ lines are dropped.
pg_dump --format=plain --inserts --no-owner --no-privileges "$DB_URL" | grep -v '^\\' >"$OUT/postgres.sql"

ls -l "$OUT"
