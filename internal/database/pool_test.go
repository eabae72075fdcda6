package database

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/multidb/multidb/internal/config"
)

// TestPoolKeepsItsConnections: bursts as wide as the pool reuse the connections of the
// previous burst instead of closing and reopening them.
func TestPoolKeepsItsConnections(t *testing.T) {
	const size = 6
	pool, err := openPool(config.Database{
		Dialect: config.SQLite, Driver: "sqlite",
		DSN:  "file:" + filepath.Join(t.TempDir(), "pool.db"),
		Pool: config.Pool{MaxConns: size},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ctx := context.Background()
	for range 5 {
		var wg sync.WaitGroup
		conns := make(chan struct{})
		for range size {
			wg.Go(func() {
				c, err := pool.Conn(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				<-conns // hold every connection of the pool at once
				c.Close()
			})
		}
		for pool.Stats().InUse < size {
			if t.Failed() {
				return
			}
		}
		close(conns)
		wg.Wait()
	}
	st := pool.Stats()
	if st.OpenConnections != size || st.Idle != size || st.MaxIdleClosed != 0 {
		t.Errorf("after 5 bursts: %d open, %d idle, %d closed for the idle limit; want %d, %d, 0",
			st.OpenConnections, st.Idle, st.MaxIdleClosed, size, size)
	}
}
