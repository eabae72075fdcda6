// Package audit records who did what through the API in the logs database's audit_entries
// table (type AuditEntry, which admins read and nothing in the API writes), without ever
// making a request wait for it: entries go into a bounded buffer, a background writer stores
// them in batches and retries with backoff while the database fails, and when the buffer is
// full new entries are dropped and counted rather than held.
//
// No entry can block the writer: every value is made storable before it is queued (see
// storable), a batch the database refuses for its data is split until the entry at fault is
// found and recorded as unstorable, and a batch is retried MaxAttempts times at most.
package audit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/logs"
)

// Entry is one audited operation.
type Entry struct {
	Time time.Time
	// Actor is the user who acted; uuid.Nil for an anonymous caller.
	Actor     uuid.UUID
	Role      string
	Operation string // the mutation, e.g. "deleteUser"
	Outcome   string // "ok", or the error code
	Target    string // what it acted on: an id, or the email of a log-in; may be empty
	RequestID string
}

// Succeeded reports whether the operation went through.
func (e Entry) Succeeded() bool { return e.Outcome == OutcomeOK }

// OutcomeOK is the Outcome of an operation that succeeded.
const OutcomeOK = "ok"

// DropCounter counts entries dropped because the buffer was full or the writer was closed
// before it could store them (metrics.Metrics implements it).
type DropCounter interface {
	AuditDropped(n int)
}

// UnstorableCounter counts entries the database refused for their data even once made
// storable; each is logged and stored reduced (see Writer.store) when it can be
// (metrics.Metrics implements it).
type UnstorableCounter interface {
	AuditUnstorable(n int)
}

// Options configure a Writer. Zero fields take the defaults in brackets.
type Options struct {
	Buffer     int           // entries waiting to be written at most [1024]
	Batch      int           // entries per INSERT at most [100]
	Timeout    time.Duration // of one INSERT [5s]
	MinBackoff time.Duration // first wait after a failed INSERT [100ms], doubled up to MaxBackoff
	MaxBackoff time.Duration // [10s]
	// MaxAttempts is how many times one batch is tried while the database fails [30,
	// several minutes with the default backoff]; then its entries are dropped and counted.
	MaxAttempts int
	Dropped     DropCounter       // [none]
	Unstorable  UnstorableCounter // [none]
	Logger      *slog.Logger      // where write failures are logged [slog.Default()]
}

// Writer stores entries in the logs database in the background.
type Writer struct {
	c     *logs.Client
	o     Options
	queue chan Entry

	mu     sync.RWMutex // held for reading by Record, for writing by Close
	closed bool
	stop   chan struct{} // closed by Close: flush what is left, then return
	abort  chan struct{} // closed when Close's context ends: give up
	done   chan struct{} // closed when the writer has returned
	left   int           // entries the writer gave up on when aborted
}

// New starts a writer into the logs client c. Close it to flush and stop it.
func New(c *logs.Client, o Options) *Writer {
	if o.Buffer <= 0 {
		o.Buffer = 1024
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(10*time.Second, o.MinBackoff)
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 30
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	w := &Writer{
		c: c, o: o,
		queue: make(chan Entry, o.Buffer),
		stop:  make(chan struct{}),
		abort: make(chan struct{}),
		done:  make(chan struct{}),
	}
	go w.run()
	return w
}

// Record queues e and returns at once. It reports false, and counts a drop, when the buffer
// is full or the writer is closed.
func (w *Writer) Record(e Entry) bool {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e = storable(e)
	w.mu.RLock()
	defer w.mu.RUnlock()
	if !w.closed {
		select {
		case w.queue <- e:
			return true
		default:
		}
	}
	w.dropped(1)
	return false
}

func (w *Writer) dropped(n int) {
	if n > 0 && w.o.Dropped != nil {
		w.o.Dropped.AuditDropped(n)
	}
}

// ErrClosed is returned by a second Close.
var ErrClosed = errors.New("audit: writer already closed")

// Close stops taking entries and waits until the writer has stored every queued entry, or
// until ctx ends: then the entries left are dropped, counted, and ctx's error returned.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	close(w.stop)
	w.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		close(w.abort)
		<-w.done
		w.dropped(w.left)
		return ctx.Err()
	}
}

