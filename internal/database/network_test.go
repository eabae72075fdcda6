package database_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/faultproxy"
	"github.com/multidb/multidb/internal/testdb"
)

// behindProxy returns a PostgreSQL test configuration whose logs database is reached through a
// fault proxy.
func behindProxy(t *testing.T) (*config.Config, *faultproxy.Proxy) {
	t.Helper()
	testdb.RequirePostgres(t, true)
	cfg := testdb.Config(t, config.Postgres)
	for i, db := range cfg.Databases {
		if db.Name != "logs" {
			continue
		}
		u, err := url.Parse(db.DSN)
		if err != nil {
			t.Fatal(err)
		}
		p, err := faultproxy.Start(u.Host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		u.Host = p.Addr()
		db.DSN = u.String()
		cfg.Databases[i] = db
		return cfg, p
	}
	t.Fatal("no logs database")
	return nil, nil
}

func TestBlackholedStatementEndsSoonAfterItsDeadline(t *testing.T) {
	cfg, proxy := behindProxy(t)
	set := testdb.Open(t, cfg)
	logs := set.Get("logs")
	if err := logs.SQL.PingContext(context.Background()); err != nil {
		t.Fatal(err)
	}

	proxy.Blackhole()
	// On an open connection (a statement sent into the void) and on new ones (a handshake that
	// is never answered), the wait ends at the context's deadline plus DeadlineGrace, although
	// neither the answer nor lib/pq's cancel request can get through.
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		start := time.Now()
		err := logs.Driver.Exec(ctx, "SELECT 1", []any{}, new(sql.Result))
		waited := time.Since(start)
		cancel()
		var te *database.TimeoutError
		if !errors.As(err, &te) || te.Database != "logs" {
			t.Fatalf("blackholed: got %v (%T), want a TimeoutError naming logs", err, err)
		}
		// Far from the failure mode (waiting for ever), far above the expected 1.3s.
		if waited > 300*time.Millisecond+database.DeadlineGrace+3*time.Second {
			t.Fatalf("blackholed statement returned after %v", waited)
		}
	}
	// Still in the blackhole, the statements' connections are free (discarded, as their
	// streams are broken): a cancel request that cannot get through does not hold them.
	if inUse := logs.SQL.Stats().InUse; inUse != 0 {
		t.Errorf("%d connections still in use during the blackhole after every statement returned", inUse)
	}
	// The pool is not stuck once the network heals.
	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := logs.Driver.Exec(ctx, "SELECT 1", []any{}, new(sql.Result))
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the blackhole ended: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if inUse := logs.SQL.Stats().InUse; inUse != 0 {
		t.Errorf("%d connections still in use after every statement returned", inUse)
	}
}

func TestRefusingServerIsUnavailable(t *testing.T) {
	cfg, proxy := behindProxy(t)
	set := testdb.Open(t, cfg)
	for _, code := range []string{"57P03", "53300", "57P01"} {
		proxy.Refuse(code)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := set.Logs.LogEntry.Query().Count(ctx)
		cancel()
		var ue *database.UnavailableError
		var pqErr *pq.Error
		if !errors.As(err, &ue) || ue.Database != "logs" || !errors.As(err, &pqErr) || string(pqErr.Code) != code {
			t.Errorf("server refusing with %s: got %v, want UnavailableError naming logs with that SQLSTATE", code, err)
		}
		if got := database.State(set.Get("logs").SQL.PingContext(context.Background())); got != "refusing" {
			t.Errorf("server refusing with %s: State = %q, want refusing", code, got)
		}
	}
	proxy.Restore()
	if err := set.Get("logs").SQL.PingContext(context.Background()); err != nil {
		t.Fatalf("after Restore: %v", err)
	}
}

// TestLockedSQLiteWriteEndsAtItsDeadline: SQLite has no network, but a write waits for the
// file's lock (busy_timeout, 10s); the statement's context ends that wait, and the failure
// names the database.
func TestLockedSQLiteWriteEndsAtItsDeadline(t *testing.T) {
	set := testdb.Open(t, testdb.Config(t, config.SQLite))
	logs := set.Get("logs")
	if _, err := logs.SQL.Exec("CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	tx, err := logs.SQL.Begin() // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = logs.Driver.Exec(ctx, "INSERT INTO t VALUES (2)", []any{}, new(sql.Result))
	var te *database.TimeoutError
	if !errors.As(err, &te) || te.Database != "logs" {
		t.Fatalf("write behind a lock: got %v (%T), want a TimeoutError naming logs", err, err)
	}
	// The failure mode is the 10s busy timeout.
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("write behind a lock returned after %v, want about its 300ms deadline", waited)
	}
}
