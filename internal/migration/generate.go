package migration

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"ariga.io/atlas/sql/migrate"
	atlasschema "ariga.io/atlas/sql/schema"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
)

// Dialects are the engines every database ships migrations for, by directory name.
var Dialects = map[string]string{
	"postgres": config.Postgres,
	"sqlite":   config.SQLite,
}

// DialectDir is the directory name of an ent dialect's migrations ("postgres", "sqlite").
func DialectDir(dialect string) string {
	for dir, d := range Dialects {
		if d == dialect {
			return dir
		}
	}
	return dialect
}

// DefaultDevURL is the PostgreSQL server on which `make migration` creates its scratch database.
const DefaultDevURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Rename declares that a table or column was renamed, so that the generated file renames it
// (RENAME TO, RENAME COLUMN) instead of dropping it and creating another, which loses its data.
type Rename struct {
	Table string // the table (its old name for a table rename)
	From  string // the old column name; empty for a table rename
	To    string // the new name of the column, or of the table
}

// ParseRename reads "table.old:new" (a column) or "old:new" (a table).
func ParseRename(s string) (Rename, error) {
	from, to, ok := strings.Cut(s, ":")
	if !ok || from == "" || to == "" {
		return Rename{}, fmt.Errorf("rename %q: write table.old_column:new_column or old_table:new_table", s)
	}
	if table, col, ok := strings.Cut(from, "."); ok {
		if table == "" || col == "" {
			return Rename{}, fmt.Errorf("rename %q: write table.old_column:new_column", s)
		}
		return Rename{Table: table, From: col, To: to}, nil
	}
	return Rename{Table: from, To: to}, nil
}

func (r Rename) String() string {
	if r.From == "" {
		return r.Table + ":" + r.To
	}
	return r.Table + "." + r.From + ":" + r.To
}

// UnmappedFile, in migrate/<db>/, lists the tables (and "table.foreign_key" constraints) of an
// adopted database that have no ent type, one "name<TAB>reason" a line. Generate never drops
// nor changes them: they are not in the ent schema because ent cannot hold them, not because
// they were removed.
const UnmappedFile = "unmapped.txt"

// readUnmapped reads the names of UnmappedFile under dir; none when it does not exist.
func readUnmapped(dir string) (map[string]bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, UnmappedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "\t")
		out[strings.TrimSpace(name)] = true
	}
	return out, nil
}

// keepHook leaves out of a diff what the ent schema cannot express: the unmapped tables and
// foreign keys of an adopted database, and the names of foreign keys that ent would give
// another name (a drop and an add of the same constraint).
func keepHook(unmapped map[string]bool) schema.DiffHook {
	return func(next schema.Differ) schema.Differ {
		return schema.DiffFunc(func(current, desired *atlasschema.Schema) ([]atlasschema.Change, error) {
			changes, err := next.Diff(current, desired)
			if err != nil || unmapped == nil {
				return changes, err
			}
			out := changes[:0]
			for _, c := range changes {
				switch c := c.(type) {
				case *atlasschema.DropTable:
					if unmapped[c.T.Name] {
						continue
					}
				case *atlasschema.ModifyTable:
					if unmapped[c.T.Name] {
						continue
					}
					c.Changes = sameForeignKeys(c.T.Name, c.Changes, unmapped)
					if len(c.Changes) == 0 {
						continue
					}
				}
				out = append(out, c)
			}
			return out, nil
		})
	}
}

// sameForeignKeys drops, from the changes of one table, the drop of an unmapped foreign key
// and the drop and add of one foreign key under two names.
func sameForeignKeys(table string, changes []atlasschema.Change, unmapped map[string]bool) []atlasschema.Change {
	key := func(fk *atlasschema.ForeignKey) string {
		var b strings.Builder
		for _, c := range fk.Columns {
			b.WriteString(c.Name + ",")
		}
		b.WriteString(">" + fk.RefTable.Name)
		for _, c := range fk.RefColumns {
			b.WriteString("," + c.Name)
		}
		return b.String()
	}
	added := map[string]bool{}
	for _, c := range changes {
		if a, ok := c.(*atlasschema.AddForeignKey); ok {
			added[key(a.F)] = true
		}
	}
	renamed := map[string]bool{}
	out := changes[:0]
	for _, c := range changes {
		if d, ok := c.(*atlasschema.DropForeignKey); ok {
			if unmapped[table+"."+d.F.Symbol] {
				continue
			}
			if added[key(d.F)] {
				renamed[key(d.F)] = true
				continue
			}
		}
		out = append(out, c)
	}
	final := out[:0]
	for _, c := range out {
		if a, ok := c.(*atlasschema.AddForeignKey); ok && renamed[key(a.F)] {
			continue
		}
		final = append(final, c)
	}
	return final
}

