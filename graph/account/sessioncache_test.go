package account

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multidb/multidb/internal/auth"
)

// TestSessionCacheBounds keeps at most max entries, forgets an entry at its TTL, and drops
// what a lookup read when the cache was cleared while it ran.
func TestSessionCacheBounds(t *testing.T) {
	now := time.Now()
	viewer := auth.Viewer{UserID: uuid.New(), Role: auth.RoleUser}

	t.Run("at most max entries", func(t *testing.T) {
		c := newSessionCache(time.Minute, 3)
		for i := range 10 {
			_, _, gen := c.get(fmt.Sprint(i), now)
			c.put(fmt.Sprint(i), viewer, gen, now)
			if n := len(c.entries); n > 3 {
				t.Fatalf("after %d puts: %d entries, want at most 3", i+1, n)
			}
		}
		if _, ok, _ := c.get("9", now); !ok {
			t.Error("the entry put last is not kept")
		}
	})

	t.Run("expired entries go first", func(t *testing.T) {
		c := newSessionCache(time.Minute, 2)
		c.put("old", viewer, 0, now.Add(-2*time.Minute))
		c.put("live", viewer, 0, now)
		c.put("new", viewer, 0, now)
		if _, ok, _ := c.get("live", now); !ok {
			t.Error("a live entry was dropped while an expired one could go")
		}
	})

	t.Run("TTL", func(t *testing.T) {
		c := newSessionCache(time.Second, 10)
		c.put("a", viewer, 0, now)
		if _, ok, _ := c.get("a", now.Add(999*time.Millisecond)); !ok {
			t.Error("gone before its TTL")
		}
		if _, ok, _ := c.get("a", now.Add(time.Second)); ok {
			t.Error("still there at its TTL")
		}
	})

	t.Run("cleared during a lookup", func(t *testing.T) {
		c := newSessionCache(time.Minute, 10)
		_, _, gen := c.get("a", now)
		c.clear() // a logOut commits while the lookup runs
		c.put("a", viewer, gen, now)
		if _, ok, _ := c.get("a", now); ok {
			t.Error("a lookup that began before the clear was kept")
		}
	})

	t.Run("off", func(t *testing.T) {
		c := newSessionCache(0, 10)
		c.put("a", viewer, 0, now)
		if _, ok, _ := c.get("a", now); ok {
			t.Error("a cache with TTL 0 kept an entry")
		}
	})
}
