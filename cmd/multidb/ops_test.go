package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/migration"
	"github.com/multidb/multidb/internal/server"
	"github.com/multidb/multidb/internal/testdb"
)

// envWithURLs writes a .env in which every registered database is a new one of dialect, and
// returns the URLs by database name.
func envWithURLs(t *testing.T, dialect, env string) map[string]string {
	t.Helper()
	urls := map[string]string{}
	body := "ENV=" + env + "\n"
	for _, name := range database.Names() {
		urls[name] = testdb.URL(t, dialect, name)
		body += config.EnvVar(name) + "=" + urls[name] + "\n"
	}
	inDir(t, map[string]string{".env": body})
	return urls
}

// rawDB opens url with database/sql, outside multidb, as an operator's psql or sqlite3 would.
func rawDB(t *testing.T, url string) *sql.DB {
	t.Helper()
	cfg, err := config.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(cfg.Driver, cfg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func hasTable(t *testing.T, db *sql.DB, dialect, table string) bool {
	t.Helper()
	q := `SELECT count(*) FROM information_schema.tables WHERE table_name = $1`
	if dialect == config.SQLite {
		q = `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1`
	}
	var n int
	if err := db.QueryRow(q, table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// Seeding first used to create multidb_seeds, after which migrate refused the database as not
// clean. Now seed refuses and creates nothing, and migrate then seed works.
func TestSeedBeforeMigrateRefuses(t *testing.T) {
	for _, dialect := range testdb.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			urls := envWithURLs(t, dialect, config.Development)
			out, err := runCLI(t, "seed")
			if !errors.Is(err, errNotMigrated) || !strings.Contains(err.Error(), "run `make migrate ENV=development` first") {
				t.Fatalf("seed before migrate: got %v, want the advice to migrate first\n%s", err, out)
			}
			for name, url := range urls {
				if hasTable(t, rawDB(t, url), dialect, migration.SeedsTable) {
					t.Errorf("%s: a refused seed created %s", name, migration.SeedsTable)
				}
			}
			if out, err := runCLI(t, "migrate"); err != nil {
				t.Fatalf("migrate after the refused seed: %v\n%s", err, out)
			}
			if out, err := runCLI(t, "seed"); err != nil {
				t.Fatalf("seed after migrate: %v\n%s", err, out)
			}
		})
	}
}

// A database whose tables exist but whose history was lost (restored from a dump without
// multidb_revisions, say) is refused by migrate, adopted by baseline when its schema matches,
// and shown the difference when it does not. multidb_seeds never makes a database "not clean".
func TestBaselineAnExistingSchema(t *testing.T) {
	for _, dialect := range testdb.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			urls := envWithURLs(t, dialect, config.Development)
			names := database.Names()
			good, bad := names[0], names[1]
			if out, err := runCLI(t, "migrate"); err != nil {
				t.Fatalf("migrate: %v\n%s", err, out)
			}
			if out, err := runCLI(t, "seed"); err != nil {
				t.Fatalf("seed: %v\n%s", err, out)
			}
			for _, name := range []string{good, bad} {
				exec(t, rawDB(t, urls[name]), "DELETE FROM "+migration.RevisionsTable)
			}
			exec(t, rawDB(t, urls[bad]), "CREATE TABLE legacy_extra (id integer PRIMARY KEY)")

			out, err := runCLI(t, "migrate", "--db", good)
			if !errors.Is(err, migration.ErrNotClean) || !strings.Contains(err.Error(), "migrate baseline --db "+good) {
				t.Fatalf("migrate without history: got %v, want ErrNotClean pointing at baseline\n%s", err, out)
			}
			if strings.Contains(err.Error(), migration.SeedsTable) {
				t.Errorf("the seeds table counted as a table of the schema: %v", err)
			}
			if out, err := runCLI(t, "migrate", "baseline"); exitCode(err) != 2 || !strings.Contains(err.Error(), "--db") {
				t.Errorf("baseline without --db: got %v, want a usage error naming --db\n%s", err, out)
			}
			if out, err := runCLI(t, "migrate", "baseline", "--db", good, "19990101000000"); err == nil || !strings.Contains(err.Error(), "use one of") {
				t.Errorf("baseline at an unknown version: got %v\n%s", err, out)
			}
			if out, err := runCLI(t, "migrate", "baseline", "--db", good); err != nil || !strings.Contains(out, "recorded as migrated up to") {
				t.Fatalf("baseline: %v\n%s", err, out)
			}
			if out, err := runCLI(t, "migrate", "status", "--db", good); err != nil {
				t.Errorf("status after baseline: %v\n%s", err, out)
			}
			if out, err := runCLI(t, "migrate", "baseline", "--db", good); !errors.Is(err, migration.ErrHasHistory) {
				t.Errorf("second baseline: got %v, want ErrHasHistory\n%s", err, out)
			}

			out, err = runCLI(t, "migrate", "baseline", "--db", bad)
			var mm *migration.MismatchError
			if !errors.As(err, &mm) || !errors.Is(err, migration.ErrSchemaMismatch) {
				t.Fatalf("baseline of a schema with an extra table: got %v, want a MismatchError\n%s", err, out)
			}
			if !strings.Contains(err.Error(), "legacy_extra") || !strings.Contains(strings.ToUpper(err.Error()), "DROP TABLE") {
				t.Errorf("the mismatch does not show the diff (DROP TABLE legacy_extra): %v", err)
			}
			if out, _ := runCLI(t, "migrate", "status", "--db", bad); !strings.Contains(out, "error") {
				t.Errorf("a refused baseline recorded something:\n%s", out)
			}
		})
	}
}

