package metrics_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/multidb/multidb/internal/metrics"
)

func TestRegisterPools(t *testing.T) {
	ctx := context.Background()
	m := metrics.New()
	_, users := sqliteDriver(t)
	_, logs := sqliteDriver(t)
	users.SetMaxOpenConns(2)
	pools := map[string]*sql.DB{"users": users}
	if err := m.RegisterPools(func() map[string]*sql.DB { return pools }); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterPools(func() map[string]*sql.DB { return pools }); err == nil {
		t.Error("second RegisterPools succeeded, want an already-registered error")
	}

	// Take both connections, make a third caller wait, then let it through.
	c1, err := users.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := users.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *sql.Conn)
	go func() {
		c, err := users.Conn(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- c
	}()
	for users.Stats().WaitCount == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(5 * time.Millisecond) // some wait time to see
	c1.Close()
	c3 := <-got

	// Pools are read at each scrape: one added after RegisterPools is reported.
	pools["logs"] = logs

	e := scrape(t, m)
	assertEqual(t, "open users", e.value(t, "multidb_db_pool_open_connections", "database", "users"), 2)
	assertEqual(t, "in use users", e.value(t, "multidb_db_pool_in_use_connections", "database", "users"), 2)
	assertEqual(t, "idle users", e.value(t, "multidb_db_pool_idle_connections", "database", "users"), 0)
	assertEqual(t, "max open users", e.value(t, "multidb_db_pool_max_open_connections", "database", "users"), 2)
	assertEqual(t, "wait count users", e.value(t, "multidb_db_pool_wait_count_total", "database", "users"), 1)
	if w := e.value(t, "multidb_db_pool_wait_duration_seconds_total", "database", "users"); w < 0.005 {
		t.Errorf("wait duration users: got %vs, want at least 0.005s", w)
	}
	assertEqual(t, "max open logs", e.value(t, "multidb_db_pool_max_open_connections", "database", "logs"), 0)

	c2.Close()
	c3.Close()
	e = scrape(t, m)
	assertEqual(t, "in use users after release", e.value(t, "multidb_db_pool_in_use_connections", "database", "users"), 0)
	assertEqual(t, "idle users after release", e.value(t, "multidb_db_pool_idle_connections", "database", "users"), 2)
}
