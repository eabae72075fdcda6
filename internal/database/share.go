package database

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"entgo.io/ent/dialect"

	"github.com/multidb/multidb/internal/config"
)

// Defaults of a Share.
const (
	DefaultViewerShare = 0.5
	DefaultViewerWait  = 500 * time.Millisecond
)

// ShareExceededError says that one caller already held their share of a database's
// connections for longer than the wait allowed. The graph reports it as TOO_MANY_REQUESTS,
// naming the database: it is that caller's load, not the database, that is the problem.
type ShareExceededError struct {
	Database string
	Limit    int
}

func (e *ShareExceededError) Error() string {
	return fmt.Sprintf("database %s: this caller already runs %d statements at once, its share of the pool", e.Database, e.Limit)
}

// ShareOptions configure a Share.
type ShareOptions struct {
	// Share is the fraction of each database's pool (DB_MAX_CONNS) one caller may hold at
	// once, at least one connection [DefaultViewerShare]; 1 switches the limit off.
	Share float64
	// Wait is how long a caller's statement waits for one of its own slots to come free
	// before it fails with ShareExceededError [DefaultViewerWait].
	Wait time.Duration
	// Key names the caller of a statement from its context; "" (the server's own work, such
	// as the audit writer) is not limited. It is a function so that this package needs no
	// knowledge of how requests are authenticated.
	Key func(context.Context) string
}

// Share returns a driver wrapper, for WithDriverWrapper, that keeps any one caller from
// holding more than opts.Share of a database's pool, so that one caller's heavy queries
// cannot take every connection and make everyone else wait: past the share, that caller's
// own statements wait (Wait at most) and then fail, and the others' run as before.
func Share(cfg *config.Config, opts ShareOptions) func(name string, d dialect.Driver) dialect.Driver {
	if opts.Share <= 0 || opts.Share > 1 {
		opts.Share = DefaultViewerShare
	}
	if opts.Wait <= 0 {
		opts.Wait = DefaultViewerWait
	}
	return func(name string, d dialect.Driver) dialect.Driver {
		if opts.Key == nil {
			return d
		}
		maxConns := 0
		if db, ok := cfg.Database(name); ok {
			maxConns = db.Pool.MaxConns
		}
		limit := max(1, int(float64(maxConns)*opts.Share))
		if limit >= maxConns {
			// A share of the whole pool limits nothing the pool does not: the pool's own
			// wait (DB_CONN_WAIT) applies, as without the wrapper.
			return d
		}
		return &shared{Driver: d, name: name, limit: limit, wait: opts.Wait, key: opts.Key, held: map[string]*holding{}}
	}
}

type shared struct {
	dialect.Driver
	name  string
	limit int
	wait  time.Duration
	key   func(context.Context) string

	mu   sync.Mutex
	held map[string]*holding // by caller; removed when it holds nothing
}

type holding struct {
	n    int
	free chan struct{} // closed, and replaced, whenever one of n is released
}

// acquire takes one of the caller's slots, waiting for one of their own statements to end
// when they hold all of them.
func (s *shared) acquire(ctx context.Context) (release func(), err error) {
	key := s.key(ctx)
	if key == "" {
		return func() {}, nil
	}
	var timer *time.Timer
	for {
		s.mu.Lock()
		h := s.held[key]
		if h == nil {
			h = &holding{free: make(chan struct{})}
			s.held[key] = h
		}
		if h.n < s.limit {
			h.n++
			s.mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			var once sync.Once
			return func() { once.Do(func() { s.release(key) }) }, nil
		}
		free := h.free
		s.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(s.wait)
		}
		select {
		case <-free:
		case <-timer.C:
			return nil, &ShareExceededError{Database: s.name, Limit: s.limit}
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		}
	}
}

func (s *shared) release(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.held[key]
	h.n--
	close(h.free)
	h.free = make(chan struct{})
	if h.n == 0 {
		delete(s.held, key)
	}
}

// Exec implements dialect.Driver.
func (s *shared) Exec(ctx context.Context, query string, args, v any) error {
	release, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return s.Driver.Exec(ctx, query, args, v)
}

// Query implements dialect.Driver. As in guard, the slot is held while the statement runs.
func (s *shared) Query(ctx context.Context, query string, args, v any) error {
	release, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return s.Driver.Query(ctx, query, args, v)
}

// Tx implements dialect.Driver; the slot is held until commit or rollback.
func (s *shared) Tx(ctx context.Context) (dialect.Tx, error) {
	return s.BeginTx(ctx, nil)
}

// BeginTx starts a transaction with options, as ent's generated Client.BeginTx expects.
func (s *shared) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	release, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	var tx dialect.Tx
	if b, ok := s.Driver.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	}); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		tx, err = s.Driver.Tx(ctx)
	}
	if err != nil {
		release()
		return nil, err
	}
	return &sharedTx{Tx: tx, release: release}, nil
}

type sharedTx struct {
	dialect.Tx
	release func()
}

func (t *sharedTx) Commit() error {
	defer t.release()
	return t.Tx.Commit()
}

func (t *sharedTx) Rollback() error {
	defer t.release()
	return t.Tx.Rollback()
}