// run is the background writer: it takes what is queued, up to a batch, and stores it.
func (w *Writer) run() {
	defer close(w.done)
	batch := make([]Entry, 0, w.o.Batch)
	for {
		select {
		case e := <-w.queue:
			batch = append(batch, e)
		case <-w.stop:
			// Closed: no entry arrives any more; store what is queued and return.
			for {
				batch = w.fill(batch)
				if len(batch) == 0 {
					return
				}
				if !w.store(batch) {
					w.left = len(batch) + len(w.queue)
					return
				}
				batch = batch[:0]
			}
		}
		batch = w.fill(batch)
		if !w.store(batch) {
			w.left = len(batch) + len(w.queue)
			return
		}
		batch = batch[:0]
	}
}

// fill adds what is already queued to batch, without waiting, up to a full batch.
func (w *Writer) fill(batch []Entry) []Entry {
	for len(batch) < w.o.Batch {
		select {
		case e := <-w.queue:
			batch = append(batch, e)
		default:
			return batch
		}
	}
	return batch
}

// store writes batch in one statement, retrying with backoff while the database fails for a
// reason that may pass. A batch refused for its data is split in halves, each stored on its
// own, so that one bad entry costs itself alone. It reports false when Close gave up waiting.
func (w *Writer) store(batch []Entry) bool {
	wait := w.o.MinBackoff
	for attempt := 1; ; attempt++ {
		err := w.insert(batch)
		switch {
		case err == nil:
			return true
		case permanent(err) && len(batch) > 1:
			half := len(batch) / 2
			return w.store(batch[:half]) && w.store(batch[half:])
		case permanent(err):
			w.unstorable(batch[0], err)
			return true
		case attempt >= w.o.MaxAttempts:
			w.o.Logger.Error("audit: writing to the logs database kept failing; entries dropped", "entries", len(batch), "attempts", attempt, "err", err)
			w.dropped(len(batch))
			return true
		}
		w.o.Logger.Warn("audit: writing to the logs database failed; retrying", "entries", len(batch), "attempt", attempt, "retry_in", wait.String(), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-w.abort:
			t.Stop()
			return false
		}
		wait = min(2*wait, w.o.MaxBackoff)
	}
}

// unstorable records that the database refused e for its data: it is counted and logged, and
// stored reduced to what the server chose (operation, outcome, actor, time), so that the
// trail still shows the operation happened. The reduced entry is tried once.
func (w *Writer) unstorable(e Entry, err error) {
	if w.o.Unstorable != nil {
		w.o.Unstorable.AuditUnstorable(1)
	}
	w.o.Logger.Error("audit: the logs database refused an entry; stored without its target and request id", "operation", e.Operation, "request_id", e.RequestID, "err", err)
	reduced := Entry{Time: e.Time, Actor: e.Actor, Role: e.Role, Operation: e.Operation, Outcome: e.Outcome, Target: UnstorableTarget}
	if rerr := w.insert([]Entry{reduced}); rerr != nil {
		w.o.Logger.Error("audit: the reduced entry was refused too; dropped", "operation", e.Operation, "err", rerr)
		w.dropped(1)
	}
}

// UnstorableTarget is the target of an entry stored in place of one the database refused.
const UnstorableTarget = "(unstorable)"

func (w *Writer) insert(batch []Entry) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.o.Timeout)
	defer cancel()
	// The writer stops waiting on a statement as soon as Close gives up.
	go func() {
		select {
		case <-w.abort:
			cancel()
		case <-ctx.Done():
		}
	}()
	creates := make([]*logs.AuditEntryCreate, len(batch))
	for i, e := range batch {
		creates[i] = w.c.AuditEntry.Create().
			SetNillableActorID(actor(e)).
			SetNillableRole(orNull(e.Role)).
			SetOperation(e.Operation).
			SetOutcome(e.Outcome).
			SetNillableTarget(orNull(e.Target)).
			SetNillableRequestID(orNull(e.RequestID)).
			SetCreatedAt(e.Time)
	}
	return w.c.AuditEntry.CreateBulk(creates...).Exec(ctx)
}

// orNull stores an empty value as null, which the graph shows as null rather than "".
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// actor is the entry's actor_id: the acting user, or null for a caller not signed in.
func actor(e Entry) *uuid.UUID {
	if e.Actor == uuid.Nil {
		return nil
	}
	return &e.Actor
}
