package auth

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// ErrBusy is returned when too many password hashes are running and waiting: the caller
// should answer TOO_MANY_REQUESTS rather than make the request wait longer.
var ErrBusy = errors.New("auth: too many password checks at once")

// Defaults of a HashGate.
const (
	DefaultHashConcurrency = 4
	DefaultHashQueue       = 8
	DefaultHashWait        = time.Second
)

// HashGate bounds the argon2id hashes running at once. Each costs DefaultParams' 19 MiB and
// tens of milliseconds of a core, so a burst of them takes memory and the CPU from every other
// request; past Concurrency running and Queue waiting, or after waiting Wait, a hash is
// refused with ErrBusy instead.
type HashGate struct {
	slots   chan struct{} // one per hash running
	tickets chan struct{} // one per hash running or waiting
	wait    time.Duration
	runs    atomic.Int64
	running atomic.Int64
	peak    atomic.Int64
}

// NewHashGate lets concurrency hashes run at once and queue more wait up to wait; values
// that are not positive take the defaults.
func NewHashGate(concurrency, queue int, wait time.Duration) *HashGate {
	if concurrency <= 0 {
		concurrency = DefaultHashConcurrency
	}
	if queue < 0 {
		queue = DefaultHashQueue
	}
	if wait <= 0 {
		wait = DefaultHashWait
	}
	return &HashGate{
		slots:   make(chan struct{}, concurrency),
		tickets: make(chan struct{}, concurrency+queue),
		wait:    wait,
	}
}

// Do runs fn, a password hash or check, when a slot is free: at once, or after waiting in
// the queue for Wait at most. ErrBusy when the queue is full or the wait ends; ctx's error
// when it ends first.
func (g *HashGate) Do(ctx context.Context, fn func()) error {
	if g == nil {
		fn()
		return nil
	}
	select {
	case g.tickets <- struct{}{}:
	default:
		return ErrBusy
	}
	defer func() { <-g.tickets }()
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-g.slots }()
	n := g.running.Add(1)
	defer g.running.Add(-1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	g.runs.Add(1)
	fn()
	return nil
}

// Runs is how many hashes the gate has let run.
func (g *HashGate) Runs() int64 { return g.runs.Load() }

// Peak is the most hashes that ran at once.
func (g *HashGate) Peak() int64 { return g.peak.Load() }