// Deploy scripts gate on the exit code of `migrate status` and read --json.
func TestStatusExitCodesAndJSON(t *testing.T) {
	for _, dialect := range testdb.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			urls := envWithURLs(t, dialect, config.Development)
			first := database.Names()[0]
			out, err := runCLI(t, "migrate", "status", "--json")
			if code := exitCode(err); code != exitBehind {
				t.Fatalf("status of empty databases: exit %d (%v), want %d\n%s", code, err, exitBehind, out)
			}
			var rows []statusJSON
			if err := json.Unmarshal([]byte(out), &rows); err != nil {
				t.Fatalf("--json: %v\n%s", err, out)
			}
			if len(rows) != len(database.Registry) || rows[0].State != "behind" || len(rows[0].Pending) == 0 || rows[0].Latest == "" {
				t.Errorf("--json of behind databases: %+v", rows)
			}
			if out, err := runCLI(t, "migrate"); err != nil {
				t.Fatalf("migrate: %v\n%s", err, out)
			}
			if out, err := runCLI(t, "migrate", "status"); err != nil {
				t.Fatalf("status when current: %v\n%s", err, out)
			}
			// A newer binary applied a file this one does not ship.
			exec(t, rawDB(t, urls[first]), `INSERT INTO multidb_revisions (db_name, version, description, type, applied, total, applied_at, execution_ns, hash, operator_version)
				VALUES ('`+first+`', '99991231000000', 'from_the_future', 2, 1, 1, CURRENT_TIMESTAMP, 0, 'sha256:x', 'multidb')`)
			out, err = runCLI(t, "migrate", "status", "--json")
			if code := exitCode(err); code != exitAhead {
				t.Fatalf("status when ahead: exit %d (%v), want %d\n%s", code, err, exitAhead, out)
			}
			rows = nil
			if err := json.Unmarshal([]byte(out), &rows); err != nil {
				t.Fatalf("--json: %v\n%s", err, out)
			}
			if rows[0].State != "ahead" || len(rows[0].Ahead) != 1 || rows[0].Ahead[0] != "99991231000000_from_the_future" {
				t.Errorf("--json when ahead: %+v", rows[0])
			}
			if out, err := runCLI(t, "migrate", "--db", first); !errors.Is(err, migration.ErrAhead) {
				t.Errorf("migrate up when ahead: got %v, want ErrAhead\n%s", err, out)
			}
		})
	}
}

