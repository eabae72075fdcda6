package testdb

import (
	"context"
	"io/fs"
	"path"

	"ariga.io/atlas/sql/migrate"

	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/migration"
	migrations "github.com/multidb/multidb/migrate"
)

// migrateUp applies the shipped migration files of db.
// TODO: switch to migration.Migrator once it lands.
func migrateUp(ctx context.Context, db *database.DB) error {
	sub, err := fs.Sub(migrations.Files, path.Join(db.Name, migration.DialectDir(db.Dialect())))
	if err != nil {
		return err
	}
	entries, err := fs.ReadDir(sub, ".")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if path.Ext(e.Name()) != ".sql" {
			continue
		}
		b, err := fs.ReadFile(sub, e.Name())
		if err != nil {
			return err
		}
		stmts, err := migrate.NewLocalFile(e.Name(), b).Stmts()
		if err != nil {
			return err
		}
		for _, s := range stmts {
			if _, err := db.SQL.ExecContext(ctx, s); err != nil {
				return err
			}
		}
	}
	return nil
}
