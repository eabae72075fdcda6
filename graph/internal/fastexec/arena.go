package fastexec

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
)

// Arena holds the executor's short-lived values of the operations of one HTTP request: the
// objects' field sets, the fields' contexts, the lists' elements and the response's bytes.
// They live exactly as long as the request: made while the executor runs, read while the
// response is written, and dead once it is. The transport hands them back with Release after
// writing the response, and the next request reuses their memory, where the executor would
// allocate (and the collector free) about 1.5 MB for an answer of 100 users with their events
// and logs.
//
// A nil *Arena allocates every value on the heap, as for a subscription or a WebSocket
// operation, whose lifetimes the transport does not bound. An operation with a deferred field
// keeps its arena from reuse: its deferred fields resolve after the response.
//
// Values are taken under a mutex: list elements are marshalled concurrently.
type Arena struct {
	mu       sync.Mutex
	sets     slab[FieldSet]
	ctxs     slab[fieldCtx]
	elems    slab[graphql.Marshaler]
	response bytes.Buffer
	// kept is set when a value of the arena may be read after Release: it is not reused.
	kept atomic.Bool
}

// chunk is the number of values of a kind that an arena allocates at a time; a list longer
// than that gets its own slice, not kept for reuse.
const chunk = 256

// maxArenaChunks bounds the chunks of each kind an arena keeps for the next request, so that a
// rare huge answer does not pin its memory: 64 chunks of field sets are 2.6 MB.
const maxArenaChunks = 64

// slab hands out values of one kind from chunks, in order; reset zeroes what was handed out.
type slab[T any] struct {
	chunks [][]T
	cur    int // the chunk values are taken from
	used   int // of chunks[cur]
}

func (s *slab[T]) take(n int) []T {
	if n > chunk {
		return make([]T, n)
	}
	if s.cur < len(s.chunks) && s.used+n > chunk {
		s.cur, s.used = s.cur+1, 0
	}
	if s.cur == len(s.chunks) {
		s.chunks = append(s.chunks, make([]T, chunk))
	}
	v := s.chunks[s.cur][s.used : s.used+n : s.used+n]
	s.used += n
	return v
}

// reset zeroes the values handed out, which may point into the request's data, and reports
// whether the slab is small enough to keep.
func (s *slab[T]) reset() bool {
	for i := 0; i < s.cur && i < len(s.chunks); i++ {
		clear(s.chunks[i])
	}
	if s.cur < len(s.chunks) {
		clear(s.chunks[s.cur][:s.used])
	}
	s.cur, s.used = 0, 0
	return len(s.chunks) <= maxArenaChunks
}

var arenas = sync.Pool{New: func() any { return new(Arena) }}

// NewArena returns an empty arena, for one request: Release it once its response is written.
func NewArena() *Arena { return arenas.Get().(*Arena) }

// Release hands the arena's memory to the next request. Nothing of the arena may be read
// after: the caller has written the response, and every field of its operations has returned.
func (a *Arena) Release() {
	if a == nil || a.kept.Load() {
		return
	}
	if a.reset() {
		arenas.Put(a)
	}
}

// reset empties the arena and reports whether it is small enough to keep for reuse.
func (a *Arena) reset() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	keep := a.sets.reset()
	keep = a.ctxs.reset() && keep
	keep = a.elems.reset() && keep
	a.response.Reset()
	return keep && a.response.Cap() <= maxPooledBuffer
}

// arenaKey is the context key of a request's arena.
type arenaKey struct{}

// WithArena returns ctx holding a, for the executor of each operation to find (ArenaOf).
func WithArena(ctx context.Context, a *Arena) context.Context {
	return context.WithValue(ctx, arenaKey{}, a)
}

// ArenaOf returns the arena of ctx's request, nil when there is none.
func ArenaOf(ctx context.Context) *Arena {
	a, _ := ctx.Value(arenaKey{}).(*Arena)
	return a
}

// NewFieldSet is fastexec's NewFieldSet, in the arena.
func (a *Arena) NewFieldSet(fields []graphql.CollectedField) *FieldSet {
	if a == nil {
		return NewFieldSet(fields)
	}
	a.mu.Lock()
	m := &a.sets.take(1)[0]
	a.mu.Unlock()
	m.init(fields)
	return m
}

// WithFieldContext is fastexec's WithFieldContext, in the arena.
func (a *Arena) WithFieldContext(ctx context.Context, fc *graphql.FieldContext) (context.Context, *graphql.FieldContext) {
	if a == nil {
		return WithFieldContext(ctx, fc)
	}
	a.mu.Lock()
	c := &a.ctxs.take(1)[0]
	a.mu.Unlock()
	c.Context, c.fc = ctx, *fc
	c.fc.Parent = graphql.GetFieldContext(ctx)
	return c, &c.fc
}

// MarshalSlice is fastexec's MarshalSlice, with the list and its elements' contexts in the
// arena.
func (a *Arena) MarshalSlice(ctx context.Context, length int, workerLimit int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	if a == nil || workerLimit > 0 || length == 0 {
		return MarshalSlice(ctx, length, workerLimit, omitPanicHandler, marshalElement)
	}
	a.mu.Lock()
	ret, ctxs := a.elems.take(length), a.ctxs.take(length)
	a.mu.Unlock()
	return marshalSlice(ctx, ret, ctxs, omitPanicHandler, marshalElement)
}

// NewDeferredGroup is fastexec's NewDeferredGroup: an object with a deferred field keeps the
// arena from reuse, since that field resolves after the response is written.
func (a *Arena) NewDeferredGroup(ctx context.Context, fields []graphql.CollectedField) graphql.DeferredGroup {
	for i := range fields {
		if fields[i].IsDeferred() {
			if a != nil {
				a.kept.Store(true)
			}
			return graphql.NewDeferredGroup(ctx)
		}
	}
	return graphql.DeferredGroup{}
}

// Marshal is fastexec's Marshal, into the arena's buffer: the bytes are the arena's, valid
// until Release, and not copied.
func (a *Arena) Marshal(m graphql.Marshaler) []byte {
	if a == nil {
		return Marshal(m)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	start := a.response.Len()
	m.MarshalGQL(&a.response)
	b := a.response.Bytes()[start:]
	return b[:len(b):len(b)]
}
