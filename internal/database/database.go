// Package database opens one ent client per configured database, picking the dialect from the
// database's URL, and reports their health.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq"  // PostgreSQL driver "postgres"
	_ "modernc.org/sqlite" // SQLite driver "sqlite", pure Go

	"github.com/multidb/multidb/internal/config"
)

// DB is one open database.
type DB struct {
	Spec
	Config config.Database
	// SQL is the connection pool. Driver is the ent driver over it, which every client and
	// hand-written query uses, so that wrapping it (statement counting, metrics) sees all SQL.
	SQL    *sql.DB
	Driver dialect.Driver
	// Probe is a pool of one connection for health probes, apart from SQL so that a probe
	// neither waits behind a full pool nor takes a connection from requests. It is SQL itself
	// for an in-memory SQLite database, which exists only within its one connection.
	Probe *sql.DB
}

// Dialect is the ent dialect name of the database (dialect.Postgres or dialect.SQLite).
func (d *DB) Dialect() string { return d.Driver.Dialect() }

// Set is every open database with its typed client.
type Set struct {
	Clients
	DBs []*DB // registry order
}

// Option changes how Open builds a database's driver.
type Option func(*options)

type options struct {
	wrap func(name string, d dialect.Driver) dialect.Driver
}

// WithDriverWrapper wraps each database's ent driver, e.g. to count the statements it sends.
func WithDriverWrapper(wrap func(name string, d dialect.Driver) dialect.Driver) Option {
	return func(o *options) { o.wrap = wrap }
}

// Open opens every database in the registry with the settings in cfg. It does not wait for
// a server to answer: a database that is down is reported by Ping, not by Open.
func Open(cfg *config.Config, opts ...Option) (*Set, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	set := &Set{}
	for _, spec := range Registry {
		dbcfg, ok := cfg.Database(spec.Name)
		if !ok {
			set.Close()
			return nil, fmt.Errorf("database %s is not configured; set %s", spec.Name, config.EnvVar(spec.Name))
		}
		pool, err := openPool(dbcfg)
		if err != nil {
			set.Close()
			return nil, fmt.Errorf("open %s (%s): %w", spec.Name, dbcfg.EnvVar, err)
		}
		probe := pool
		if !strings.Contains(dbcfg.DSN, ":memory:") {
			if probe, err = openPool(dbcfg); err != nil {
				pool.Close()
				set.Close()
				return nil, fmt.Errorf("open %s (%s): %w", spec.Name, dbcfg.EnvVar, err)
			}
			probe.SetMaxOpenConns(1)
			probe.SetMaxIdleConns(1)
		}
		var drv dialect.Driver = newGuard(spec.Name, entsql.OpenDB(dbcfg.Dialect, pool), dbcfg.Pool.MaxConns, dbcfg.Pool.ConnWait)
		if o.wrap != nil {
			drv = o.wrap(spec.Name, drv)
		}
		spec.Attach(&set.Clients, drv)
		set.DBs = append(set.DBs, &DB{Spec: spec, Config: dbcfg, SQL: pool, Driver: drv, Probe: probe})
	}
	return set, nil
}

// idleTime is how long a pool keeps a connection nobody uses.
const idleTime = 5 * time.Minute

func openPool(dbcfg config.Database) (*sql.DB, error) {
	if dbcfg.Dialect == config.SQLite {
		if path := sqlitePath(dbcfg.DSN); path != "" {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, err
			}
		}
	}
	dsn := dbcfg.DSN
	if dbcfg.Dialect == config.Postgres && dbcfg.Pool.StatementTimeout > 0 {
		dsn = withStatementTimeout(dsn, dbcfg.Pool.StatementTimeout)
	}
	var pool *sql.DB
	if dbcfg.Dialect == config.Postgres {
		c, err := newPostgresConnector(dsn, dbcfg.Pool)
		if err != nil {
			return nil, err
		}
		pool = sql.OpenDB(c)
	} else {
		var err error
		if pool, err = sql.Open(dbcfg.Driver, dsn); err != nil {
			return nil, err
		}
	}
	// A connection idle for a few minutes goes, so that a quiet process gives its
	// connections back; under load every connection stays: an idle limit below the pool's
	// size closes a connection each time a burst ends and opens one at the next (a new
	// PostgreSQL connection is a process fork and a handshake).
	pool.SetConnMaxIdleTime(idleTime)
	maxConns := max(dbcfg.Pool.MaxConns, 1)
	if strings.Contains(dbcfg.DSN, ":memory:") {
		maxConns = 1 // every connection would see a database of its own
	}
	pool.SetMaxOpenConns(maxConns)
	pool.SetMaxIdleConns(maxConns)
	return pool, nil
}

// withStatementTimeout asks PostgreSQL to cancel statements that run longer than d, unless
// the URL sets statement_timeout itself. lib/pq sends unknown URL parameters as run-time
// settings, so the server enforces the limit even when a client stops listening.
func withStatementTimeout(dsn string, d time.Duration) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	if q.Get("statement_timeout") != "" {
		return dsn
	}
	q.Set("statement_timeout", strconv.FormatInt(d.Milliseconds(), 10))
	u.RawQuery = q.Encode()
	return u.String()
}

// sqlitePath is the file path inside a "file:path?query" DSN, or "" for an in-memory database.
func sqlitePath(dsn string) string {
	path, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	if path == "" || strings.Contains(path, ":memory:") {
		return ""
	}
	return path
}

// Get returns the named open database.
func (s *Set) Get(name string) *DB {
	for _, db := range s.DBs {
		if db.Name == name {
			return db
		}
	}
	return nil
}

// Pools returns the connection pool of every database, by name.
func (s *Set) Pools() map[string]*sql.DB {
	out := make(map[string]*sql.DB, len(s.DBs))
	for _, db := range s.DBs {
		out[db.Name] = db.SQL
	}
	return out
}

// ForProbe returns db with its probe pool in place of its request pool, for checks (such as
// the migration status) that must not wait behind requests.
func (db *DB) ForProbe() *DB {
	p := *db
	p.SQL = db.Probe
	p.Driver = entsql.OpenDB(db.Dialect(), db.Probe)
	return &p
}

// Ping checks every database concurrently and returns the error of each, by name (nil when up).
func (s *Set) Ping(ctx context.Context) map[string]error {
	type result struct {
		name string
		err  error
	}
	ch := make(chan result, len(s.DBs))
	for _, db := range s.DBs {
		go func() { ch <- result{db.Name, db.SQL.PingContext(ctx)} }()
	}
	out := make(map[string]error, len(s.DBs))
	for range s.DBs {
		r := <-ch
		out[r.name] = r.err
	}
	return out
}

// Close closes every pool.
func (s *Set) Close() error {
	var errs []error
	for _, db := range s.DBs {
		errs = append(errs, db.SQL.Close())
		if db.Probe != nil && db.Probe != db.SQL {
			errs = append(errs, db.Probe.Close())
		}
	}
	return errors.Join(errs...)
}

// InTx runs fn in one transaction on db, with a typed client (in c, only db's field is set)
// that sends its statements through that transaction. fn's error rolls everything back.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx, c *Clients) error) error {
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	var c Clients
	db.Attach(&c, entsql.NewDriver(db.Dialect(), entsql.Conn{ExecQuerier: tx}))
	if err := fn(ctx, tx, &c); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
