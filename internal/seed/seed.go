// Package seed fills databases with the data an environment needs, once: every seeder that ran
// is recorded in its database (table multidb_seeds), so running the seeds again changes nothing.
package seed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/multidb/multidb/internal/database"
)

// Seeder fills one database for some environments.
type Seeder struct {
	// Name identifies the seeder in the multidb_seeds table; seeders of a database run in
	// name order, so names start with a date: "20261125_demo_users".
	Name string
	// DB is the registry name of the database the seeder writes to.
	DB string
	// Envs are the environments the seeder runs in.
	Envs []string
	// Run writes the data. It runs in one transaction with the record of its run; c has only
	// the client of DB set.
	Run func(ctx context.Context, c *database.Clients) error
}

// Result is what one run did to one database.
type Result struct {
	DB      string
	Ran     []string
	Skipped []string // recorded as run before
}

// Run runs every seeder of env that has not run yet in its database, for the databases in set
// (all of them, or only those named in only).
func Run(ctx context.Context, set *database.Set, seeders []Seeder, env string, only []string, log io.Writer) ([]Result, error) {
	if err := validate(seeders); err != nil {
		return nil, err
	}
	var results []Result
	for _, db := range set.DBs {
		if len(only) > 0 && !slices.Contains(only, db.Name) {
			continue
		}
		res, err := runDB(ctx, db, seeders, env, log)
		results = append(results, res)
		if err != nil {
			return results, err
		}
	}
	return results, nil
}

func runDB(ctx context.Context, db *database.DB, seeders []Seeder, env string, log io.Writer) (Result, error) {
	res := Result{DB: db.Name}
	if err := ensureTable(ctx, db); err != nil {
		return res, fmt.Errorf("seed %s: %w", db.Name, err)
	}
	for _, s := range forDB(seeders, db.Name, env) {
		err := db.InTx(ctx, func(ctx context.Context, tx *sql.Tx, c *database.Clients) error {
			// Claiming the name first makes a concurrent run of the same seeder fail on the
			// primary key instead of writing the data twice.
			claimed, err := claim(ctx, tx, db, s.Name, env)
			if err != nil || !claimed {
				return err
			}
			res.Ran = append(res.Ran, s.Name)
			return s.Run(ctx, c)
		})
		if err != nil {
			return res, fmt.Errorf("seed %s: %s: %w", db.Name, s.Name, err)
		}
		if !slices.Contains(res.Ran, s.Name) {
			res.Skipped = append(res.Skipped, s.Name)
			continue
		}
		fmt.Fprintf(log, "%s: seeded %s\n", db.Name, s.Name)
	}
	return res, nil
}

// forDB returns the seeders of one database and environment, in name order.
func forDB(seeders []Seeder, db, env string) []Seeder {
	var out []Seeder
	for _, s := range seeders {
		if s.DB == db && slices.Contains(s.Envs, env) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b Seeder) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

func validate(seeders []Seeder) error {
	seen := map[string]bool{}
	for _, s := range seeders {
		if _, ok := database.Lookup(s.DB); !ok {
			return fmt.Errorf("seeder %s: unknown database %q", s.Name, s.DB)
		}
		key := s.DB + "/" + s.Name
		if seen[key] {
			return fmt.Errorf("seeder %s: name used twice in database %s", s.Name, s.DB)
		}
		seen[key] = true
	}
	return nil
}

const table = "multidb_seeds"

func ensureTable(ctx context.Context, db *database.DB) error {
	_, err := db.SQL.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
		name varchar(255) NOT NULL,
		env varchar(32) NOT NULL,
		applied_at timestamp NOT NULL,
		PRIMARY KEY (name, env))`)
	return err
}

// claim records that name runs now; it reports false when it ran before.
func claim(ctx context.Context, tx *sql.Tx, db *database.DB, name, env string) (bool, error) {
	q := `SELECT 1 FROM ` + table + ` WHERE name = $1 AND env = $2`
	ins := `INSERT INTO ` + table + ` (name, env, applied_at) VALUES ($1, $2, $3)`
	var one int
	err := tx.QueryRowContext(ctx, q, name, env).Scan(&one)
	switch {
	case err == nil:
		return false, nil
	case !errors.Is(err, sql.ErrNoRows):
		return false, err
	}
	_, err = tx.ExecContext(ctx, ins, name, env, time.Now().UTC())
	return err == nil, err
}

// Applied lists the seeders recorded in db for env.
func Applied(ctx context.Context, db *database.DB, env string) ([]string, error) {
	if err := ensureTable(ctx, db); err != nil {
		return nil, err
	}
	rows, err := db.SQL.QueryContext(ctx, `SELECT name FROM `+table+` WHERE env = $1 ORDER BY name`, env)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}
