package testdb

import (
	"context"

	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/migration"
)

// migrateUp applies the shipped migration files of db, as `multidb migrate` does.
func migrateUp(ctx context.Context, db *database.DB) error {
	m, err := migration.New(db)
	if err != nil {
		return err
	}
	_, err = m.Up(ctx, 0)
	return err
}
