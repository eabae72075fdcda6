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

// withRenamedColumn returns a copy of tables in which table's column from is called to.
func withRenamedColumn(t *testing.T, tables []*entschema.Table, table, from, to string) []*entschema.Table {
	t.Helper()
	out := make([]*entschema.Table, len(tables))
	found := false
	for i, tbl := range tables {
		c := *tbl
		if c.Name == table {
			c.Columns = make([]*entschema.Column, len(tbl.Columns))
			for j, col := range tbl.Columns {
				cc := *col
				if cc.Name == from {
					cc.Name, found = to, true
				}
				c.Columns[j] = &cc
			}
		}
		out[i] = &c
	}
	if !found {
		t.Fatalf("no column %s.%s in the schema", table, from)
	}
	return out
}

// A declared rename generates RENAME COLUMN on both engines, in files of one version; the same
// change undeclared is a drop and an add, which lint names as a probable rename.
func TestGenerateRenameAndOneVersion(t *testing.T) {
	testdb.RequirePostgres(t, true)
	ctx := context.Background()
	spec, _ := database.Lookup("users")
	changed := spec
	changed.Tables = withRenamedColumn(t, spec.Tables, "users", "name", "display_name")

	root := copyShipped(t, spec.Name)
	files, err := migration.Generate(ctx, root, changed, "rename_name", testdb.ServerURL(),
		migration.Rename{Table: "users", From: "name", To: "display_name"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("got files %v, want one per engine", files)
	}
	if a, b := filepath.Base(files[0]), filepath.Base(files[1]); a != b {
		t.Errorf("the engines' files have different names: %s and %s", a, b)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sql := strings.ToUpper(string(b))
		if !strings.Contains(sql, "RENAME COLUMN") || strings.Contains(sql, "DROP COLUMN") {
			t.Errorf("%s: want a RENAME COLUMN and no DROP COLUMN:\n%s", f, b)
		}
		dir, err := migrate.NewLocalDir(filepath.Dir(f))
		if err != nil {
			t.Fatal(err)
		}
		if err := migrate.Validate(dir); err != nil {
			t.Errorf("%s: atlas.sum does not match: %v", filepath.Dir(f), err)
		}
	}
	if _, err := migration.Generate(ctx, copyShipped(t, spec.Name), changed, "x", testdb.ServerURL(),
		migration.Rename{Table: "users", From: "nope", To: "display_name"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("a rename the change does not contain: got %v, want an error naming it", err)
	}

	// Undeclared: lint names it and says how to declare it.
	root = copyShipped(t, spec.Name)
	if _, err := migration.Generate(ctx, root, changed, "drop_and_add", testdb.ServerURL()); err != nil {
		t.Fatal(err)
	}
	for dirName, dialect := range migration.Dialects {
		dir, err := migrate.NewLocalDir(filepath.Join(root, spec.Name, dirName))
		if err != nil {
			t.Fatal(err)
		}
		diags, err := migration.Lint(ctx, dir, dialect, testdb.ServerURL())
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, d := range diags {
			if d.Code == migration.CodeProbableRename && strings.Contains(d.Text, "RENAME=users.name:display_name") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: lint found %v, want a probable rename of name to display_name", dirName, diags)
		}
	}
}

// After a reviewed hand edit, Hash makes the directory valid again.
func TestHashResignsAHandEdit(t *testing.T) {
	root := copyShipped(t, "users")
	path := filepath.Join(root, "users", "sqlite")
	dir, err := migrate.NewLocalDir(path)
	if err != nil {
		t.Fatal(err)
	}
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	last := filepath.Join(path, files[len(files)-1].Name())
	b, _ := os.ReadFile(last)
	if err := os.WriteFile(last, append(b, "-- reviewed by hand\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := migrate.Validate(dir); err == nil {
		t.Fatal("an edited file still matches atlas.sum")
	}
	if err := migration.Hash(path); err != nil {
		t.Fatal(err)
	}
	if err := migrate.Validate(dir); err != nil {
		t.Errorf("after Hash: %v", err)
	}
}
