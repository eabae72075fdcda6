package migration

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"ariga.io/atlas/sql/migrate"

	migrations "github.com/multidb/multidb/migrate"
)

// EmbeddedDir returns the migration directory the binary ships for the named database and ent
// dialect (migrate/<name>/<dialect dir>/), as an in-memory atlas directory whose atlas.sum is
// the shipped one, so that Validate checks the files against it.
func EmbeddedDir(name, dialect string) (migrate.Dir, error) {
	return fsDir(migrations.Files, path.Join(name, DialectDir(dialect)))
}

// fsDir copies the migration directory at root in fsys (*.sql files and atlas.sum) into an
// in-memory atlas directory. atlas.sum is copied as is, never recomputed.
func fsDir(fsys fs.FS, root string) (migrate.Dir, error) {
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("migration directory %s: %w", root, err)
	}
	dir := &migrate.MemDir{}
	dir.SetPath(root)
	for _, e := range entries {
		if e.IsDir() || (path.Ext(e.Name()) != ".sql" && e.Name() != migrate.HashFileName) {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(root, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migration directory %s: %w", root, err)
		}
		if err := dir.WriteFile(e.Name(), b); err != nil {
			return nil, fmt.Errorf("migration directory %s: %w", root, err)
		}
	}
	return dir, nil
}

// UnmappedTables lists the tables of the named database that have no ent type, from the
// UnmappedFile the binary ships (tables that migrations or triggers create by hand, or that
// an adopted database had): its own, though the ent schema does not list them.
func UnmappedTables(name string) ([]string, error) {
	b, err := fs.ReadFile(migrations.Files, path.Join(name, UnmappedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// "table.foreign_key" lines name constraints, not tables.
		if table, _, _ := strings.Cut(line, "\t"); !strings.Contains(table, ".") {
			out = append(out, strings.TrimSpace(table))
		}
	}
	return out, nil
}
