package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"ariga.io/atlas/sql/migrate"

	"github.com/multidb/multidb/internal/adopt"
	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/migration"
)

// adoptCmd runs `multidb adopt --db NAME --url URL`: it writes the ent schema, the init
// migration and the compose and env entries of an existing database, and baselines it there.
// make generate then adds it to the registry.
func adoptCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("adopt", flag.ContinueOnError)
	name := fs.String("db", "", "the name the database gets in multidb (schema/NAME, NAME_DATABASE_URL)")
	url := fs.String("url", "", "the URL of the existing database: postgres://… or sqlite:path.db")
	devURL := fs.String("dev-url", "", "PostgreSQL server for the scratch database of the baseline check (default $MIGRATION_DEV_URL, else the adopted server)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case *name == "" || *url == "":
		return fmt.Errorf("%w: multidb adopt --db NAME --url URL (make adopt DB=legacy URL=postgres://…)", errUsage)
	case !identifier.MatchString(*name):
		return fmt.Errorf("%w: --db %q must be a lower-case name such as legacy", errUsage, *name)
	}
	if _, ok := database.Lookup(*name); ok {
		return fmt.Errorf("%w: --db %q is a database of multidb already; adopt under another name", errUsage, *name)
	}
	cfg, err := config.ParseURL(*url)
	if err != nil {
		return fmt.Errorf("%w: --url: %v", errUsage, err)
	}
	cfg.Name, cfg.EnvVar = *name, config.EnvVar(*name)
	pool, err := sql.Open(cfg.Driver, cfg.DSN)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := pool.PingContext(ctx); err != nil {
		return fmt.Errorf("adopt: cannot reach --url %s: %v", *url, err)
	}
	res, err := adopt.Inspect(ctx, pool, cfg.Dialect, *name)
	if err != nil {
		return err
	}
	// Check the files to edit before writing any.
	env, err := addEnvExample(".env.example", *name)
	if err != nil {
		return err
	}
	compose, err := addComposeService("docker-compose.yml", *name)
	if err != nil {
		return err
	}
	composeEnv, err := addComposeURL("compose.env", *name)
	if err != nil {
		return err
	}
	version, written, err := res.Write(".", time.Now())
	if err != nil {
		return err
	}
	for path, b := range map[string][]byte{".env.example": env, "docker-compose.yml": compose, "compose.env": composeEnv} {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
	for _, p := range written {
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	for _, u := range res.Unmapped {
		fmt.Fprintf(stdout, "not mapped: %s: %s\n", u.Table, u.Reason)
	}

	// Baseline the live database at the init migration, which replays to its schema.
	dir, err := migrate.NewLocalDir(filepath.Join("migrate", *name, migration.DialectDir(cfg.Dialect)))
	if err != nil {
		return err
	}
	db := &database.DB{Spec: database.Spec{Name: *name}, Config: cfg, SQL: pool}
	opts := []migration.Option{migration.WithDir(dir), migration.WithLog(stdout)}
	if u := devServer(*devURL, os.LookupEnv); u != "" {
		opts = append(opts, migration.WithDevURL(u))
	}
	m, err := migration.New(db, opts...)
	if err != nil {
		return err
	}
	if _, err := m.Baseline(ctx, version); err != nil {
		return fmt.Errorf("adopt: the files are written, but the baseline failed: %w", err)
	}
	fmt.Fprintf(stdout, "adopted %s: %d types, %d left out (migrate/%s/%s)\nnext: make generate (adds %s to the registry), set %s, and make migration DB=%s NAME=sqlite_init for SQLite development\n",
		*name, len(res.Types), len(res.Unmapped), *name, adopt.UnmappedFile, *name, cfg.EnvVar, *name)
	return nil
}
