#!/usr/bin/env bash
# check-adopt proves that a legacy PostgreSQL database is adopted by one command: in a temporary
# copy of the repository it creates a database multidb did not write (UUID, text, integer and
# composite keys, a view, a numeric column), runs multidb adopt and make generate, checks that
# make migration finds nothing to change on PostgreSQL, writes the SQLite init, and queries the
# adopted tables through the graph as an admin and as their owner.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
server=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
db="multidb_adopt_check_$$"
tmp=$(mktemp -d)
trap 'psql "$server" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

psql "$server" -qc "CREATE DATABASE $db"
url="${server%/*}/$db?sslmode=disable"
psql "$url" -q <<'SQL'
CREATE TABLE authors (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), email varchar(200) NOT NULL UNIQUE, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE articles (id uuid PRIMARY KEY, author_id uuid NOT NULL REFERENCES authors (id) ON DELETE CASCADE, user_id uuid, title text NOT NULL, price numeric(10,2), published boolean NOT NULL DEFAULT false, meta jsonb);
CREATE INDEX articles_title_idx ON articles (title);
CREATE TABLE countries (code char(2) PRIMARY KEY, name text NOT NULL);
CREATE TABLE counters (id serial PRIMARY KEY, hits bigint NOT NULL DEFAULT 0);
CREATE TABLE article_tags (article_id uuid NOT NULL REFERENCES articles (id), tag text NOT NULL, PRIMARY KEY (article_id, tag));
CREATE VIEW published_articles AS SELECT id, title FROM articles WHERE published;
INSERT INTO authors (id, email, name) VALUES ('0193a5a0-0000-7000-8000-0000000000a1', 'ada@example.com', 'Ada');
INSERT INTO articles (id, author_id, user_id, title, price, published) VALUES
  ('0193a5a0-0000-7000-8000-0000000000b1', '0193a5a0-0000-7000-8000-0000000000a1', '0193a5a0-0000-7000-8000-000000000001', 'Mine', 9.50, true),
  ('0193a5a0-0000-7000-8000-0000000000b2', '0193a5a0-0000-7000-8000-0000000000a1', '0193a5a0-0000-7000-8000-000000000002', 'Theirs', 1.00, false);
SQL

tar -C "$root" --exclude=./.git --exclude=./build --exclude=./data -cf - . | tar -C "$tmp" -xf -
cd "$tmp"
start=$SECONDS
MIGRATION_DEV_URL=$server go run ./cmd/multidb adopt --db shop --url "$url"
make --no-print-directory generate
go build ./...
go vet ./...
# The ent schema equals the live schema: no PostgreSQL file is written, only SQLite's init.
go run ./cmd/multidb migrate new sqlite_init --db shop | tee /tmp/check-adopt-$$.out
if grep -q 'migrate/shop/postgres/' /tmp/check-adopt-$$.out; then
  echo "check-adopt: make migration wants to change the adopted PostgreSQL schema" >&2; exit 1
fi
ls migrate/shop/sqlite/*_sqlite_init.sql >/dev/null
SHOP_DATABASE_URL=$url go run ./cmd/multidb migrate status --db shop
cp "$root/scripts/adopt_graph_test.go.txt" graph/adopt_check_test.go
CHECK_ADOPT_URL=$url go test -count=1 -run '^TestAdoptedDatabaseServesTheGraph$' ./graph/
rm -f /tmp/check-adopt-$$.out
echo "check-adopt: a legacy database is adopted and served by the graph ($((SECONDS - start))s)"
