package graph_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/testdb"
)

// heavy makes the statements of one caller take long, holding a connection of the pool as a
// slow query would (an open transaction, through the database's guard), and records how
// many of them ran at once.
type heavy struct {
	dialect.Driver
	key          string
	hold         time.Duration
	running, top *atomic.Int64
}

func (h heavy) slow(ctx context.Context) func() {
	if graph.ViewerKey(ctx) != h.key {
		return func() {}
	}
	n := h.running.Add(1)
	for p := h.top.Load(); n > p && !h.top.CompareAndSwap(p, n); p = h.top.Load() {
	}
	if tx, err := h.Driver.Tx(ctx); err == nil {
		time.Sleep(h.hold)
		_ = tx.Rollback()
	}
	return func() { h.running.Add(-1) }
}

func (h heavy) Exec(ctx context.Context, q string, args, v any) error {
	defer h.slow(ctx)()
	return h.Driver.Exec(ctx, q, args, v)
}

func (h heavy) Query(ctx context.Context, q string, args, v any) error {
	defer h.slow(ctx)()
	return h.Driver.Query(ctx, q, args, v)
}

// TestFairShare has one USER send many slow queries at once while another sends small ones,
// on pools of 4 connections that wait 150ms at most for one: the first is held to its share
// of 2 connections and told TOO_MANY_REQUESTS past it, and the second is always served,
// where the first alone used to take every connection and leave it DATABASE_UNAVAILABLE.
func TestFairShare(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, mutationFixture)
		cfg := &config.Config{Env: config.Test, Lookup: func(string) (string, bool) { return "", false }}
		for _, db := range e.set.DBs {
			c := db.Config
			c.Pool.MaxConns, c.Pool.ConnWait = 4, 150*time.Millisecond
			cfg.Databases = append(cfg.Databases, c)
		}
		heavyUser := "user:" + userID(3).String()
		var running, top atomic.Int64
		share := database.Share(cfg, database.ShareOptions{Share: 0.5, Wait: 100 * time.Millisecond, Key: graph.ViewerKey})
		set := testdb.Open(t, cfg, database.WithDriverWrapper(func(name string, d dialect.Driver) dialect.Driver {
			if name != "users" {
				return share(name, d)
			}
			return share(name, heavy{Driver: d, key: heavyUser, hold: 400 * time.Millisecond, running: &running, top: &top})
		}))
		srv := httptest.NewServer(graph.NewHandler(set, graph.WithLogger(slog.New(slog.NewTextHandler(e.logs, nil))), graph.WithClientAddressHeader(addrHeader)))
		t.Cleanup(srv.Close)
		h := *e
		h.srv = srv
		hog := h.as(e.session(t, userID(3), time.Now().Add(time.Hour)))
		other := h.as(e.session(t, userID(4), time.Now().Add(time.Hour)))

		var wg sync.WaitGroup
		var mu sync.Mutex
		hogCodes := map[string]int{}
		start := make(chan struct{})
		// The users page is a statement of the viewer's on the users pool (me is not: the
		// session lookup answers it).
		for range 12 {
			wg.Go(func() {
				<-start
				r := hog.from(t, "10.0.0.1", `{ users(first: 1) { edges { node { id } } } events(first: 1) { totalCount } }`, nil)
				mu.Lock()
				for _, err := range r.Errors {
					hogCodes[err.code()]++
				}
				if len(r.Errors) == 0 {
					hogCodes["ok"]++
				}
				mu.Unlock()
			})
		}
		close(start)
		time.Sleep(50 * time.Millisecond) // the hog's statements hold their slots
		for i := range 5 {
			r := other.from(t, "10.0.0.2", `{ users(first: 1) { edges { node { id } } } events(first: 1) { totalCount } }`, nil)
			if len(r.Errors) > 0 {
				t.Errorf("the other user's query %d while one user floods: %+v", i, r.Errors)
			}
		}
		wg.Wait()
		if top.Load() > 2 {
			t.Errorf("%d of one user's statements ran at once on the users pool of 4 with a share of 0.5", top.Load())
		}
		if hogCodes["TOO_MANY_REQUESTS"] == 0 || hogCodes["DATABASE_UNAVAILABLE"] > 0 || hogCodes["INTERNAL"] > 0 {
			t.Errorf("the flooding user's answers: %v; want some TOO_MANY_REQUESTS and no other failure", hogCodes)
		}
	})
}
