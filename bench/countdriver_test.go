package bench

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"

	"github.com/multidb/multidb/internal/database"
)

// counter counts the statements each database's driver sends, every Exec and Query, inside
// transactions too, as graph/countdriver_test.go does; it only counts, so that it adds no
// allocation of its own to what the benchmarks measure.
type counter struct {
	n map[string]*atomic.Int64 // written only before the databases are opened
	// ns is the time statements took, per database: from sending one to its first answer.
	ns map[string]*atomic.Int64
}

func newCounter() *counter {
	c := &counter{n: map[string]*atomic.Int64{}, ns: map[string]*atomic.Int64{}}
	for _, name := range database.Names() {
		c.n[name] = new(atomic.Int64)
		c.ns[name] = new(atomic.Int64)
	}
	return c
}

// wrap is the database.WithDriverWrapper function.
func (c *counter) wrap(name string, d dialect.Driver) dialect.Driver {
	n, ok := c.n[name]
	if !ok {
		panic("bench: database " + name + " is not in database.Names()")
	}
	return &countingDriver{Driver: d, n: n, ns: c.ns[name]}
}

// reset forgets what was counted so far.
func (c *counter) reset() {
	for _, n := range c.n {
		n.Store(0)
	}
	for _, n := range c.ns {
		n.Store(0)
	}
}

// counts returns the number of statements per database since the last reset.
func (c *counter) counts() map[string]int64 {
	out := make(map[string]int64, len(c.n))
	for name, n := range c.n {
		out[name] = n.Load()
	}
	return out
}

// time returns the statement time per database since the last reset.
func (c *counter) time() map[string]time.Duration {
	out := make(map[string]time.Duration, len(c.ns))
	for name, n := range c.ns {
		out[name] = time.Duration(n.Load())
	}
	return out
}

type countingDriver struct {
	dialect.Driver
	n, ns *atomic.Int64
}

func (d *countingDriver) Exec(ctx context.Context, query string, args, v any) error {
	d.n.Add(1)
	start := time.Now()
	err := d.Driver.Exec(ctx, query, args, v)
	d.ns.Add(int64(time.Since(start)))
	return err
}

func (d *countingDriver) Query(ctx context.Context, query string, args, v any) error {
	d.n.Add(1)
	start := time.Now()
	err := d.Driver.Query(ctx, query, args, v)
	d.ns.Add(int64(time.Since(start)))
	return err
}

func (d *countingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, n: d.n}, nil
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
	return &countingTx{Tx: tx, n: d.n}, nil
}

type countingTx struct {
	dialect.Tx
	n *atomic.Int64
}

func (t *countingTx) Exec(ctx context.Context, query string, args, v any) error {
	t.n.Add(1)
	return t.Tx.Exec(ctx, query, args, v)
}

func (t *countingTx) Query(ctx context.Context, query string, args, v any) error {
	t.n.Add(1)
	return t.Tx.Query(ctx, query, args, v)
}
