package graph_test

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/multidb/multidb/internal/database"
)

// counter counts the statements each database's driver sends: every Exec and Query, inside
// transactions too. Tests assert the cost rule with it.
type counter struct {
	mu    sync.Mutex
	n     map[string]int
	stmts map[string][]string
	fail  map[string]string // database -> "error", "down", "panic", "slow" or "endless"
	slow  map[string][]span // the delays of "slow" statements, per database
}

// span is when a delay began and ended.
type span struct{ start, end time.Time }

// errInjected is the failure a broken database returns; it must never reach a client.
var errInjected = errors.New("injected failure: pq: relation \"secret_table\" does not exist")

// breakDB makes every later statement to db fail ("error"), fail as an unreachable server
// does ("down"), panic ("panic"), take slowStatement longer ("slow"), or first run a
// statement that never ends on the database itself, until its context is cancelled
// ("endless").
func (c *counter) breakDB(db, how string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail[db] = how
}

// heal undoes breakDB for every database.
func (c *counter) heal() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail = map[string]string{}
}

func newCounter() *counter {
	return &counter{n: map[string]int{}, stmts: map[string][]string{}, fail: map[string]string{}, slow: map[string][]span{}}
}

// wrap is the database.WithDriverWrapper function.
func (c *counter) wrap(name string, d dialect.Driver) dialect.Driver {
	return &countingDriver{Driver: d, db: name, c: c}
}

// slowStatement is how much longer a statement to a "slow" database takes.
const slowStatement = 300 * time.Millisecond

// endlessSQL counts for ever, on PostgreSQL and SQLite alike: only a cancellation stops it.
const endlessSQL = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c`

// run counts a statement, fails or delays it if db is broken, then sends it with send.
func (c *counter) run(ctx context.Context, d dialect.ExecQuerier, db, query string, send func() error) error {
	if err := c.add(db, query); err != nil {
		return err
	}
	if c.mode(db) == "endless" {
		var rows sql.Rows
		if err := d.Query(ctx, endlessSQL, []any{}, &rows); err != nil {
			return err
		}
		for rows.Next() {
		}
		err := rows.Err()
		rows.Close()
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			return err
		}
	}
	return send()
}

func (c *counter) mode(db string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fail[db]
}

// add counts a statement, and fails or delays it if db is broken.
func (c *counter) add(db, query string) error {
	c.mu.Lock()
	c.n[db]++
	c.stmts[db] = append(c.stmts[db], query)
	how := c.fail[db]
	c.mu.Unlock()
	switch how {
	case "error":
		return errInjected
	case "down":
		return &database.UnavailableError{Database: db, Err: errInjected}
	case "panic":
		panic(errInjected)
	case "slow":
		sp := span{start: time.Now()}
		time.Sleep(slowStatement)
		sp.end = time.Now()
		c.mu.Lock()
		c.slow[db] = append(c.slow[db], sp)
		c.mu.Unlock()
	}
	return nil
}

// reset forgets what was counted so far.
func (c *counter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = map[string]int{}
	c.stmts = map[string][]string{}
	c.slow = map[string][]span{}
}

// slowSpans returns the delays of db's "slow" statements since the last reset.
func (c *counter) slowSpans(db string) []span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]span(nil), c.slow[db]...)
}

// counts returns the number of statements per database since the last reset.
func (c *counter) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// dump lists the statements per database, for failure messages.
func (c *counter) dump() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for db, stmts := range c.stmts {
		for _, s := range stmts {
			fmt.Fprintf(&b, "%s: %s\n", db, s)
		}
	}
	return b.String()
}

type countingDriver struct {
	dialect.Driver
	db string
	c  *counter
}

func (d *countingDriver) Exec(ctx context.Context, query string, args, v any) error {
	return d.c.run(ctx, d.Driver, d.db, query, func() error { return d.Driver.Exec(ctx, query, args, v) })
}

func (d *countingDriver) Query(ctx context.Context, query string, args, v any) error {
	return d.c.run(ctx, d.Driver, d.db, query, func() error { return d.Driver.Query(ctx, query, args, v) })
}

func (d *countingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, db: d.db, c: d.c}, nil
}

// BeginTx keeps ent's transactions with options working through the wrapper.
func (d *countingDriver) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (dialect.Tx, error) {
	b, ok := d.Driver.(interface {
		BeginTx(context.Context, *stdsql.TxOptions) (dialect.Tx, error)
	})
	if !ok {
		return d.Tx(ctx)
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, db: d.db, c: d.c}, nil
}

type countingTx struct {
	dialect.Tx
	db string
	c  *counter
}

func (t *countingTx) Exec(ctx context.Context, query string, args, v any) error {
	return t.c.run(ctx, t.Tx, t.db, query, func() error { return t.Tx.Exec(ctx, query, args, v) })
}

func (t *countingTx) Query(ctx context.Context, query string, args, v any) error {
	return t.c.run(ctx, t.Tx, t.db, query, func() error { return t.Tx.Query(ctx, query, args, v) })
}
