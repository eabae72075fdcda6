// Package testdb gives each test its own fresh databases: SQLite files in a temporary directory,
// or uniquely named PostgreSQL databases on the local server, dropped when the test ends.
package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/migration"
)

// ServerURL is the PostgreSQL server tests create databases on; TEST_POSTGRES_URL overrides it.
func ServerURL() string {
	if u := os.Getenv("TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return migration.DefaultDevURL
}

// Dialects returns the dialects to run a test on: SQLite always, PostgreSQL when its server
// answers. With CI=true an unreachable PostgreSQL fails the test instead of being left out.
func Dialects(t testing.TB) []string {
	t.Helper()
	if RequirePostgres(t, false) {
		return []string{config.SQLite, config.Postgres}
	}
	return []string{config.SQLite}
}

// RequirePostgres reports whether the PostgreSQL server answers. When it does not, it fails the
// test under CI=true, and otherwise skips it when skip is set.
func RequirePostgres(t testing.TB, skip bool) bool {
	t.Helper()
	cfg, err := config.ParseURL(ServerURL())
	if err != nil {
		t.Fatalf("TEST_POSTGRES_URL: %v", err)
	}
	db, err := sql.Open("postgres", cfg.DSN)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = db.PingContext(ctx)
		cancel()
		db.Close()
	}
	if err == nil {
		return true
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL at %s is required when CI=true: %v", cfg.URL, err)
	}
	if skip {
		t.Skipf("PostgreSQL at %s is not reachable: %v", cfg.URL, err)
	}
	t.Logf("PostgreSQL at %s is not reachable, running on SQLite only: %v", cfg.URL, err)
	return false
}

// URL returns the URL of a new, empty database of the given dialect, removed when t ends.
func URL(t testing.TB, dialect, name string) string {
	t.Helper()
	switch dialect {
	case config.SQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), name+".db")
	case config.Postgres:
		ctx := context.Background()
		dsn, dbname, err := migration.TempPostgresDSN(ctx, ServerURL(), "multidb_test_"+name)
		if err != nil {
			t.Fatalf("create test database: %v", err)
		}
		t.Cleanup(func() {
			if err := migration.DropPostgres(context.Background(), ServerURL(), dbname); err != nil {
				t.Errorf("drop test database %s: %v", dbname, err)
			}
		})
		return dsn
	default:
		t.Fatalf("unknown dialect %q", dialect)
		return ""
	}
}

// Config returns a test configuration in which every registered database is a new, empty
// database of the given dialect.
func Config(t testing.TB, dialect string) *config.Config {
	t.Helper()
	cfg := &config.Config{Env: config.Test, Port: 0, DataDir: t.TempDir(), Lookup: func(string) (string, bool) { return "", false }}
	for _, name := range database.Names() {
		db, err := config.ParseURL(URL(t, dialect, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		db.Name, db.EnvVar = name, config.EnvVar(name)
		cfg.Databases = append(cfg.Databases, db)
	}
	return cfg
}

// Open opens the databases of cfg and closes them when t ends.
func Open(t testing.TB, cfg *config.Config, opts ...database.Option) *database.Set {
	t.Helper()
	set, err := database.Open(cfg, opts...)
	if err != nil {
		t.Fatalf("open databases: %v", err)
	}
	t.Cleanup(func() { set.Close() })
	return set
}

// Name is a readable label for a dialect in subtest names.
func Name(dialect string) string {
	if dialect == config.SQLite {
		return "sqlite"
	}
	return fmt.Sprint(dialect)
}

// OpenMigrated opens fresh databases of the given dialect, brings every one to the latest
// shipped migration, and closes them when t ends.
func OpenMigrated(t testing.TB, dialect string, opts ...database.Option) *database.Set {
	t.Helper()
	set := Open(t, Config(t, dialect), opts...)
	for _, db := range set.DBs {
		if err := migrateUp(context.Background(), db); err != nil {
			t.Fatalf("migrate %s: %v", db.Name, err)
		}
	}
	return set
}
