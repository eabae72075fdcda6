package migration_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/migration"
	"github.com/multidb/multidb/internal/testdb"
)

// Versions of the small directories the tests build.
const (
	v1 = "20260101000001"
	v2 = "20260101000002"
	v3 = "20260101000003"
)

// TestShippedFiles takes every registered database up, checks it against its ent schema, down
// and up again, with the migration files the binary ships.
func TestShippedFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			set := testdb.Open(t, testdb.Config(t, d))
			for _, db := range set.DBs {
				t.Run(db.Name, func(t *testing.T) {
					t.Parallel()
					files, err := shippedDir(t, db).Files()
					if err != nil {
						t.Fatal(err)
					}
					var log bytes.Buffer
					m := newMigrator(t, db, migration.WithLog(&log))

					st, err := m.Status(ctx)
					if err != nil {
						t.Fatalf("Status: %v", err)
					}
					if st.OK() || len(st.Pending) != len(files) || st.Current != "" {
						t.Errorf("Status before Up: got OK=%v, %d pending, current %q; want false, %d, \"\"", st.OK(), len(st.Pending), st.Current, len(files))
					}
					if behind, err := m.Behind(ctx); err != nil || behind != len(files) {
						t.Errorf("Behind before Up: got %d, %v; want %d, nil", behind, err, len(files))
					}

					applied, err := m.Up(ctx, 0)
					if err != nil {
						t.Fatalf("Up: %v", err)
					}
					if len(applied) != len(files) {
						t.Fatalf("Up: got %d files applied, want %d", len(applied), len(files))
					}
					for i, a := range applied {
						want := fmt.Sprintf("%s: applied %s (", db.Name, strings.TrimSuffix(files[i].Name(), ".sql"))
						if !strings.Contains(log.String(), want) {
							t.Errorf("log: got %q, want a line starting %q", log.String(), want)
						}
						if a.Version != files[i].Version() || a.Statements == 0 {
							t.Errorf("applied[%d]: got %s with %d statements, want %s with some", i, a.File, a.Statements, files[i].Version())
						}
					}
					last := files[len(files)-1].Version()
					st, err = m.Status(ctx)
					if err != nil {
						t.Fatalf("Status: %v", err)
					}
					if !st.OK() || st.Current != last || len(st.Applied) != len(files) {
						t.Errorf("Status after Up: got OK=%v, current %q, %d applied; want true, %q, %d", st.OK(), st.Current, len(st.Applied), last, len(files))
					}
					for _, a := range st.Applied {
						if since := time.Since(a.AppliedAt); since < 0 || since > time.Minute || a.Statements == 0 {
							t.Errorf("Status: got %s applied at %s with %d statements, want within the last minute with some", a.File, a.AppliedAt, a.Statements)
						}
					}
					if behind, err := m.Behind(ctx); err != nil || behind != 0 {
						t.Errorf("Behind after Up: got %d, %v; want 0, nil", behind, err)
					}
					assertNoDrift(t, db)

					again, err := m.Up(ctx, 0)
					if err != nil || len(again) != 0 {
						t.Errorf("second Up: got %d files, %v; want 0, nil", len(again), err)
					}

					reverted, err := m.Down(ctx, 1)
					if err != nil {
						t.Fatalf("Down: %v", err)
					}
					if len(reverted) != 1 || reverted[0].Version != last {
						t.Errorf("Down 1: got %v, want [%s]", reverted, last)
					}
					if len(files) == 1 {
						assertTables(t, db, migration.RevisionsTable)
					}
					if behind, err := m.Behind(ctx); err != nil || behind != 1 {
						t.Errorf("Behind after Down 1: got %d, %v; want 1, nil", behind, err)
					}
					if _, err := m.Up(ctx, 0); err != nil {
						t.Fatalf("Up after Down: %v", err)
					}
					assertNoDrift(t, db)
					if n := revisionRows(t, db); n != len(files) {
						t.Errorf("revision rows: got %d, want %d", n, len(files))
					}
				})
			}
		})
	}
}

