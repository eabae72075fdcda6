package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"entgo.io/ent/dialect"
)

// ErrNoConnection is returned when no connection of a database came free within its wait limit.
var ErrNoConnection = errors.New("no connection free")

// UnavailableError says that a database could not be reached or had no connection to give.
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
// for ever) by holding one slot per open connection, and it turns connection failures into
// UnavailableError, so that callers can tell "the analytics database is down" from a bad query.
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
			return nil, &UnavailableError{Database: g.name, Err: fmt.Errorf("%w within %s", ErrNoConnection, g.wait)}
		case <-ctx.Done():
			return nil, ctx.Err()
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
	return g.classify(g.Driver.Exec(ctx, query, args, v))
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
	return g.classify(g.Driver.Query(ctx, query, args, v))
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
	if b, ok := g.Driver.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	}); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		tx, err = g.Driver.Tx(ctx)
	}
	if err != nil {
		release()
		return nil, g.classify(err)
	}
	return &guardedTx{Tx: tx, g: g, release: release}, nil
}

// classify wraps errors that mean the server is unreachable in UnavailableError.
func (g *guard) classify(err error) error {
	if err == nil || !unreachable(err) {
		return err
	}
	var ue *UnavailableError
	if errors.As(err, &ue) {
		return err
	}
	return &UnavailableError{Database: g.name, Err: err}
}

// unreachable reports whether err says the server could not be reached, as opposed to an
// error in the statement.
func unreachable(err error) bool {
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &opErr), errors.As(err, &netErr):
		return true
	}
	msg := err.Error()
	// lib/pq and SQLite report some connection failures only in words.
	for _, s := range []string{"connection refused", "bad connection", "unexpected EOF", "connection reset", "broken pipe", "the database system is shutting down",
		"the database system is starting up", "unable to open database file", "terminating connection"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

type guardedTx struct {
	dialect.Tx
	g       *guard
	release func()
}

func (t *guardedTx) Exec(ctx context.Context, query string, args, v any) error {
	return t.g.classify(t.Tx.Exec(ctx, query, args, v))
}

func (t *guardedTx) Query(ctx context.Context, query string, args, v any) error {
	return t.g.classify(t.Tx.Query(ctx, query, args, v))
}

func (t *guardedTx) Commit() error {
	defer t.release()
	return t.g.classify(t.Tx.Commit())
}

func (t *guardedTx) Rollback() error {
	defer t.release()
	return t.g.classify(t.Tx.Rollback())
}