// /readyz tells an old binary's operator that a database is ahead, and a new binary's that one
// is behind, with the versions, through the same probes serve runs.
func TestReadyzAheadAndBehind(t *testing.T) {
	for _, dialect := range testdb.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			set := testdb.OpenMigrated(t, dialect)
			first := set.DBs[0]
			readyz := func() (int, map[string]server.DatabaseState) {
				p := server.NewProber(checks(set), time.Second, 5*time.Second)
				p.Refresh(ctx)
				srv := httptest.NewServer(server.New(server.Options{GraphQL: http.NotFoundHandler(), Readiness: p.States}))
				defer srv.Close()
				resp, err := http.Get(srv.URL + "/readyz")
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var body struct {
					Databases []server.DatabaseState `json:"databases"`
				}
				if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
					t.Fatal(err)
				}
				out := map[string]server.DatabaseState{}
				for _, d := range body.Databases {
					out[d.Name] = d
				}
				return resp.StatusCode, out
			}
			if code, states := readyz(); code != http.StatusOK || states[first.Name].State != server.StateUp || states[first.Name].Current == "" {
				t.Fatalf("readyz when current: %d %+v", code, states)
			}
			if _, err := first.SQL.ExecContext(ctx, `INSERT INTO multidb_revisions (db_name, version, description, type, applied, total, applied_at, execution_ns, hash, operator_version)
				VALUES ('`+first.Name+`', '99991231000000', 'from_the_future', 2, 1, 1, CURRENT_TIMESTAMP, 0, 'sha256:x', 'multidb')`); err != nil {
				t.Fatal(err)
			}
			code, states := readyz()
			st := states[first.Name]
			if code != http.StatusOK || st.State != server.StateAhead || !slices.Equal(st.Versions, []string{"99991231000000"}) || st.Latest == "" || st.Current != "99991231000000" {
				t.Errorf("readyz when ahead: got %d %+v, want 200 (an old binary keeps serving in a rolling deploy), ahead with the versions", code, st)
			}
			if _, err := first.SQL.ExecContext(ctx, `DELETE FROM multidb_revisions WHERE db_name = '`+first.Name+`' AND version >= '`+st.Latest+`'`); err != nil {
				t.Fatal(err)
			}
			code, states = readyz()
			st = states[first.Name]
			if code != http.StatusServiceUnavailable || st.State != server.StateBehind || !slices.Equal(st.Versions, []string{st.Latest}) || st.Pending != 1 {
				t.Errorf("readyz when behind: got %d %+v, want 503, behind by the latest version", code, st)
			}
		})
	}
}