// threeFiles is a directory of three files; the second one is slow on PostgreSQL, so that
// concurrent migrators overlap.
func threeFiles(t *testing.T, dialect string) *migrate.MemDir {
	t.Helper()
	slow := ""
	if dialect == config.Postgres {
		slow = "SELECT pg_sleep(0.2);\n"
	}
	return memDir(t, map[string]string{
		v1 + "_a.sql": "CREATE TABLE a (id integer NOT NULL, PRIMARY KEY (id));\n",
		v2 + "_b.sql": slow + "CREATE TABLE b (id integer NOT NULL, name varchar(20) NULL, PRIMARY KEY (id));\nCREATE INDEX b_name ON b (name);\n",
		v3 + "_c.sql": "ALTER TABLE a ADD COLUMN note varchar(50) NULL;\nCREATE TABLE c (id integer NOT NULL, PRIMARY KEY (id));\n",
	})
}

// TestConcurrentUp runs migrators with pools of their own on one database at once: each file
// is applied exactly once and none of them fails.
func TestConcurrentUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			url := testdb.URL(t, d, "users")
			dir := threeFiles(t, d)
			const migrators = 4
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				applied []string
				errs    []error
			)
			dbs := make([]*database.DB, migrators)
			for i := range dbs {
				dbs[i] = openURL(t, "users", url)
			}
			// Create the database first, as a deployment has: connections that open a new
			// SQLite file at the same moment race to switch it to WAL, before any migrator runs.
			if err := dbs[0].SQL.PingContext(ctx); err != nil {
				t.Fatal(err)
			}
			for _, db := range dbs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					m, err := migration.New(db, migration.WithDir(dir))
					if err == nil {
						var files []migration.Applied
						files, err = m.Up(ctx, 0)
						mu.Lock()
						for _, f := range files {
							applied = append(applied, f.Version)
						}
						mu.Unlock()
					}
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			for _, err := range errs {
				t.Errorf("Up: %v", err)
			}
			slices.Sort(applied)
			if want := []string{v1, v2, v3}; !slices.Equal(applied, want) {
				t.Errorf("files applied by %d migrators: got %v, want each of %v once", migrators, applied, want)
			}
			if n := revisionRows(t, dbs[0]); n != 3 {
				t.Errorf("revision rows: got %d, want 3", n)
			}
			assertTables(t, dbs[0], "a", "b", "c", migration.RevisionsTable)
		})
	}
}

// TestLockTimeout holds the advisory lock of a PostgreSQL database: a migrator waits for it,
// gives up with ErrLocked after its timeout, and succeeds once the lock is released.
func TestLockTimeout(t *testing.T) {
	t.Parallel()
	testdb.RequirePostgres(t, true)
	ctx := context.Background()
	db := openDB(t, config.Postgres, "users")
	holder, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migration.LockKey("users")); err != nil {
		t.Fatal(err)
	}
	m := newMigrator(t, db, migration.WithDir(threeFiles(t, config.SQLite)), migration.WithLockTimeout(300*time.Millisecond))
	start := time.Now()
	_, err = m.Up(ctx, 0)
	assertErr(t, err, migration.ErrLocked, "users")
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("waited %s for the lock, want at least 300ms", waited)
	}
	assertTables(t, db)

	if _, err := holder.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, migration.LockKey("users")); err != nil {
		t.Fatal(err)
	}
	if applied, err := m.Up(ctx, 0); err != nil || len(applied) != 3 {
		t.Fatalf("Up after unlock: got %d files, %v; want 3, nil", len(applied), err)
	}
}

