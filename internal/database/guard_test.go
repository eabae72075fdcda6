package database_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/testdb"
)

func TestBusyDatabaseFailsFastAndAlone(t *testing.T) {
	cfg := testdb.Config(t, config.SQLite)
	for i := range cfg.Databases {
		if cfg.Databases[i].Name == "analytics" {
			cfg.Databases[i].Pool.MaxConns = 1
			cfg.Databases[i].Pool.ConnWait = 100 * time.Millisecond
		}
	}
	set := testdb.Open(t, cfg)
	ctx := context.Background()
	// A transaction holds analytics' only connection, as a slow request would.
	tx, err := set.Analytics.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()

	start := time.Now()
	_, err = set.Analytics.Event.Query().Count(ctx)
	var be *database.BusyError
	if !errors.As(err, &be) || be.Database != "analytics" || !errors.Is(err, database.ErrNoConnection) {
		t.Fatalf("got %v, want analytics busy: no connection free", err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Errorf("waited %v for a connection, want about the 100ms limit", waited)
	}
	// The other databases do not share analytics' pool or its wait.
	if _, err := set.Users.User.Query().Count(ctx); database.Transient(err) {
		t.Errorf("users: got %v, want it unaffected by analytics", err)
	}
	tx.Rollback()
	if _, err := set.Analytics.Event.Query().Count(ctx); database.Transient(err) {
		t.Errorf("after the transaction ended: got %v, want the connection back", err)
	}
}

func TestUnreachableServerIsUnavailable(t *testing.T) {
	cfg := testdb.Config(t, config.SQLite)
	down, err := config.ParseURL("postgres://postgres@127.0.0.1:1/nowhere")
	if err != nil {
		t.Fatal(err)
	}
	down.Name, down.EnvVar = "logs", "LOGS_DATABASE_URL"
	for i := range cfg.Databases {
		if cfg.Databases[i].Name == "logs" {
			cfg.Databases[i] = down
		}
	}
	set := testdb.Open(t, cfg)
	_, err = set.Logs.LogEntry.Query().Count(context.Background())
	var ue *database.UnavailableError
	if !errors.As(err, &ue) || ue.Database != "logs" {
		t.Fatalf("got %v, want logs unavailable", err)
	}
}

func TestStatementTimeoutIsEnforcedByPostgres(t *testing.T) {
	testdb.RequirePostgres(t, true)
	cfg := testdb.Config(t, config.Postgres)
	for i := range cfg.Databases {
		cfg.Databases[i].Pool.StatementTimeout = 200 * time.Millisecond
	}
	set := testdb.Open(t, cfg)
	start := time.Now()
	_, err := set.Get("users").SQL.ExecContext(context.Background(), "SELECT pg_sleep(3)")
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("pg_sleep(3) with a 200ms statement timeout: got %v after %v, want it cancelled", err, time.Since(start))
	}
}
