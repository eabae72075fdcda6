// Package live streams new rows of a table to many subscribers. Each table has one Feed; all
// its subscribers share one statement per wake-up, plus one statement per distinct where
// filter among the subscribers that receive rows (never per subscriber). The shared statement
// carries every subscriber's viewer and cursor and joins them to the new rows by the access
// rule of the type's declared policy (Pairs): a USER receives rows whose owner is theirs, an
// ADMIN every row, decided in SQL.
//
// Order and the settle window: ids are UUID v7, which sort by the time they were made, but
// concurrent writers commit out of id order, so a feed that delivered every id above a cursor
// at once could pass a row that commits a moment later with a smaller id. A Feed therefore
// delivers only rows whose id is older than the settle window (Options.Settle): a row is
// delivered exactly once, in id order, provided it commits within the settle window of the
// time in its id. A row committed later than that (a transaction held open longer, or a client
// chosen id from the past) is not streamed; it is still in every query.
package live

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/multidb/multidb/internal/auth"
)

// Defaults of Options.
const (
	DefaultPoll          = 500 * time.Millisecond
	DefaultSettle        = 500 * time.Millisecond
	DefaultBuffer        = 1024
	DefaultBatch         = 1000
	DefaultPairs         = 50_000
	DefaultMaxPerViewer  = 100
	DefaultMaxPerConnect = 50
)

// fetchTimeout bounds the statements of one wake-up.
const fetchTimeout = 10 * time.Second

// Options tune a Feed. Zero fields take the defaults.
type Options struct {
	// Poll is how often the table is read while it has subscribers and nothing woke it.
	// Below zero the feed never reads on its own: its caller calls Tick (benchmarks, tests
	// that count statements).
	Poll time.Duration
	// Settle is how old a row's id must be before it is delivered (see the package comment).
	Settle time.Duration
	// Buffer is how many deliveries may wait for one subscriber; past it the subscription
	// ends with ErrSlowConsumer. It exceeds Batch, so that one wake-up alone never overflows
	// a subscriber that had read everything before it.
	Buffer int
	// Batch is the most rows one statement reads.
	Batch int
	// Pairs is the most (row, reader) pairs one statement returns, a reader being the
	// subscribers of one viewer at one cursor; a row's readers are never split, so a
	// statement returns at least one row whatever its readers.
	Pairs int
	// MaxPerViewer caps the subscriptions of one user over all of this process's feeds.
	MaxPerViewer int
}

func (o Options) withDefaults() Options {
	if o.Poll == 0 {
		o.Poll = DefaultPoll
	}
	if o.Settle < 0 {
		o.Settle = 0
	} else if o.Settle == 0 {
		o.Settle = DefaultSettle
	}
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Pairs <= 0 {
		o.Pairs = DefaultPairs
	}
	if o.MaxPerViewer <= 0 {
		o.MaxPerViewer = DefaultMaxPerViewer
	}
	return o
}

// Errors a subscription ends or pauses with.
var (
	// ErrSlowConsumer ends a subscription whose client did not keep up.
	ErrSlowConsumer = errors.New("live: the subscriber fell behind by more than its buffer")
	// ErrTooMany refuses a subscription over a viewer's cap.
	ErrTooMany = errors.New("live: too many subscriptions")
	// ErrClosed ends the subscriptions of a hub that shuts down.
	ErrClosed = errors.New("live: shutting down")
)

// Table is how a Feed reads its table.
type Table[T any] struct {
	// Read answers a wake-up in one statement (see Pairs), whatever the number of readers.
	Read func(ctx context.Context, r Read) (Page[T], error)
	// Match returns which of ids pass where: one statement.
	Match func(ctx context.Context, ids []uuid.UUID, where any) (map[uuid.UUID]bool, error)
	// ID reads a row's id.
	ID func(T) uuid.UUID
	// Batch, when set, makes the value shared by the deliveries of one wake-up (Delivery.Batch)
	// from the rows it delivers: the stitched fields of all of them load through it at once.
	Batch func(rows []T) any
	// Listen, when set, wakes the feed when rows are committed (PostgreSQL's LISTEN) until the
	// returned stop is called; the feed listens only while it has subscribers.
	Listen func(wake func()) (stop func())
}