// TestTamperedDirectory refuses directories that do not match their atlas.sum, applying nothing.
func TestTamperedDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			tests := []struct {
				name   string
				tamper func(t *testing.T, dir *migrate.MemDir, file string)
				names  string // what the error must name besides the database
			}{
				{
					name: "edited file",
					tamper: func(t *testing.T, dir *migrate.MemDir, file string) {
						b, _ := readFile(dir, file)
						dir.WriteFile(file, append(b, "\nDROP TABLE users;\n"...))
					},
				},
				{
					name: "edited sum",
					tamper: func(t *testing.T, dir *migrate.MemDir, file string) {
						b, _ := readFile(dir, migrate.HashFileName)
						i := bytes.Index(b, []byte(file+" h1:")) + len(file) + 4
						b[i] ^= 1
						dir.WriteFile(migrate.HashFileName, b)
					},
				},
				{
					name: "file added without sum",
					tamper: func(t *testing.T, dir *migrate.MemDir, file string) {
						dir.WriteFile("20990101000000_late.sql", []byte("CREATE TABLE late (id integer);\n"))
					},
					names: "20990101000000_late.sql",
				},
			}
			for _, tt := range tests {
				t.Run(strings.ReplaceAll(tt.name, " ", "_"), func(t *testing.T) {
					db := openDB(t, d, "users")
					dir := shippedDir(t, db)
					files, _ := dir.Files()
					file := files[0].Name()
					tt.tamper(t, dir, file)
					if tt.names == "" {
						tt.names = file
					}
					m := newMigrator(t, db, migration.WithDir(dir))
					_, err := m.Up(ctx, 0)
					assertErr(t, err, migration.ErrChecksum, "users", tt.names)
					_, err = m.Status(ctx)
					assertErr(t, err, migration.ErrChecksum, "users", tt.names)
					assertTables(t, db) // nothing, not even the revisions table
				})
			}
		})
	}
}

func readFile(dir migrate.Dir, name string) ([]byte, error) {
	f, err := dir.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(f)
	return b.Bytes(), err
}

// TestHistoryRefused refuses databases whose history the directory contradicts.
func TestHistoryRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := "CREATE TABLE a (id integer NOT NULL, PRIMARY KEY (id));\n"
	b := "CREATE TABLE b (id integer NOT NULL, PRIMARY KEY (id));\n"
	c := "CREATE TABLE c (id integer NOT NULL, PRIMARY KEY (id));\n"
	tests := []struct {
		name   string
		before map[string]string // applied first
		after  map[string]string // then refused
		want   error
		names  string
	}{
		{
			// A missing latest file is a database ahead of the directory (ErrAhead, which
			// Status reports rather than fails on): the missing file here is in between.
			name:   "missing applied file",
			before: map[string]string{v1 + "_a.sql": a, v2 + "_b.sql": b, v3 + "_c.sql": c},
			after:  map[string]string{v1 + "_a.sql": a, v3 + "_c.sql": c},
			want:   migration.ErrMissingFile,
			names:  v2 + "_b.sql",
		},
		{
			name:   "file out of order",
			before: map[string]string{v1 + "_a.sql": a, v3 + "_c.sql": c},
			after:  map[string]string{v1 + "_a.sql": a, v2 + "_b.sql": b, v3 + "_c.sql": c},
			want:   migration.ErrOutOfOrder,
			names:  v2 + "_b.sql",
		},
		{
			name:   "file older than every applied one",
			before: map[string]string{v2 + "_b.sql": b, v3 + "_c.sql": c},
			after:  map[string]string{v1 + "_a.sql": a, v2 + "_b.sql": b, v3 + "_c.sql": c},
			want:   migration.ErrOutOfOrder,
			names:  v1 + "_a.sql",
		},
		{
			name:   "applied file changed",
			before: map[string]string{v1 + "_a.sql": a},
			after:  map[string]string{v1 + "_a.sql": a + "CREATE INDEX a_id ON a (id);\n"},
			want:   migration.ErrChecksum,
			names:  v1 + "_a.sql",
		},
	}
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			for _, tt := range tests {
				t.Run(strings.ReplaceAll(tt.name, " ", "_"), func(t *testing.T) {
					db := openDB(t, d, "users")
					if _, err := newMigrator(t, db, migration.WithDir(memDir(t, tt.before))).Up(ctx, 0); err != nil {
						t.Fatalf("Up: %v", err)
					}
					before := tables(t, db)
					m := newMigrator(t, db, migration.WithDir(memDir(t, tt.after)))
					_, err := m.Up(ctx, 0)
					assertErr(t, err, tt.want, "users", tt.names)
					_, err = m.Status(ctx)
					assertErr(t, err, tt.want, "users", tt.names)
					assertTables(t, db, before...)
				})
			}
		})
	}
}