// Generate writes the next migration file named name for spec, for every dialect, under root
// (migrate/<db>/<dialect>/), by diffing the ent schema against the directory replayed on a
// scratch database: a temporary PostgreSQL database on the server at devURL and an in-memory
// SQLite. Every dialect's file gets the same version, and each atlas.sum is rewritten. It
// reports the files it wrote; none when the schema has not changed.
func Generate(ctx context.Context, root string, spec database.Spec, name, devURL string, renames ...Rename) ([]string, error) {
	var written []string
	used := make(map[Rename]bool)
	unmapped, err := readUnmapped(filepath.Join(root, spec.Name))
	if err != nil {
		return nil, fmt.Errorf("migration %s: %w", spec.Name, err)
	}
	for _, dir := range []string{"postgres", "sqlite"} {
		path := filepath.Join(root, spec.Name, dir)
		files, err := generateOne(ctx, path, Dialects[dir], spec.Tables, name, devURL, renames, used, unmapped)
		if err != nil {
			return written, fmt.Errorf("migration %s/%s: %w", spec.Name, dir, err)
		}
		written = append(written, files...)
	}
	for _, r := range renames {
		if !used[r] {
			return written, fmt.Errorf("migration %s: rename %s: the schema change drops no %s and adds no %s of the same kind; check the names",
				spec.Name, r, cmp.Or(r.From, r.Table), r.To)
		}
	}
	return unifyVersions(written)
}

// unifyVersions gives every file the version of the first one: atlas names each file by the
// second its plan was written, and the engines are planned one after the other.
func unifyVersions(files []string) ([]string, error) {
	if len(files) < 2 {
		return files, nil
	}
	version, _, _ := strings.Cut(filepath.Base(files[0]), "_")
	out := []string{files[0]}
	for _, f := range files[1:] {
		v, rest, _ := strings.Cut(filepath.Base(f), "_")
		if v == version {
			out = append(out, f)
			continue
		}
		renamed := filepath.Join(filepath.Dir(f), version+"_"+rest)
		if err := os.Rename(f, renamed); err != nil {
			return nil, err
		}
		if err := Hash(filepath.Dir(f)); err != nil {
			return nil, err
		}
		out = append(out, renamed)
	}
	return out, nil
}

// Hash rewrites the atlas.sum of the migration directory at path from its files: after a
// reviewed hand edit of a file, the directory is valid again.
func Hash(path string) error {
	dir, err := migrate.NewLocalDir(path)
	if err != nil {
		return err
	}
	sum, err := dir.Checksum()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return migrate.WriteSumFile(dir, sum)
}

// renameHook turns the drop and add that a declared rename looks like to the differ into a
// rename, and records in used the renames it applied.
func renameHook(renames []Rename, used map[Rename]bool) schema.DiffHook {
	return func(next schema.Differ) schema.Differ {
		return schema.DiffFunc(func(current, desired *atlasschema.Schema) ([]atlasschema.Change, error) {
			changes, err := next.Diff(current, desired)
			if err != nil || len(renames) == 0 {
				return changes, err
			}
			for _, r := range renames {
				if r.From == "" {
					changes = renameTable(changes, r, used)
					continue
				}
				for _, c := range changes {
					if mt, ok := c.(*atlasschema.ModifyTable); ok && mt.T.Name == r.Table {
						mt.Changes = renameColumn(mt.Changes, r, used)
					}
				}
			}
			return changes, nil
		})
	}
}

