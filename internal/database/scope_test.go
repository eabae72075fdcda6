package database_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/testdb"
)

// watchedCtx records every call of its methods made after its owner declared it dead, as a
// context whose memory the next request reuses would be.
type watchedCtx struct {
	context.Context
	dead      atomic.Bool
	lateCalls atomic.Int32
}

func (c *watchedCtx) note() {
	if c.dead.Load() {
		c.lateCalls.Add(1)
	}
}
func (c *watchedCtx) Done() <-chan struct{} { c.note(); return c.Context.Done() }
func (c *watchedCtx) Err() error            { c.note(); return c.Context.Err() }
func (c *watchedCtx) Value(key any) any     { c.note(); return c.Context.Value(key) }
func (c *watchedCtx) Deadline() (time.Time, bool) {
	c.note()
	return c.Context.Deadline()
}

// TestScopeStatementsDoNotKeepTheCallersContext runs queries under a Scope with a context that
// is declared dead once their rows are closed and the scope has ended: database/sql's watcher
// of a query's context, which runs after the rows are closed, must not call it then.
func TestScopeStatementsDoNotKeepTheCallersContext(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			set := testdb.OpenMigrated(t, d)
			req, cancel := context.WithCancel(context.Background())
			defer cancel()
			var scope database.Scope
			watched := &watchedCtx{Context: database.WithScope(req, &scope)}
			for range 50 {
				if _, err := set.Users.User.Query().All(watched); err != nil {
					t.Fatal(err)
				}
				if _, err := set.Analytics.Event.Query().Count(watched); err != nil {
					t.Fatal(err)
				}
			}
			scope.End()
			watched.dead.Store(true)
			cancel()
			// Give the watchers their turn.
			time.Sleep(50 * time.Millisecond)
			if n := watched.lateCalls.Load(); n > 0 {
				t.Errorf("the caller's context was called %d times after the scope ended", n)
			}
		})
	}
}

// TestScopeStatementsFollowTheCaller checks that a statement under a Scope still ends with its
// caller's context: cancelled with it, and at its deadline, as a TimeoutError.
func TestScopeStatementsFollowTheCaller(t *testing.T) {
	testdb.RequirePostgres(t, true)
	set := testdb.OpenMigrated(t, "postgres")
	db := set.Get("users")
	var scope database.Scope
	defer scope.End()

	ctx, cancel := context.WithTimeout(database.WithScope(context.Background(), &scope), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := db.Driver.Exec(ctx, "SELECT pg_sleep(5)", []any{}, nil)
	var te *database.TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("deadline: got %v, want a TimeoutError", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("deadline: the statement took %v, want it ended at the 200ms deadline", took)
	}

	ctx, cancel = context.WithCancel(database.WithScope(context.Background(), &scope))
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	err = db.Driver.Exec(ctx, "SELECT pg_sleep(5)", []any{}, nil)
	if !errors.As(err, &te) {
		t.Fatalf("cancel: got %v, want a TimeoutError", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("cancel: the statement took %v, want it ended when its caller was cancelled", took)
	}
}