// Delivery is one message to a subscriber: a row and its cursor, or an error. An error with
// Final set ends the subscription; otherwise (a database outage) the feed resumes from the
// subscriber's cursor.
type Delivery[T any] struct {
	Node   T
	Cursor uuid.UUID
	Batch  any // Table.Batch of the wake-up that delivered Node
	Err    error
	Final  bool
}

// Hub holds the caps shared by the feeds of one handler and ends them all at shutdown.
type Hub struct {
	opts    Options
	mu      sync.Mutex
	viewers map[uuid.UUID]int
	closed  bool
	feeds   []interface{ close() }
}

// NewHub returns a hub with o's settings.
func NewHub(o Options) *Hub {
	return &Hub{opts: o.withDefaults(), viewers: map[uuid.UUID]int{}}
}

// Options returns the hub's settings, defaults filled in.
func (h *Hub) Options() Options { return h.opts }

func (h *Hub) acquire(v auth.Viewer) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	if h.viewers[v.UserID] >= h.opts.MaxPerViewer {
		return ErrTooMany
	}
	h.viewers[v.UserID]++
	return nil
}

func (h *Hub) release(v auth.Viewer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.viewers[v.UserID]--; h.viewers[v.UserID] <= 0 {
		delete(h.viewers, v.UserID)
	}
}

// Close completes every subscription of the hub's feeds and refuses new ones (ErrClosed).
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	feeds := h.feeds
	h.mu.Unlock()
	for _, f := range feeds {
		f.close()
	}
}

// Feed streams the new rows of one table.
type Feed[T any] struct {
	hub   *Hub
	table Table[T]
	// wake carries wake-ups (a NOTIFY, a test); buffered by one, so that wake-ups coalesce.
	wake chan struct{}

	mu      sync.Mutex
	subs    map[*sub[T]]struct{}
	running bool
	stop    chan struct{} // closed by close
	done    chan struct{} // closed when the running loop returns
}

type sub[T any] struct {
	viewer   auth.Viewer
	where    any
	whereKey string
	cursor   uuid.UUID // last row considered; only the loop writes it
	failing  bool      // an error of the current outage was sent; only the loop uses it

	// Under the feed's mu: the deliveries waiting for the reader, and whether more may come.
	// The queue grows as deliveries come, up to Options.Buffer, and is let go once read, so
	// that a subscription that keeps up holds no buffer.
	queue  []*Delivery[T]
	closed bool
	ready  chan struct{} // buffered by one: the queue or closed changed
	out    *outlet[T]    // set by Pipe
}

// outlet is where Pipe hands a stream's deliveries: a channel, filled by a goroutine that
// runs only while deliveries wait for it. Its fields are used under the feed's mu.
type outlet[T any] struct {
	trySend  func(*Delivery[T]) bool // hands one over if the channel has room, without waiting
	pump     func()                  // starts the goroutine
	close    func()                  // closes the channel
	pumping  bool
	outClose bool
}

// Stream is one subscription's deliveries, in order.
type Stream[T any] struct {
	f *Feed[T]
	s *sub[T]
}

// Next waits for the next delivery. It returns false once the stream is over: after its
// final error, at shutdown, or when ctx ends, which ends the subscription.
func (st *Stream[T]) Next(ctx context.Context) (*Delivery[T], bool) {
	for {
		if d, more := st.TryNext(); d != nil || !more {
			return d, d != nil
		}
		select {
		case <-st.s.ready:
		case <-ctx.Done():
			st.Close()
			return nil, false
		}
	}
}

// TryNext returns the next delivery if one waits; more is false once the stream is over.
func (st *Stream[T]) TryNext() (d *Delivery[T], more bool) {
	st.f.mu.Lock()
	defer st.f.mu.Unlock()
	if d = st.s.pop(); d != nil {
		return d, true
	}
	return nil, !st.s.closed
}

// Close ends the subscription; the deliveries that wait are dropped.
func (st *Stream[T]) Close() { st.f.remove(st.s, nil) }