func renameTable(changes []atlasschema.Change, r Rename, used map[Rename]bool) []atlasschema.Change {
	drop, add := -1, -1
	for i, c := range changes {
		switch c := c.(type) {
		case *atlasschema.DropTable:
			if c.T.Name == r.Table {
				drop = i
			}
		case *atlasschema.AddTable:
			if c.T.Name == r.To {
				add = i
			}
		}
	}
	if drop < 0 || add < 0 {
		return changes
	}
	used[r] = true
	from, to := changes[drop].(*atlasschema.DropTable).T, changes[add].(*atlasschema.AddTable).T
	changes[add] = &atlasschema.RenameTable{From: from, To: to}
	return slices.Delete(changes, drop, drop+1)
}

func renameColumn(changes []atlasschema.Change, r Rename, used map[Rename]bool) []atlasschema.Change {
	drop, add := -1, -1
	for i, c := range changes {
		switch c := c.(type) {
		case *atlasschema.DropColumn:
			if c.C.Name == r.From {
				drop = i
			}
		case *atlasschema.AddColumn:
			if c.C.Name == r.To {
				add = i
			}
		}
	}
	if drop < 0 || add < 0 {
		return changes
	}
	used[r] = true
	from, to := changes[drop].(*atlasschema.DropColumn).C, changes[add].(*atlasschema.AddColumn).C
	changes[add] = &atlasschema.RenameColumn{From: from, To: to}
	return slices.Delete(changes, drop, drop+1)
}

func generateOne(ctx context.Context, path, dialect string, tables []*schema.Table, name, devURL string, renames []Rename, used map[Rename]bool, unmapped map[string]bool) ([]string, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, err
	}
	dir, err := migrate.NewLocalDir(path)
	if err != nil {
		return nil, err
	}
	before, err := dir.Files()
	if err != nil {
		return nil, err
	}
	dev, cleanup, err := scratchDatabase(ctx, dialect, devURL)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	m, err := schema.NewMigrate(entsql.OpenDB(dialect, dev),
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithFormatter(migrate.DefaultFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithDiffHook(renameHook(renames, used), keepHook(unmapped)),
	)
	if err != nil {
		return nil, err
	}
	if err := m.NamedDiff(ctx, name, tables...); err != nil {
		return nil, err
	}
	after, err := dir.Files()
	if err != nil {
		return nil, err
	}
	var written []string
	for _, f := range after[len(before):] {
		written = append(written, filepath.Join(path, f.Name()))
	}
	return written, nil
}

// scratchDatabase opens an empty database to replay migrations on, and a function that drops it.
func scratchDatabase(ctx context.Context, dialect, devURL string) (*sql.DB, func(), error) {
	if dialect == config.SQLite {
		db, err := sql.Open("sqlite", config.SQLiteDSN(":memory:", ""))
		if err != nil {
			return nil, nil, err
		}
		db.SetMaxOpenConns(1)
		return db, func() { db.Close() }, nil
	}
	return TempPostgres(ctx, devURL, "multidb_dev")
}

// TempPostgres creates a database with a unique name on the server at serverURL and returns
// a pool on it and a function that closes the pool and drops the database.
func TempPostgres(ctx context.Context, serverURL, prefix string) (*sql.DB, func(), error) {
	dsn, name, err := TempPostgresDSN(ctx, serverURL, prefix)
	if err != nil {
		return nil, nil, err
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		DropPostgres(context.Background(), serverURL, name)
		return nil, nil, err
	}
	return db, func() {
		db.Close()
		DropPostgres(context.Background(), serverURL, name)
	}, nil
}

// TempPostgresDSN creates a database with a unique name on the server at serverURL and returns
// its DSN and name; DropPostgres removes it.
func TempPostgresDSN(ctx context.Context, serverURL, prefix string) (dsn, name string, err error) {
	cfg, err := config.ParseURL(serverURL)
	if err != nil {
		return "", "", err
	}
	admin, err := sql.Open("postgres", cfg.DSN)
	if err != nil {
		return "", "", err
	}
	defer admin.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name = prefix + "_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		return "", "", fmt.Errorf("create scratch database on %s: %w", cfg.URL, err)
	}
	return withDatabase(cfg.DSN, name), name, nil
}

// DropPostgres drops the named database on the server at serverURL, closing its connections.
func DropPostgres(ctx context.Context, serverURL, name string) error {
	cfg, err := config.ParseURL(serverURL)
	if err != nil {
		return err
	}
	admin, err := sql.Open("postgres", cfg.DSN)
	if err != nil {
		return err
	}
	defer admin.Close()
	_, err = admin.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`)
	return err
}
