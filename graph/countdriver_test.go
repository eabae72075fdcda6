package graph_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"

	"github.com/multidb/multidb/internal/database"
)

// counter counts the statements each database's driver sends: every Exec and Query, inside
// transactions too. Tests assert the cost rule with it.
type counter struct {
	mu    sync.Mutex
	n     map[string]int
	stmts map[string][]string
	fail  map[string]string // database -> "error", "down", "panic" or "slow"
}

// errInjected is the failure a broken database returns; it must never reach a client.
var errInjected = errors.New("injected failure: pq: relation \"secret_table\" does not exist")

// breakDB makes every later statement to db fail ("error"), fail as an unreachable server
// does ("down"), panic ("panic"), or take slowStatement longer ("slow").
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
	return &counter{n: map[string]int{}, stmts: map[string][]string{}, fail: map[string]string{}}
}

// wrap is the database.WithDriverWrapper function.
func (c *counter) wrap(name string, d dialect.Driver) dialect.Driver {
	return &countingDriver{Driver: d, db: name, c: c}
}

// slowStatement is how much longer a statement to a "slow" database takes.
const slowStatement = 300 * time.Millisecond

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
		time.Sleep(slowStatement)
	}
	return nil
}

// reset forgets what was counted so far.
func (c *counter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = map[string]int{}
	c.stmts = map[string][]string{}
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
	if err := d.c.add(d.db, query); err != nil {
		return err
	}
	return d.Driver.Exec(ctx, query, args, v)
}

func (d *countingDriver) Query(ctx context.Context, query string, args, v any) error {
	if err := d.c.add(d.db, query); err != nil {
		return err
	}
	return d.Driver.Query(ctx, query, args, v)
}

func (d *countingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, db: d.db, c: d.c}, nil
}

// BeginTx keeps ent's transactions with options working through the wrapper.
func (d *countingDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	b, ok := d.Driver.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
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
	if err := t.c.add(t.db, query); err != nil {
		return err
	}
	return t.Tx.Exec(ctx, query, args, v)
}

func (t *countingTx) Query(ctx context.Context, query string, args, v any) error {
	if err := t.c.add(t.db, query); err != nil {
		return err
	}
	return t.Tx.Query(ctx, query, args, v)
}
