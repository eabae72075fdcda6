package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"entgo.io/ent/dialect"
)

// ErrNoConnection is returned, in a BusyError, when no connection of a database came free
// within its wait limit.
var ErrNoConnection = errors.New("no connection free")

// UnavailableError says that a database could not be reached, was cut off, or refused work
// (starting up, in recovery, shutting down, at its connection limit).
// The graph reports it as DATABASE_UNAVAILABLE, naming the database, and carries on with the rest.
type UnavailableError struct {
	Database string
	Err      error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("database %s is unavailable: %v", e.Database, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// guard wraps a database's ent driver. It bounds the wait for a connection (database/sql waits
// for ever) by holding one slot per open connection, and it gives failures of the database a
// type that names it (UnavailableError, BusyError, TimeoutError), so that callers can tell
// "the analytics database is down" from a bad query.
type guard struct {
	dialect.Driver
	name  string
	slots chan struct{}
	wait  time.Duration
}

func newGuard(name string, d dialect.Driver, maxOpen int, wait time.Duration) *guard {
	return &guard{Driver: d, name: name, slots: make(chan struct{}, maxOpen), wait: wait}
}

func (g *guard) acquire(ctx context.Context) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
	default:
		t := time.NewTimer(g.wait)
		defer t.Stop()
		select {
		case g.slots <- struct{}{}:
		case <-t.C:
			return nil, &BusyError{Database: g.name, Wait: g.wait, Err: fmt.Errorf("%w within %s", ErrNoConnection, g.wait)}
		case <-ctx.Done():
			return nil, &TimeoutError{Database: g.name, Err: ctx.Err()}
		}
	}
	var once sync.Once
	return func() { once.Do(func() { <-g.slots }) }, nil
}

// Exec implements dialect.Driver.
func (g *guard) Exec(ctx context.Context, query string, args, v any) error {
	release, err := g.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return g.classify(ctx, g.Driver.Exec(statementContext(ctx), query, args, v))
}

// Query implements dialect.Driver. The slot is held while the statement runs, not while its
// rows are read: ent (and atlas's inspector) need the *sql.Rows unwrapped, and rows are read
// at once and closed, so the connection comes back to the pool right after.
func (g *guard) Query(ctx context.Context, query string, args, v any) error {
	release, err := g.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return g.classify(ctx, g.Driver.Query(statementContext(ctx), query, args, v))
}

// Tx implements dialect.Driver; the slot is held until commit or rollback.
func (g *guard) Tx(ctx context.Context) (dialect.Tx, error) {
	return g.BeginTx(ctx, nil)
}

// BeginTx starts a transaction with options, as ent's generated Client.BeginTx expects.
func (g *guard) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	release, err := g.acquire(ctx)
	if err != nil {
		return nil, err
	}
	var tx dialect.Tx
	txctx := statementContext(ctx)
	if b, ok := g.Driver.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	}); ok {
		tx, err = b.BeginTx(txctx, opts)
	} else {
		tx, err = g.Driver.Tx(txctx)
	}
	if err != nil {
		release()
		return nil, g.classify(ctx, err)
	}
	return &guardedTx{Tx: tx, g: g, ctx: ctx, release: release}, nil
}

// classify gives a failure of the database a type that names it, from the error's type and
// SQLSTATE: TimeoutError when ctx ran out or the statement timed out (a connection failed by
// the deadline the context put on its socket included), UnavailableError when the server is
// unreachable, cut or refusing work, BusyError when it is locked. Errors of the statement itself
// are returned as they are.
func (g *guard) classify(ctx context.Context, err error) error {
	return classify(g.name, ctx.Err() != nil, err)
}

// Classify gives err, an error of the named database met outside a statement (reading the
// rows of a query, which ent does after the statement has returned), the type that names the
// database, as the statements' own errors have: UnavailableError, BusyError or TimeoutError.
// Other errors are returned as they are.
func Classify(name string, err error) error {
	return classify(name, false, err)
}

func classify(name string, ctxDone bool, err error) error {
	if err == nil || errors.As(err, new(*UnavailableError)) || errors.As(err, new(*BusyError)) || errors.As(err, new(*TimeoutError)) {
		return err
	}
	k := classifyKind(err)
	if k == kindUnreachable && ctxDone {
		k = kindTimeout
	}
	switch k {
	case kindTimeout:
		return &TimeoutError{Database: name, Err: err}
	case kindUnreachable, kindRefusing:
		return &UnavailableError{Database: name, Err: err}
	case kindBusy:
		return &BusyError{Database: name, Err: err}
	}
	return err
}

type guardedTx struct {
	dialect.Tx
	g       *guard
	ctx     context.Context // the transaction's, for Commit and Rollback
	release func()
}

func (t *guardedTx) Exec(ctx context.Context, query string, args, v any) error {
	return t.g.classify(ctx, t.Tx.Exec(statementContext(ctx), query, args, v))
}

func (t *guardedTx) Query(ctx context.Context, query string, args, v any) error {
	return t.g.classify(ctx, t.Tx.Query(statementContext(ctx), query, args, v))
}

func (t *guardedTx) Commit() error {
	defer t.release()
	return t.g.classify(t.ctx, t.Tx.Commit())
}

func (t *guardedTx) Rollback() error {
	defer t.release()
	return t.g.classify(t.ctx, t.Tx.Rollback())
}