// Pipe hands the deliveries of st, turned into P by to, to the channel it returns, as
// gqlgen's subscriptions take them, until the stream ends (the channel is then closed) or ctx
// ends (which ends the subscription). The channel holds one delivery; a goroutine that
// waits for the reader runs only while more wait, so that an idle subscription holds none.
// Use either Pipe or Next, not both.
func Pipe[T, P any](ctx context.Context, st *Stream[T], to func(*Delivery[T]) P) <-chan P {
	ch := make(chan P, 1)
	f, s := st.f, st.s
	o := &outlet[T]{
		trySend: func(d *Delivery[T]) bool {
			select {
			case ch <- to(d):
				return true
			default:
				return false
			}
		},
		close: func() { close(ch) },
	}
	// next returns the delivery to hand over, or stops the goroutine (closing the channel
	// once the stream is over and nothing waits).
	next := func() (*Delivery[T], bool) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if d := s.pop(); d != nil {
			return d, true
		}
		o.pumping = false
		s.finish()
		return nil, false
	}
	o.pump = func() {
		go func() {
			for {
				d, ok := next()
				if !ok {
					return
				}
				select {
				case ch <- to(d):
				case <-ctx.Done():
					st.Close()
					for _, ok := next(); ok; _, ok = next() {
					}
					return
				}
			}
		}()
	}
	f.mu.Lock()
	s.out = o
	s.deliver()
	f.mu.Unlock()
	context.AfterFunc(ctx, st.Close)
	return ch
}

// pop takes the next delivery of the queue, or nil; under the feed's mu.
func (s *sub[T]) pop() *Delivery[T] {
	if len(s.queue) == 0 {
		return nil
	}
	d := s.queue[0]
	s.queue[0] = nil
	if s.queue = s.queue[1:]; len(s.queue) == 0 {
		s.queue = nil
	}
	return d
}

// deliver tells the reader of s that its queue or state changed: it wakes Next, or, for a
// piped stream, hands the first delivery over at once when the channel has room and starts
// the goroutine for the rest; under the feed's mu.
func (s *sub[T]) deliver() {
	o := s.out
	if o == nil {
		select {
		case s.ready <- struct{}{}:
		default:
		}
		return
	}
	if o.pumping {
		return
	}
	if len(s.queue) == 1 && o.trySend(s.queue[0]) {
		s.pop()
	}
	if len(s.queue) > 0 {
		o.pumping = true
		o.pump()
		return
	}
	s.finish()
}

// finish closes the channel of a piped stream that is over, once nothing waits; under the
// feed's mu.
func (s *sub[T]) finish() {
	if o := s.out; o != nil && s.closed && len(s.queue) == 0 && !o.pumping && !o.outClose {
		o.outClose = true
		o.close()
	}
}

// NewFeed returns a feed of table on hub.
func NewFeed[T any](hub *Hub, table Table[T]) *Feed[T] {
	f := &Feed[T]{hub: hub, table: table, wake: make(chan struct{}, 1), subs: map[*sub[T]]struct{}{}, stop: make(chan struct{})}
	hub.mu.Lock()
	hub.feeds = append(hub.feeds, f)
	hub.mu.Unlock()
	return f
}

// Wake asks the feed to read its table now rather than at the next poll.
func (f *Feed[T]) Wake() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Subscribe streams the rows after the cursor after (nil: from now) that v may read and
// that pass where (nil: all; whereKey identifies it, equal keys for equal filters). The
// stream ends when its reader's context ends (see Next and Pipe), when it is closed, after a
// final error, or at shutdown.
func (f *Feed[T]) Subscribe(v auth.Viewer, after *uuid.UUID, where any, whereKey string) (*Stream[T], error) {
	if err := f.hub.acquire(v); err != nil {
		return nil, err
	}
	s := &sub[T]{viewer: v, where: where, whereKey: whereKey, ready: make(chan struct{}, 1)}
	if after != nil {
		s.cursor = *after
	} else {
		s.cursor = Boundary(time.Now().Add(-f.hub.opts.Settle))
	}
	if where == nil {
		s.whereKey = ""
	}
	f.mu.Lock()
	select {
	case <-f.stop:
		f.mu.Unlock()
		f.hub.release(v)
		return nil, ErrClosed
	default:
	}
	f.subs[s] = struct{}{}
	if !f.running && f.hub.opts.Poll > 0 {
		f.running = true
		f.done = make(chan struct{})
		go f.loop(f.done)
	}
	f.mu.Unlock()
	f.Wake()
	return &Stream[T]{f: f, s: s}, nil
}

// remove drops s, its stream ending after err (when not nil) if it has not ended already.
func (f *Feed[T]) remove(s *sub[T], err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[s]; !ok {
		return
	}
	delete(f.subs, s)
	f.hub.release(s.viewer)
	if err != nil {
		s.queue = append(s.queue, &Delivery[T]{Err: err, Final: true})
	}
	s.closed = true
	s.deliver()
}

