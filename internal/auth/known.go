package auth

import (
	"sync"
	"time"
)

// KnownAddresses remembers, for a while, the client addresses each account logged in from
// successfully, so that a flood of failed log-ins against an account from elsewhere does
// not lock its owner out of the places they use. Memory is bounded: past max pairs, expired
// ones are dropped first, then arbitrary ones.
type KnownAddresses struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	pairs map[string]time.Time // email + "\x00" + address -> last success
	now   func() time.Time
}

// NewKnownAddresses remembers each success for ttl, max pairs at most.
func NewKnownAddresses(ttl time.Duration, max int) *KnownAddresses {
	return &KnownAddresses{ttl: ttl, max: max, pairs: map[string]time.Time{}, now: time.Now}
}

// Remember records a successful log-in to email from addr.
func (k *KnownAddresses) Remember(email, addr string) {
	if k == nil || addr == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if len(k.pairs) >= k.max {
		for key, at := range k.pairs {
			if now.Sub(at) > k.ttl {
				delete(k.pairs, key)
			}
		}
		for key := range k.pairs {
			if len(k.pairs) < k.max {
				break
			}
			delete(k.pairs, key)
		}
	}
	k.pairs[email+"\x00"+addr] = now
}

// Known reports whether email logged in from addr within the ttl.
func (k *KnownAddresses) Known(email, addr string) bool {
	if k == nil || addr == "" {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	at, ok := k.pairs[email+"\x00"+addr]
	return ok && k.now().Sub(at) <= k.ttl
}