// In staging, down names its database, says what it drops and how many rows go with it, and
// runs only when confirmed: with --yes, or the database's name typed on a terminal.
func TestDownOutsideDevelopment(t *testing.T) {
	for _, dialect := range testdb.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			urls := envWithURLs(t, dialect, config.Staging)
			if out, err := runCLI(t, "migrate"); err != nil {
				t.Fatalf("migrate: %v\n%s", err, out)
			}
			users := rawDB(t, urls["users"])
			exec(t, users,
				`INSERT INTO users (id, email, name, role, created_at, updated_at) VALUES ('0193a5a0-0000-7000-8000-000000000001', 'a@example.com', 'A', 'USER', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`,
				`INSERT INTO sessions (id, token_hash, created_at, expires_at, user_id) VALUES ('0193a5a0-0000-7000-8000-000000000002', 'h1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '0193a5a0-0000-7000-8000-000000000001')`,
				`INSERT INTO sessions (id, token_hash, created_at, expires_at, user_id) VALUES ('0193a5a0-0000-7000-8000-000000000003', 'h2', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '0193a5a0-0000-7000-8000-000000000001')`)

			if out, err := runCLI(t, "migrate", "down", "1"); exitCode(err) != 2 || !strings.Contains(err.Error(), "--db") {
				t.Errorf("down without --db in staging: got %v, want a usage error naming --db\n%s", err, out)
			}
			terminal = func() bool { return false }
			t.Cleanup(func() { terminal = func() bool { return false } })
			out, err := runCLI(t, "migrate", "down", "1", "--db", "users")
			if !errors.Is(err, errNotConfirmed) || !strings.Contains(err.Error(), "--yes") {
				t.Fatalf("down without --yes and no terminal: got %v\n%s", err, out)
			}
			if !strings.Contains(out, "drops table sessions (2 rows)") {
				t.Errorf("down does not say what it drops and how many rows:\n%s", out)
			}
			if !hasTable(t, users, dialect, "sessions") {
				t.Fatal("an unconfirmed down dropped sessions")
			}
			terminal = func() bool { return true }
			confirmIn = strings.NewReader("analytics\n")
			if _, err := runCLI(t, "migrate", "down", "1", "--db", "users"); !errors.Is(err, errNotConfirmed) {
				t.Errorf("down confirmed with the wrong name: got %v", err)
			}
			confirmIn = strings.NewReader("users\n")
			t.Cleanup(func() { confirmIn = os.Stdin })
			if out, err := runCLI(t, "migrate", "down", "1", "--db", "users"); err != nil || !strings.Contains(out, "type users to revert it") {
				t.Fatalf("down confirmed on a terminal: %v\n%s", err, out)
			}
			if hasTable(t, users, dialect, "sessions") {
				t.Error("a confirmed down left sessions")
			}
			if out, err := runCLI(t, "migrate"); err != nil {
				t.Fatalf("migrate again: %v\n%s", err, out)
			}
			terminal = func() bool { return false }
			if out, err := runCLI(t, "migrate", "down", "1", "--db", "users", "--yes"); err != nil || hasTable(t, users, dialect, "sessions") {
				t.Errorf("down --yes: %v\n%s", err, out)
			}
		})
	}
}

// An application role may not create databases: down then says to set MIGRATION_DEV_URL, and
// works with it.
func TestDownWithTheApplicationsPrivileges(t *testing.T) {
	if !testdb.RequirePostgres(t, false) {
		t.Skip("needs PostgreSQL")
	}
	admin, err := sql.Open("postgres", testdb.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	role := "multidb_app_" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_"))[:8] + fmt.Sprint(time.Now().UnixNano()%1e9)
	exec(t, admin, `CREATE ROLE `+role+` LOGIN NOCREATEDB`)
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP ROLE IF EXISTS ` + role); err != nil {
			t.Errorf("drop role %s: %v", role, err)
		}
	})
	body := "ENV=development\n"
	for _, name := range database.Names() {
		raw := testdb.URL(t, config.Postgres, name)
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		dbname := strings.TrimPrefix(u.Path, "/")
		exec(t, admin, `ALTER DATABASE "`+dbname+`" OWNER TO `+role)
		exec(t, rawDB(t, raw), `ALTER SCHEMA public OWNER TO `+role)
		u.User = url.User(role)
		body += config.EnvVar(name) + "=" + u.String() + "\n"
	}
	inDir(t, map[string]string{".env": body})
	if out, err := runCLI(t, "migrate", "--db", "users"); err != nil {
		t.Fatalf("migrate as the application role: %v\n%s", err, out)
	}
	out, err := runCLI(t, "migrate", "down", "1", "--db", "users", "--dry-run")
	if err == nil || !strings.Contains(err.Error(), "MIGRATION_DEV_URL") {
		t.Fatalf("down as a role that may not create databases: got %v, want the advice to set MIGRATION_DEV_URL\n%s", err, out)
	}
	if err := os.WriteFile(".env.local", []byte("MIGRATION_DEV_URL="+testdb.ServerURL()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "migrate", "down", "1", "--db", "users"); err != nil || !strings.Contains(out, "drops table sessions") {
		t.Fatalf("down with MIGRATION_DEV_URL: %v\n%s", err, out)
	}
}
