package server

import (
	"context"
	"sync"
	"time"
)

// States of a database in /readyz.
const (
	StateUp          = "up"          // answers and has every migration the binary ships
	StateUnreachable = "unreachable" // no answer within the probe's deadline, refused or cut
	StateRefusing    = "refusing"    // answers but takes no work: starting up, in recovery, shutting down, full
	StateBusy        = "busy"        // answers but is locked
	StateBehind      = "behind"      // up, but lacks migrations the binary ships
	// StateAhead: up, with migrations newer than the binary's (a newer binary migrated it, as
	// in a rolling deploy). Ready: files are written to keep the previous binary working.
	StateAhead   = "ahead"
	StateUnknown = "unknown" // not probed yet, or its probe has not finished lately
)

// Check probes one database. It must return by ctx's deadline (the probe's own); a state
// without State set is taken as StateUnknown.
type Check struct {
	Name  string
	Probe func(ctx context.Context) DatabaseState
}

// Prober probes every database in the background, each on its own schedule and deadline, and
// serves the last states at once: /readyz never waits on a database, and one database that
// hangs delays the report of no other.
type Prober struct {
	checks   []Check
	interval time.Duration
	timeout  time.Duration

	mu     sync.Mutex
	states map[string]probed
}

type probed struct {
	state DatabaseState
	at    time.Time
}

// NewProber returns a prober of checks that runs each every interval with a deadline of
// timeout. Start runs it.
func NewProber(checks []Check, interval, timeout time.Duration) *Prober {
	return &Prober{checks: checks, interval: interval, timeout: timeout, states: map[string]probed{}}
}

// Refresh probes every database once, concurrently, and returns when all have answered or
// their deadlines have passed.
func (p *Prober) Refresh(ctx context.Context) {
	var wg sync.WaitGroup
	for _, c := range p.checks {
		wg.Go(func() { p.probe(ctx, c) })
	}
	wg.Wait()
}

// Start probes each database every interval until ctx is done.
func (p *Prober) Start(ctx context.Context) {
	for _, c := range p.checks {
		go func() {
			t := time.NewTicker(p.interval)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					p.probe(ctx, c)
				}
			}
		}()
	}
}

func (p *Prober) probe(ctx context.Context, c Check) {
	pctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	// The state is decided at the deadline even if the probe takes longer to give up (a
	// driver's socket may fail a moment after its context): it is left to finish alone.
	ch := make(chan DatabaseState, 1)
	go func() { ch <- c.Probe(pctx) }()
	var st DatabaseState
	select {
	case st = <-ch:
	case <-pctx.Done():
		if ctx.Err() != nil {
			return // shutting down
		}
		st = DatabaseState{State: StateUnreachable, Error: "no answer within " + p.timeout.String()}
	}
	st.Name = c.Name
	if st.State == "" {
		st.State = StateUnknown
	}
	if st.State != StateUp && st.State != StateAhead && st.Error == "" {
		st.Error = st.State
	}
	p.mu.Lock()
	p.states[c.Name] = probed{state: st, at: time.Now()}
	p.mu.Unlock()
}

// States returns the last state of every database, in the order of the checks. A database
// whose last probe is older than three rounds is StateUnknown: its probe is stuck.
func (p *Prober) States(context.Context) []DatabaseState {
	p.mu.Lock()
	defer p.mu.Unlock()
	stale := time.Now().Add(-3 * (p.interval + p.timeout))
	out := make([]DatabaseState, len(p.checks))
	for i, c := range p.checks {
		pr, ok := p.states[c.Name]
		switch {
		case !ok:
			out[i] = DatabaseState{Name: c.Name, State: StateUnknown, Error: "not probed yet", Pending: -1}
		case pr.at.Before(stale):
			out[i] = pr.state
			out[i].State, out[i].Error = StateUnknown, "no probe has finished since "+pr.at.UTC().Format(time.RFC3339)
		default:
			out[i] = pr.state
		}
	}
	return out
}