// TestFailingFile leaves the database at the last good file, without a trace of the failed one.
func TestFailingFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			db := openDB(t, d, "users")
			dir := memDir(t, map[string]string{
				v1 + "_a.sql": "CREATE TABLE a (id integer NOT NULL, PRIMARY KEY (id));\n",
				v2 + "_b.sql": "CREATE TABLE b (id integer NOT NULL, PRIMARY KEY (id));\nINSERT INTO a (id) VALUES (1);\nINSERT INTO missing (id) VALUES (1);\n",
			})
			m := newMigrator(t, db, migration.WithDir(dir))
			applied, err := m.Up(ctx, 0)
			assertErr(t, err, nil, "users", v2+"_b.sql", "statement 3", "missing")
			if len(applied) != 1 || applied[0].Version != v1 {
				t.Errorf("applied: got %v, want [%s]", applied, v1)
			}
			st, err := m.Status(ctx)
			if err != nil {
				t.Fatalf("Status: %v", err)
			}
			if st.Current != v1 || len(st.Pending) != 1 || st.Pending[0].Version != v2 {
				t.Errorf("Status: got current %q, pending %v; want %q, [%s]", st.Current, st.Pending, v1, v2)
			}
			assertTables(t, db, "a", migration.RevisionsTable)
			var rows int
			if err := db.SQL.QueryRow(`SELECT count(*) FROM a`).Scan(&rows); err != nil || rows != 0 {
				t.Errorf("rows in a: got %d, %v; want 0, nil", rows, err)
			}
		})
	}
}

// TestNotClean refuses a database with tables of its own and no history, unless baselined.
func TestNotClean(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			db := openDB(t, d, "users")
			if _, err := db.SQL.Exec(`CREATE TABLE a (id integer NOT NULL, PRIMARY KEY (id))`); err != nil {
				t.Fatal(err)
			}
			dir := threeFiles(t, d)
			_, err := newMigrator(t, db, migration.WithDir(dir)).Up(ctx, 0)
			assertErr(t, err, migration.ErrNotClean, "users", `"a"`)
			var nce *migrate.NotCleanError
			if !errors.As(err, &nce) {
				t.Errorf("got %T, want a *migrate.NotCleanError in the chain", err)
			}
			assertTables(t, db, "a")

			m := newMigrator(t, db, migration.WithDir(dir), migration.WithBaseline(v1))
			applied, err := m.Up(ctx, 0)
			if err != nil {
				t.Fatalf("Up with baseline: %v", err)
			}
			if len(applied) != 2 || applied[0].Version != v2 {
				t.Errorf("applied: got %v, want [%s %s]", applied, v2, v3)
			}
			st, err := m.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !st.OK() || len(st.Applied) != 3 || !st.Applied[0].Baseline {
				t.Errorf("Status: got OK=%v, applied %v; want true and 3 files, the first a baseline", st.OK(), st.Applied)
			}
			if _, err := m.Down(ctx, 3); err == nil || !strings.Contains(err.Error(), "baseline") {
				t.Errorf("Down past the baseline: got %v, want an error naming the baseline", err)
			}
		})
	}
}

