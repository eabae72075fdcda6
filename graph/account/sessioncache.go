package account

import (
	"context"
	"sync"
	"time"

	"entgo.io/ent"

	"github.com/multidb/multidb/ent/users"
	"github.com/multidb/multidb/internal/auth"
)

// DefaultSessionCacheTTL is how long a session lookup is reused unless Options say otherwise.
// A session revoked by another server, or by hand in the database, still works that long on
// this one; logOut, revokeAllSessions and every change of a user or a session made through
// this server take effect at once.
const DefaultSessionCacheTTL = time.Second

// DefaultSessionCacheEntries bounds the sessions the cache holds unless Options say
// otherwise: each entry is a token hash and the user's row without its password hash, under
// 1 KiB with the longest name and email, so 10,000 entries stay under 10 MiB.
const DefaultSessionCacheEntries = 10_000

// sessionCache keeps the viewers of recent session lookups for a short time, so that a
// client's requests in a burst cost one statement, not one each. Only live sessions are kept:
// an unknown or revoked token always costs its statement.
type sessionCache struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	// gen counts the invalidations: a lookup that began before one does not store what it
	// read, which may be older than the change.
	gen     uint64
	entries map[string]cachedViewer
	// swept is when a full cache last dropped its expired entries: at most once a TTL, so
	// that a full cache does not scan every entry on every miss.
	swept time.Time
}

// MaxSessionCacheTTL bounds SESSION_CACHE_TTL: how long a session revoked elsewhere, or
// expired, may still be honoured by this server.
const MaxSessionCacheTTL = 10 * time.Second

// keepCacheKey marks a context whose changes of sessions cannot touch a cached one.
type keepCacheKey struct{}

type cachedViewer struct {
	viewer auth.Viewer
	until  time.Time
}

// newSessionCache returns a cache of max entries that each live ttl; nil, which caches
// nothing, when either is not positive.
func newSessionCache(ttl time.Duration, max int) *sessionCache {
	if ttl <= 0 || max <= 0 {
		return nil
	}
	return &sessionCache{ttl: ttl, max: max, entries: make(map[string]cachedViewer)}
}

// get returns the viewer of the token hash when a lookup of it is younger than the TTL, and
// the generation to give put otherwise.
func (c *sessionCache) get(hash string, now time.Time) (v auth.Viewer, ok bool, gen uint64) {
	if c == nil {
		return auth.Viewer{}, false, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if ok && now.Before(e.until) {
		return e.viewer, true, c.gen
	}
	if ok {
		delete(c.entries, hash)
	}
	return auth.Viewer{}, false, c.gen
}

// put stores the viewer of a lookup that began at generation gen, unless the cache was
// invalidated since.
func (c *sessionCache) put(hash string, v auth.Viewer, gen uint64, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if _, ok := c.entries[hash]; !ok && len(c.entries) >= c.max {
		if now.Sub(c.swept) >= c.ttl {
			c.swept = now
			for k, e := range c.entries {
				if !now.Before(e.until) {
					delete(c.entries, k)
				}
			}
		}
		// Still full: the sessions of the last TTL outnumber the bound; drop any one.
		for k := range c.entries {
			if len(c.entries) < c.max {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[hash] = cachedViewer{viewer: v, until: now.Add(c.ttl)}
}

// clear forgets every entry and makes the lookups in flight forget what they read.
func (c *sessionCache) clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}

// hook clears the cache around every update and deletion of users and sessions (logOut,
// revokeAllSessions, a role or name change, deleteUser), and again when the transaction
// that holds one commits: a cached viewer never outlives a change made through this server.
// Creations change no session that is cached, nor does the deletion of dead sessions at
// each log-in (only live ones are cached).
func (c *sessionCache) hook(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		if m.Op().Is(ent.OpCreate) || ctx.Value(keepCacheKey{}) != nil {
			return next.Mutate(ctx, m)
		}
		c.clear()
		if txm, ok := m.(interface{ Tx() (*users.Tx, error) }); ok {
			if tx, err := txm.Tx(); err == nil {
				tx.OnCommit(func(next users.Committer) users.Committer {
					return users.CommitFunc(func(ctx context.Context, tx *users.Tx) error {
						err := next.Commit(ctx, tx)
						c.clear()
						return err
					})
				})
			}
		}
		v, err := next.Mutate(ctx, m)
		c.clear()
		return v, err
	})
}
