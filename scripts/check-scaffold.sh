#!/usr/bin/env bash
# check-scaffold proves that a team can grow the graph with the scaffolds alone: in a temporary
# copy of the repository it adds a database (make database NAME=billing) and a type
# (make schema DB=users NAME=Team), with no hand edit, then builds, vets, and runs the tests
# that walk every type's access policy and count the statements of every edge.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tar -C "$root" --exclude=./.git --exclude=./build --exclude=./data -cf - . | tar -C "$tmp" -xf -
cd "$tmp"
start=$SECONDS

make --no-print-directory database NAME=billing
make --no-print-directory schema DB=users NAME=Team
go build ./...
go vet ./...
go test -count=1 -run '^(TestPoliciesOnEveryPath|TestStatementsPerLevelOfEveryEdge|TestDeleteUserFollowsEveryReference|TestSchemaHygiene|TestPagingEveryOrder)$' ./graph/

# What the scaffolds promise, checked on what they wrote.
grep -q 'BILLING_DATABASE_URL' .env.example
grep -q 'billing-db:' docker-compose.yml
grep -q 'BILLING_DATABASE_URL=postgres://multidb:multidb@billing-db' compose.env
ls migrate/billing/postgres/*_init.sql migrate/billing/sqlite/*_init.sql >/dev/null
grep -q 'billingItems' graph/ent/xdb.graphqls
grep -q 'createTeam' graph/ent/xdb.graphqls
echo "check-scaffold: a new database and a new type need no hand edit ($((SECONDS - start))s)"