// TestDryRun prints the SQL of Up and Down and changes nothing.
func TestDryRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			db := openDB(t, d, "users")
			dir := threeFiles(t, d)
			var out bytes.Buffer
			dry := newMigrator(t, db, migration.WithDir(dir), migration.WithDryRun(&out))
			applied, err := dry.Up(ctx, 2)
			if err != nil {
				t.Fatalf("dry Up: %v", err)
			}
			if len(applied) != 2 {
				t.Errorf("dry Up 2: got %d files, want 2", len(applied))
			}
			for _, want := range []string{"-- users: apply " + v1 + "_a.sql", "CREATE TABLE a", "CREATE INDEX b_name"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("dry Up printed %q, want it to contain %q", out.String(), want)
				}
			}
			if strings.Contains(out.String(), "CREATE TABLE c") {
				t.Errorf("dry Up 2 printed %q, want nothing of the third file", out.String())
			}
			assertTables(t, db)

			if _, err := newMigrator(t, db, migration.WithDir(dir)).Up(ctx, 0); err != nil {
				t.Fatal(err)
			}
			out.Reset()
			reverted, err := dry.Down(ctx, 2)
			if err != nil {
				t.Fatalf("dry Down: %v", err)
			}
			if len(reverted) != 2 || reverted[0].Version != v3 || reverted[1].Version != v2 {
				t.Errorf("dry Down 2: got %v, want [%s %s]", reverted, v3, v2)
			}
			for _, want := range []string{"-- users: revert " + v3 + "_c, " + v2 + "_b", "DROP TABLE", `c`} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("dry Down printed %q, want it to contain %q", out.String(), want)
				}
			}
			assertTables(t, db, "a", "b", "c", migration.RevisionsTable)
			if n := revisionRows(t, db); n != 3 {
				t.Errorf("revision rows after dry Down: got %d, want 3", n)
			}
		})
	}
}

// TestDown reverts several files, keeping the data of the tables that stay.
func TestDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			db := openDB(t, d, "users")
			db.SQL.SetMaxOpenConns(1) // a run works on one connection and never waits on itself
			var log bytes.Buffer
			m := newMigrator(t, db, migration.WithDir(threeFiles(t, d)), migration.WithLog(&log))
			if _, err := m.Up(ctx, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL.Exec(`INSERT INTO a (id, note) VALUES (1, 'kept')`); err != nil {
				t.Fatal(err)
			}
			reverted, err := m.Down(ctx, 2)
			if err != nil {
				t.Fatalf("Down 2: %v", err)
			}
			if len(reverted) != 2 {
				t.Errorf("Down 2: got %v, want 2 files", reverted)
			}
			if want := "users: reverted " + v3 + "_c, " + v2 + "_b ("; !strings.Contains(log.String(), want) {
				t.Errorf("log: got %q, want a line starting %q", log.String(), want)
			}
			assertTables(t, db, "a", migration.RevisionsTable)
			if got, want := columns(t, db, "a"), []string{"id"}; !slices.Equal(got, want) {
				t.Errorf("columns of a: got %v, want %v", got, want)
			}
			var rows int
			if err := db.SQL.QueryRow(`SELECT count(*) FROM a`).Scan(&rows); err != nil || rows != 1 {
				t.Errorf("rows in a: got %d, %v; want 1, nil", rows, err)
			}
			st, err := m.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Current != v1 || len(st.Pending) != 2 {
				t.Errorf("Status: got current %q, %d pending; want %q, 2", st.Current, len(st.Pending), v1)
			}
			if reverted, err := m.Down(ctx, 5); err != nil || len(reverted) != 1 {
				t.Errorf("Down 5 with one file applied: got %v, %v; want 1 file, nil", reverted, err)
			}
			assertTables(t, db, migration.RevisionsTable)
			if reverted, err := m.Down(ctx, 1); err != nil || len(reverted) != 0 {
				t.Errorf("Down with nothing applied: got %v, %v; want none, nil", reverted, err)
			}
		})
	}
}

// TestSharedDatabase keeps two registered databases that share one SQL database apart.
func TestSharedDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			url := testdb.URL(t, d, "shared")
			users, analytics := openURL(t, "users", url), openURL(t, "analytics", url)
			mu, ma := newMigrator(t, users), newMigrator(t, analytics)
			for _, m := range []*migration.Migrator{mu, ma} {
				if _, err := m.Up(ctx, 0); err != nil {
					t.Fatalf("Up: %v", err)
				}
			}
			// The tables come from the ent schemas, so that a type added to either database
			// changes what is expected with it.
			usersTables, analyticsTables := specTables(users.Spec), specTables(analytics.Spec)
			if d == config.Postgres {
				// And the tables without an ent type, PostgreSQL's rollups of the events.
				unmapped, err := migration.UnmappedTables("analytics")
				if err != nil || len(unmapped) == 0 {
					t.Fatalf("UnmappedTables(analytics): %v, %v", unmapped, err)
				}
				analyticsTables = append(analyticsTables, unmapped...)
			}
			assertTables(t, users, slices.Concat(usersTables, analyticsTables, []string{migration.RevisionsTable})...)
			// Reverting every users file removes users' tables and none of analytics'.
			if _, err := mu.Down(ctx, 100); err != nil {
				t.Fatalf("Down users: %v", err)
			}
			assertTables(t, users, append(analyticsTables, migration.RevisionsTable)...)
			if behind, err := ma.Behind(ctx); err != nil || behind != 0 {
				t.Errorf("analytics Behind: got %d, %v; want 0, nil", behind, err)
			}
			if behind, err := mu.Behind(ctx); err != nil || behind == 0 {
				t.Errorf("users Behind: got %d, %v; want more than 0, nil", behind, err)
			}
		})
	}
}

