package migration

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"ariga.io/atlas/sql/migrate"
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

// Generate writes the next migration file named name for spec, for every dialect, under root
// (migrate/<db>/<dialect>/), by diffing the ent schema against the directory replayed on a
// scratch database: a temporary PostgreSQL database on the server at devURL and an in-memory
// SQLite. It reports the files it wrote; none when the schema has not changed.
func Generate(ctx context.Context, root string, spec database.Spec, name, devURL string) ([]string, error) {
	var written []string
	for _, dir := range []string{"postgres", "sqlite"} {
		path := filepath.Join(root, spec.Name, dir)
		files, err := generateOne(ctx, path, Dialects[dir], spec.Tables, name, devURL)
		if err != nil {
			return written, fmt.Errorf("migration %s/%s: %w", spec.Name, dir, err)
		}
		written = append(written, files...)
	}
	return written, nil
}

func generateOne(ctx context.Context, path, dialect string, tables []*schema.Table, name, devURL string) ([]string, error) {
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
