package main

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	_ "github.com/lib/pq"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/testdb"
)

// TestRollupRebuildCommand damages the rollups of a migrated PostgreSQL database and repairs
// them with `multidb rollup rebuild`.
func TestRollupRebuildCommand(t *testing.T) {
	testdb.RequirePostgres(t, true)
	env := "ENV=staging\n"
	var analyticsURL string
	for _, name := range database.Names() {
		url := testdb.URL(t, config.Postgres, name)
		if name == "analytics" {
			analyticsURL = url
		}
		env += config.EnvVar(name) + "=" + url + "\n"
	}
	inDir(t, map[string]string{".env": "ENV=staging\n", ".env.staging": env})
	if out, err := runCLI(t, "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	cfg, err := config.ParseURL(analyticsURL)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(cfg.Driver, cfg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	exec := func(q string) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// 500 events over two days, then the rollups of the first day lost, and a wrong count.
	exec(`INSERT INTO events (id, user_id, name, properties, occurred_at)
		SELECT gen_random_uuid(), md5((i % 7)::text)::uuid, 'e' || (i % 3), '{}', '2026-03-01T00:00:00Z'::timestamptz + make_interval(mins => i * 5)
		FROM generate_series(0, 499) AS i`)
	exec(`DELETE FROM event_hour_counts WHERE hour < '2026-03-02T00:00:00Z'`)
	exec(`UPDATE event_hour_users SET count = count * 2 WHERE hour >= '2026-03-02T10:00:00Z'`)
	consistent := func() bool {
		var bad int
		err := db.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM (SELECT date_trunc('hour', occurred_at, 'UTC'), name, count(*) FROM events GROUP BY 1, 2
			  EXCEPT SELECT hour, name, count FROM event_hour_counts) a) +
			(SELECT count(*) FROM (SELECT date_trunc('hour', occurred_at, 'UTC'), name, user_id, count(*) FROM events GROUP BY 1, 2, 3
			  EXCEPT SELECT hour, name, user_id, count FROM event_hour_users) b) +
			(SELECT count(*) FROM event_hour_counts) - (SELECT count(DISTINCT (date_trunc('hour', occurred_at, 'UTC'), name)) FROM events)`).Scan(&bad)
		if err != nil {
			t.Fatal(err)
		}
		return bad == 0
	}
	if consistent() {
		t.Fatal("the damage left the rollups consistent: a useless check")
	}
	out, err := runCLI(t, "rollup", "rebuild", "--from", "2026-03-01", "--to", "2026-03-03T00:00:00Z")
	if err != nil {
		t.Fatalf("rollup rebuild: %v\n%s", err, out)
	}
	if !strings.Contains(out, "500 events") || !strings.Contains(out, "2 transactions") {
		t.Errorf("rollup rebuild said:\n%s", out)
	}
	if !consistent() {
		t.Error("after rollup rebuild, the rollups differ from the events")
	}

	for _, args := range [][]string{
		{"rollup"},
		{"rollup", "rebuild", "--from", "2026-03-01"},
		{"rollup", "rebuild", "--from", "yesterday", "--to", "2026-03-01"},
		{"rollup", "rebuild", "--from", "2026-03-02", "--to", "2026-03-01"},
	} {
		if out, err := runCLI(t, args...); exitCode(err) != 2 {
			t.Errorf("%v: exit code %d (%v), want 2\n%s", args, exitCode(err), err, out)
		}
	}
}

// TestRollupRebuildOnSQLite: SQLite keeps no rollups, and the command says so.
func TestRollupRebuildOnSQLite(t *testing.T) {
	inDir(t, map[string]string{".env": "ENV=development\n"})
	out, err := runCLI(t, "rollup", "rebuild", "--from", "2026-03-01", "--to", "2026-03-02")
	if err == nil || !strings.Contains(err.Error(), "SQLite") {
		t.Errorf("rollup rebuild on SQLite: %v\n%s", err, out)
	}
}