// TestLint reports the tables and columns the latest file drops, at their lines.
func TestLint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := map[string]string{
		v1 + "_a.sql": "CREATE TABLE a (id integer NOT NULL, note varchar(50) NULL, PRIMARY KEY (id));\nCREATE TABLE b (id integer NOT NULL, PRIMARY KEY (id));\n",
	}
	tests := []struct {
		name    string
		dialect string // only this one, when set
		latest  string
		want    []string // "line: code"
	}{
		{
			name:   "destructive",
			latest: "-- drop what is no longer used\nALTER TABLE a DROP COLUMN note;\nDROP TABLE b;\n",
			want:   []string{"2: DS103", "3: DS102"},
		},
		{
			// SQLite alters a table by copying it: that drops a column, not the table.
			name:    "table copy",
			dialect: config.SQLite,
			latest: "PRAGMA foreign_keys = off;\nCREATE TABLE new_a (id integer NOT NULL, PRIMARY KEY (id));\n" +
				"INSERT INTO new_a (id) SELECT id FROM a;\nDROP TABLE a;\nALTER TABLE new_a RENAME TO a;\nPRAGMA foreign_keys = on;\n",
			want: []string{"4: DS103"},
		},
		{
			name:   "additive",
			latest: "ALTER TABLE a ADD COLUMN title varchar(50) NULL;\nCREATE TABLE c (id integer NOT NULL, PRIMARY KEY (id));\n",
		},
	}
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			for _, tt := range tests {
				if tt.dialect != "" && tt.dialect != d {
					continue
				}
				t.Run(strings.ReplaceAll(tt.name, " ", "_"), func(t *testing.T) {
					files := map[string]string{v2 + "_b.sql": tt.latest}
					for k, v := range base {
						files[k] = v
					}
					diags, err := migration.Lint(ctx, memDir(t, files), d, testdb.ServerURL())
					if err != nil {
						t.Fatalf("Lint: %v", err)
					}
					var got []string
					for _, diag := range diags {
						if diag.File != v2+"_b.sql" {
							t.Errorf("diagnostic %s: got file %s, want %s_b.sql", diag, diag.File, v2)
						}
						got = append(got, fmt.Sprintf("%d: %s", diag.Line, diag.Code))
					}
					if !slices.Equal(got, tt.want) {
						t.Errorf("diagnostics: got %v, want %v (%v)", got, tt.want, diags)
					}
				})
			}
		})
	}
}

// TestInterrupted cancels a run in the middle of a file, as a killed process would stop: the
// database stays at the previous file and the next run applies the rest.
func TestInterrupted(t *testing.T) {
	t.Parallel()
	testdb.RequirePostgres(t, true)
	db := openDB(t, config.Postgres, "users")
	m := newMigrator(t, db, migration.WithDir(memDir(t, map[string]string{
		v1 + "_a.sql": "CREATE TABLE a (id integer NOT NULL, PRIMARY KEY (id));\n",
		v2 + "_b.sql": "CREATE TABLE b (id integer NOT NULL, PRIMARY KEY (id));\nSELECT pg_sleep(1);\n",
	})))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := m.Up(ctx, 0); err == nil {
		t.Fatal("Up with a deadline inside the second file: got no error, want one")
	}
	ctx = context.Background()
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Current != v1 {
		t.Errorf("current version after the interruption: got %q, want %q", st.Current, v1)
	}
	assertTables(t, db, "a", migration.RevisionsTable)
	if applied, err := m.Up(ctx, 0); err != nil || len(applied) != 1 || applied[0].Version != v2 {
		t.Errorf("Up after the interruption: got %v, %v; want [%s], nil", applied, err, v2)
	}
}

