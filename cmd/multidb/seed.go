package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/multidb/multidb/internal/migration"
	"github.com/multidb/multidb/internal/seed"
)

// errNotMigrated: seed was asked of a database that lacks migrations.
var errNotMigrated = errors.New("the database is not migrated")

func seedCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	only := fs.String("db", "", "seed only this database")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	set, err := openReachable(ctx, cfg, *only)
	if err != nil {
		return err
	}
	defer set.Close()
	// Seeding writes through the tables of the latest schema, and would create multidb_seeds
	// in a database that has none yet: check every database before touching any.
	for _, db := range selected(set, *only) {
		m, err := migration.New(db)
		if err != nil {
			return err
		}
		st, err := m.Status(ctx)
		if err != nil {
			return fmt.Errorf("seed %s: %w", db.Name, err)
		}
		if len(st.Pending) > 0 {
			return fmt.Errorf("seed %s: %w: %d migration(s) pending (%s); run `make migrate ENV=%s` first (multidb migrate up), then seed",
				db.Name, errNotMigrated, len(st.Pending), st.Pending[0], cfg.Env)
		}
	}
	var dbs []string
	if *only != "" {
		dbs = []string{*only}
	}
	results, err := seed.Run(ctx, set, seed.Seeders, cfg.Env, dbs, stdout)
	if err != nil {
		return err
	}
	for _, r := range results {
		if len(r.Ran) == 0 {
			fmt.Fprintf(stdout, "%s: nothing to seed for %s (%d already seeded)\n", r.DB, cfg.Env, len(r.Skipped))
		}
	}
	return nil
}
