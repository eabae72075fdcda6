package migration_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	entschema "entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"

	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/migration"
	"github.com/multidb/multidb/internal/testdb"
)

// copyShipped copies migrate/<db>/ into a temporary root and returns the root.
func copyShipped(t *testing.T, db string) string {
	t.Helper()
	root := t.TempDir()
	for _, dialect := range []string{"postgres", "sqlite"} {
		src := filepath.Join("..", "..", "migrate", db, dialect)
		dst := filepath.Join(root, db, dialect)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// TestShippedMigrationsMatchTheSchema is the drift check of `make migration`: diffing every
// ent schema against its committed directory, on both engines, writes nothing.
func TestShippedMigrationsMatchTheSchema(t *testing.T) {
	testdb.RequirePostgres(t, true)
	for _, spec := range database.Registry {
		t.Run(spec.Name, func(t *testing.T) {
			root := copyShipped(t, spec.Name)
			files, err := migration.Generate(context.Background(), root, spec, "drift", testdb.ServerURL())
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 0 {
				t.Errorf("the ent schema of %s differs from its migrations; run make migration DB=%s NAME=…; generated %v", spec.Name, spec.Name, files)
			}
		})
	}
}

// probeColumn is the column TestGenerateWritesTheNextFileForEveryDialect adds. No schema has it,
// unlike a column a team might add itself (README's own example adds avatar_url to users).
const probeColumn = "generate_test_probe"

// TestGenerateWritesTheNextFileForEveryDialect changes a schema and checks that the new files
// hold the change, keep atlas.sum valid, and apply on top of the shipped ones.
func TestGenerateWritesTheNextFileForEveryDialect(t *testing.T) {
	testdb.RequirePostgres(t, true)
	spec, _ := database.Lookup("users")
	changed := spec
	changed.Tables = withProbe(t, spec.Tables, "users")
	root := copyShipped(t, spec.Name)
	files, err := migration.Generate(context.Background(), root, changed, "add_probe", testdb.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("got files %v, want one per dialect", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(f, "_add_probe.sql") || !strings.Contains(string(b), probeColumn) {
			t.Errorf("%s does not add %s:\n%s", f, probeColumn, b)
		}
		dir, err := migrate.NewLocalDir(filepath.Dir(f))
		if err != nil {
			t.Fatal(err)
		}
		if err := migrate.Validate(dir); err != nil {
			t.Errorf("%s: atlas.sum does not match: %v", filepath.Dir(f), err)
		}
	}
	for _, dialect := range testdb.Dialects(t) {
		t.Run(testdb.Name(dialect), func(t *testing.T) {
			dir, err := migrate.NewLocalDir(filepath.Join(root, spec.Name, migration.DialectDir(dialect)))
			if err != nil {
				t.Fatal(err)
			}
			db := openDB(t, dialect, spec.Name)
			applied, err := newMigrator(t, db, migration.WithDir(dir)).Up(context.Background(), 0)
			if err != nil || len(applied) < 2 || applied[len(applied)-1].Description != "add_probe" {
				t.Fatalf("applied %v, err %v; want the shipped files, then the new one", applied, err)
			}
			if cols := columns(t, db, "users"); !slices.Contains(cols, probeColumn) {
				t.Errorf("users columns %v lack %s", cols, probeColumn)
			}
		})
	}
}

// withProbe returns a copy of tables whose table named table has probeColumn too.
func withProbe(t *testing.T, tables []*entschema.Table, table string) []*entschema.Table {
	t.Helper()
	out := make([]*entschema.Table, len(tables))
	found := false
	for i, tbl := range tables {
		c := *tbl
		if c.Name == table {
			found = true
			for _, col := range c.Columns {
				if col.Name == probeColumn {
					t.Fatalf("table %s already has column %s; the test needs a column of its own", table, probeColumn)
				}
			}
			c.Columns = append(append([]*entschema.Column{}, c.Columns...),
				&entschema.Column{Name: probeColumn, Type: field.TypeString, Nullable: true})
		}
		out[i] = &c
	}
	if !found {
		t.Fatalf("no table %s in the schema", table)
	}
	return out
}