// TestSQLiteTableRebuild applies and reverts a file that rebuilds a table other rows reference,
// as atlas plans SQLite alterations: foreign keys are checked once the file is done, and are
// enforced again afterwards.
func TestSQLiteTableRebuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t, config.SQLite, "users")
	m := newMigrator(t, db, migration.WithDir(memDir(t, map[string]string{
		v1 + "_a.sql": "CREATE TABLE parent (id integer NOT NULL, PRIMARY KEY (id));\n" +
			"CREATE TABLE child (id integer NOT NULL, parent_id integer NOT NULL REFERENCES parent (id), PRIMARY KEY (id));\n",
		v2 + "_b.sql": "PRAGMA foreign_keys = off;\n" +
			"CREATE TABLE new_parent (id integer NOT NULL, name text NOT NULL DEFAULT 'x', PRIMARY KEY (id));\n" +
			"INSERT INTO new_parent (id) SELECT id FROM parent;\n" +
			"DROP TABLE parent;\n" +
			"ALTER TABLE new_parent RENAME TO parent;\n" +
			"PRAGMA foreign_keys = on;\n",
	})))
	if _, err := m.Up(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL.Exec(`INSERT INTO parent (id) VALUES (1); INSERT INTO child (id, parent_id) VALUES (1, 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(ctx, 0); err != nil {
		t.Fatalf("Up of the rebuild: %v", err)
	}
	if got, want := columns(t, db, "parent"), []string{"id", "name"}; !slices.Equal(got, want) {
		t.Errorf("columns of parent: got %v, want %v", got, want)
	}
	if _, err := m.Down(ctx, 1); err != nil {
		t.Fatalf("Down of the rebuild: %v", err)
	}
	if got, want := columns(t, db, "parent"), []string{"id"}; !slices.Equal(got, want) {
		t.Errorf("columns of parent after Down: got %v, want %v", got, want)
	}
	var n int
	if err := db.SQL.QueryRow(`SELECT count(*) FROM child JOIN parent ON parent.id = child.parent_id`).Scan(&n); err != nil || n != 1 {
		t.Errorf("children with their parent: got %d, %v; want 1, nil", n, err)
	}
	if _, err := db.SQL.Exec(`INSERT INTO child (id, parent_id) VALUES (2, 99)`); err == nil {
		t.Error("insert of an orphan after the migrations: got no error, want a foreign key error")
	}
}

// The shipped optional_text_null file turns the empty strings that stood for "not set" into
// nulls, now that the graph shows optional text as null.
func TestOptionalTextBecomesNull(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			dir, err := migration.EmbeddedDir("logs", d)
			if err != nil {
				t.Fatal(err)
			}
			files, err := dir.Files()
			if err != nil {
				t.Fatal(err)
			}
			idx := slices.IndexFunc(files, func(f migrate.File) bool { return f.Desc() == "optional_text_null" })
			if idx < 1 {
				t.Fatalf("logs ships no optional_text_null file after another: %v", files)
			}
			db := openDB(t, d, "logs")
			m := newMigrator(t, db)
			if _, err := m.Up(ctx, idx); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL.ExecContext(ctx, `INSERT INTO log_entries (id, level, message, request_id, created_at) VALUES ('0193a5a0-0000-7000-8000-000000000001', 'INFO', 'm', '', CURRENT_TIMESTAMP)`); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Up(ctx, 1); err != nil {
				t.Fatal(err)
			}
			var rid sql.NullString
			if err := db.SQL.QueryRowContext(ctx, `SELECT request_id FROM log_entries`).Scan(&rid); err != nil {
				t.Fatal(err)
			}
			if rid.Valid {
				t.Errorf("request_id: got %q, want null", rid.String)
			}
		})
	}
}
