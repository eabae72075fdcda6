package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter allows each key (an email, an IP address) a burst of attempts refilled at a steady
// rate, and forgets keys that have been idle for a while so memory stays bounded.
type Limiter struct {
	mu      sync.Mutex
	every   time.Duration
	burst   int
	maxKeys int
	keys    map[string]*entry
	now     func() time.Time
}

type entry struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewLimiter allows burst attempts per key, then one every `every`.
func NewLimiter(burst int, every time.Duration) *Limiter {
	return &Limiter{every: every, burst: burst, maxKeys: 100_000, keys: map[string]*entry{}, now: time.Now}
}

// Allow reports whether key may make an attempt now, and counts it.
func (l *Limiter) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= l.maxKeys {
			l.evict(now)
		}
		e = &entry{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.keys[key] = e
	}
	e.seen = now
	return e.lim.AllowN(now, 1)
}

// Ready reports whether key has an attempt left now, without counting one: with Take, it
// limits what only counts when it fails.
func (l *Limiter) Ready(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.keys[key]
	return !ok || e.lim.TokensAt(l.now()) >= 1
}

// Take counts one attempt of key, whether or not it had one left.
func (l *Limiter) Take(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= l.maxKeys {
			l.evict(now)
		}
		e = &entry{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.keys[key] = e
	}
	e.seen = now
	e.lim.AllowN(now, 1)
}

// evict drops keys whose bucket has refilled; a refilled bucket is the same as a new one.
func (l *Limiter) evict(now time.Time) {
	full := l.every * time.Duration(l.burst)
	for k, e := range l.keys {
		if now.Sub(e.seen) > full {
			delete(l.keys, k)
		}
	}
}
