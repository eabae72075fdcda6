package migration_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	entsql "entgo.io/ent/dialect/sql"
	entschema "entgo.io/ent/dialect/sql/schema"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/migration"
	"github.com/multidb/multidb/internal/testdb"
)

// openDB opens a new, empty database of the dialect for the registered database name.
func openDB(t *testing.T, dialect, name string) *database.DB {
	t.Helper()
	return openURL(t, name, testdb.URL(t, dialect, name))
}

// openURL opens the registered database name at url with a pool of its own.
func openURL(t *testing.T, name, url string) *database.DB {
	t.Helper()
	spec, ok := database.Lookup(name)
	if !ok {
		t.Fatalf("database %q is not registered", name)
	}
	cfg, err := config.ParseURL(url)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	cfg.Name, cfg.EnvVar = name, config.EnvVar(name)
	pool, err := sql.Open(cfg.Driver, cfg.DSN)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { pool.Close() })
	return &database.DB{Spec: spec, Config: cfg, SQL: pool, Driver: entsql.OpenDB(cfg.Dialect, pool)}
}

// newMigrator returns a Migrator for db or fails the test.
func newMigrator(t *testing.T, db *database.DB, opts ...migration.Option) *migration.Migrator {
	t.Helper()
	m, err := migration.New(db, opts...)
	if err != nil {
		t.Fatalf("New(%s): %v", db.Name, err)
	}
	return m
}

// memDir builds a migration directory from name -> content, with a valid atlas.sum.
func memDir(t *testing.T, files map[string]string) *migrate.MemDir {
	t.Helper()
	dir := &migrate.MemDir{}
	for name, content := range files {
		if err := dir.WriteFile(name, []byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	rehash(t, dir)
	return dir
}

// rehash rewrites the atlas.sum of dir to match its files.
func rehash(t *testing.T, dir migrate.Dir) {
	t.Helper()
	sum, err := dir.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate.WriteSumFile(dir, sum); err != nil {
		t.Fatal(err)
	}
}

// shippedDir returns a writable copy of the directory the binary embeds for db.
func shippedDir(t *testing.T, db *database.DB) *migrate.MemDir {
	t.Helper()
	dir, err := migration.EmbeddedDir(db.Name, db.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	return dir.(*migrate.MemDir)
}

// tables lists the tables of db's schema, sorted.
func tables(t *testing.T, db *database.DB) []string {
	t.Helper()
	query := `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`
	if db.Dialect() == config.SQLite {
		query = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	}
	rows, err := db.SQL.Query(query)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

// assertTables fails unless db has exactly the tables want.
func assertTables(t *testing.T, db *database.DB, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := tables(t, db); !slices.Equal(got, want) {
		t.Errorf("tables of %s: got %v, want %v", db.Name, got, want)
	}
}

// specTables lists the tables of a database's ent schema.
func specTables(spec database.Spec) []string {
	names := make([]string, len(spec.Tables))
	for i, tbl := range spec.Tables {
		names[i] = tbl.Name
	}
	return names
}

// columns lists the columns of table in db, in order.
func columns(t *testing.T, db *database.DB, table string) []string {
	t.Helper()
	query := `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`
	if db.Dialect() == config.SQLite {
		query = `SELECT name FROM pragma_table_info(?) ORDER BY cid`
	}
	rows, err := db.SQL.Query(query, table)
	if err != nil {
		t.Fatalf("list columns: %v", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}

// revisionRows counts the revision rows of db.
func revisionRows(t *testing.T, db *database.DB) int {
	t.Helper()
	var n int
	if err := db.SQL.QueryRow(`SELECT count(*) FROM ` + migration.RevisionsTable).Scan(&n); err != nil {
		t.Fatalf("count revisions: %v", err)
	}
	return n
}

// assertNoDrift fails when ent would change the live schema of db to match its ent schema.
func assertNoDrift(t *testing.T, db *database.DB) {
	t.Helper()
	dir := &migrate.MemDir{}
	m, err := entschema.NewMigrate(db.Driver,
		entschema.WithMigrationMode(entschema.ModeInspect),
		entschema.WithDir(dir),
		entschema.WithFormatter(migrate.DefaultFormatter),
		entschema.WithDropColumn(true),
		entschema.WithDropIndex(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.NamedDiff(context.Background(), "drift", db.Tables...); err != nil {
		t.Fatalf("diff %s against its ent schema: %v", db.Name, err)
	}
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Errorf("%s drifts from its ent schema: got changes\n%s\nwant none", db.Name, strings.TrimSpace(string(f.Bytes())))
	}
}

// assertErr fails unless err matches target and its message names every string in names.
func assertErr(t *testing.T, err, target error, names ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", target)
	}
	if target != nil && !errors.Is(err, target) {
		t.Errorf("got error %q, want one wrapping %q", err, target)
	}
	for _, n := range names {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("got error %q, want it to name %q", err, n)
		}
	}
}