func (f *Feed[T]) close() {
	f.mu.Lock()
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
	subs := make([]*sub[T], 0, len(f.subs))
	for s := range f.subs {
		subs = append(subs, s)
	}
	done := f.done
	f.mu.Unlock()
	// Completed, not failed: the client reconnects (to another replica) with its cursor.
	for _, s := range subs {
		f.remove(s, nil)
	}
	if done != nil {
		<-done
	}
}

// loop reads the table on every wake-up and poll while the feed has subscribers, and returns
// when the last one leaves, so that an idle feed holds no goroutine.
func (f *Feed[T]) loop(done chan struct{}) {
	defer close(done)
	if f.table.Listen != nil {
		stop := f.table.Listen(f.Wake)
		defer stop()
	}
	timer := time.NewTimer(f.hub.opts.Poll)
	defer timer.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-f.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		woken := false
		select {
		case <-f.stop:
			f.mu.Lock()
			f.running = false
			f.mu.Unlock()
			return
		case <-f.wake:
			woken = true
		case <-timer.C:
		}
		f.mu.Lock()
		if len(f.subs) == 0 {
			f.running = false
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		more := f.Tick(ctx)
		if more {
			f.Wake()
		}
		next := f.hub.opts.Poll
		if woken {
			// The rows that woke the feed are younger than the settle window: read again once
			// they have settled rather than at the next poll.
			next = min(next, f.hub.opts.Settle+5*time.Millisecond)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

// Tick reads the table once for every subscriber and delivers what each may see; it reports
// whether the statement hit one of its bounds (more rows wait). The feed's loop calls it;
// tests call it to count the statements of one wake-up.
//
// The statement carries every subscriber (its viewer and cursor) and returns each new row
// with the subscribers that may see it, so the access rule is applied in SQL. Afterwards
// every subscriber's cursor moves to the last row the statement covered, also for those
// that received nothing, so that the next statement starts where this one stopped. (Not to
// the settle boundary: a row that commits a little late, below it but above every row read
// so far, is still delivered.)
func (f *Feed[T]) Tick(ctx context.Context) bool {
	f.mu.Lock()
	subs := make([]*sub[T], 0, len(f.subs))
	for s := range f.subs {
		subs = append(subs, s)
	}
	f.mu.Unlock()
	if len(subs) == 0 {
		return false
	}
	// Subscribers of one viewer (all admins count as one) at one cursor read the same rows:
	// the statement carries each such group once. After a wake-up nearly every cursor is
	// the same, so the groups are about as many as the distinct viewers.
	type groupKey struct {
		admin  bool
		viewer uuid.UUID // uuid.Nil for the admins
		cursor uuid.UUID
	}
	groupOf := map[groupKey]int{}
	var readers []Reader
	var members [][]int // per group, its subscribers
	low := subs[0].cursor
	for i, s := range subs {
		// Admins are a group of their own, never one with a viewer of the nil id.
		k := groupKey{admin: s.viewer.Admin(), cursor: s.cursor}
		if !k.admin {
			k.viewer = s.viewer.UserID
		}
		g, ok := groupOf[k]
		if !ok {
			g = len(readers)
			groupOf[k] = g
			r := Reader{Sub: g, After: s.cursor}
			if !s.viewer.Admin() {
				r.Viewer = &s.viewer.UserID
			}
			readers = append(readers, r)
			members = append(members, nil)
		}
		members[g] = append(members[g], i)
		if bytesLess(s.cursor, low) {
			low = s.cursor
		}
	}
	opts := f.hub.opts
	// A silent database must not hold the feed: the next wake-up tries again.
	fetchCtx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	ctx = fetchCtx
	before := Boundary(time.Now().Add(-opts.Settle))
	page, err := f.table.Read(ctx, Read{Low: low, Before: before, Rows: opts.Batch, Pairs: opts.Pairs, Readers: readers})
	if err != nil {
		if ctx.Err() == nil {
			f.broadcast(subs, err)
		}
		return false
	}
	for _, s := range subs {
		s.failing = false
	}
	// The last row returned is the last one scanned, unless the bound on pairs cut the rows
	// short: every subscriber has received what it may see up to it.
	var horizon uuid.UUID
	more := false
	if n := len(page.Rows); n > 0 {
		last := page.Rows[n-1]
		horizon = f.table.ID(last.Node)
		more = last.Rank < page.Scanned || page.Scanned >= opts.Batch
	}
	// From groups back to subscribers.
	for i := range page.Rows {
		var to []int
		for _, g := range page.Rows[i].To {
			if g >= 0 && g < len(members) {
				to = append(to, members[g]...)
			}
		}
		page.Rows[i].To = to
	}
	// One statement per distinct filter, over the rows that reach its subscribers only.
	failed, matches := f.match(ctx, subs, page.Rows)
	var batch any
	if f.table.Batch != nil {
		nodes := make([]T, 0, len(page.Rows))
		for _, r := range page.Rows {
			if len(r.To) > 0 {
				nodes = append(nodes, r.Node)
			}
		}
		if len(nodes) > 0 {
			batch = f.table.Batch(nodes)
		}
	}
	skip := make([]bool, len(subs)) // failed its filter's statement, or left
	for i, s := range subs {
		if err := failed[s.whereKey]; err != nil {
			// It keeps its cursor: the next wake-up reads its rows again.
			f.send(s, &Delivery[T]{Err: err})
			skip[i] = true
		}
	}
	for _, r := range page.Rows {
		id := f.table.ID(r.Node)
		for _, i := range r.To {
			s := subs[i]
			if skip[i] || !bytesLess(s.cursor, id) {
				continue
			}
			if s.whereKey != "" && !matches[s.whereKey][id] {
				continue
			}
			if !f.send(s, &Delivery[T]{Node: r.Node, Cursor: id, Batch: batch}) {
				skip[i] = true
			}
		}
	}
	for _, s := range subs {
		if failed[s.whereKey] == nil && bytesLess(s.cursor, horizon) {
			s.cursor = horizon
		}
	}
	return more
}

// match runs the statement of each distinct where filter among the subscribers that receive
// rows, over those rows' ids.
func (f *Feed[T]) match(ctx context.Context, subs []*sub[T], rows []Row[T]) (failed map[string]error, matches map[string]map[uuid.UUID]bool) {
	ids := map[string][]uuid.UUID{}
	groups := map[string]*sub[T]{}
	for _, r := range rows {
		id := f.table.ID(r.Node)
		for _, i := range r.To {
			s := subs[i]
			if s.whereKey == "" {
				continue
			}
			if _, ok := groups[s.whereKey]; !ok {
				groups[s.whereKey] = s
			}
			if l := ids[s.whereKey]; len(l) == 0 || l[len(l)-1] != id {
				ids[s.whereKey] = append(l, id)
			}
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	failed = map[string]error{}
	matches = map[string]map[uuid.UUID]bool{}
	for _, k := range keys {
		m, err := f.table.Match(ctx, ids[k], groups[k].where)
		if err != nil {
			failed[k] = err
			continue
		}
		matches[k] = m
	}
	return failed, matches
}

// send queues d for s without waiting; a full buffer ends the subscription.
func (f *Feed[T]) send(s *sub[T], d *Delivery[T]) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[s]; !ok {
		return false
	}
	if len(s.queue) < f.hub.opts.Buffer {
		s.queue = append(s.queue, d)
		s.deliver()
		return true
	}
	delete(f.subs, s)
	f.hub.release(s.viewer)
	// Drop every waiting row, so that the error comes right after the last row the client
	// read: it resumes from that row's cursor and misses nothing.
	s.queue = []*Delivery[T]{{Err: ErrSlowConsumer, Final: true}}
	s.closed = true
	s.deliver()
	return false
}

// broadcast tells each subscriber once per outage that the table cannot be read.
func (f *Feed[T]) broadcast(subs []*sub[T], err error) {
	for _, s := range subs {
		if !s.failing {
			s.failing = true
			f.send(s, &Delivery[T]{Err: err})
		}
	}
}

// Boundary is the smallest UUID v7 of time t: every id made before t sorts below it.
func Boundary(t time.Time) uuid.UUID {
	var u uuid.UUID
	ms := uint64(t.UnixMilli())
	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (40 - 8*i))
	}
	return u
}

func bytesLess(a, b uuid.UUID) bool { return bytes.Compare(a[:], b[:]) < 0 }
