// Package loader batches the fields that cross databases, so that a query costs one statement
// per database per level of nesting, whatever the number of parents.
//
// Each request gets its own Loaders (Middleware). A field's resolver asks its loader for one
// parent's value, and one statement answers the whole level. The level is known exactly:
// whoever produces a list of parents (a top-level connection, nodes, or a loader's own
// statement) registers it as a generation, and a generation's loader sends its statement as
// soon as every parent of the generation has asked, with no timer involved. Parents that come
// from elsewhere (a mutation's result) are batched by time, as dataloaders usually are.
//
// The edges themselves are declared in the ent schemas (schema/xdb.Ref) and generated into
// xdb_edges.go: one Target per type that edges point at, one Source per connection, and
// edgeKeys, which says which keys each parent entity will ask for. This file and window.go
// are the generic part.
package loader

import (
	"context"
	"net/http"
	"sync"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/internal/database"
)

// DefaultWait is how long a loader collects the keys of parents that belong to no generation
// before it sends its statement. gqlgen starts the resolvers of one level together, but on a
// busy machine hundreds of them may take longer than that to start, so generations do not
// rely on it.
const DefaultWait = 2 * time.Millisecond

// settleWait is how long a generation's loader waits when not every parent asks, which the
// fields of this schema never do; it bounds the cost of a mistake in the counting.
const settleWait = 100 * time.Millisecond

// Cursor and PageInfo are the entgql types every client aliases.
type (
	Cursor   = entgql.Cursor[uuid.UUID]
	PageInfo = entgql.PageInfo[uuid.UUID]
)

// edgeKey is one key a parent entity will ask an edge for.
type edgeKey struct {
	edge string
	key  uuid.UUID
}

// Loaders are the batch loaders of one request.
type Loaders struct {
	c    *database.Clients
	wait time.Duration

	mu        sync.Mutex
	gens      map[any]*generation // parent entity -> the list it came in
	fallbacks map[string]any      // per edge or target: the loader of parents of no generation
}

// New returns fresh loaders over the clients c; wait is for parents of no generation.
func New(c *database.Clients, wait time.Duration) *Loaders {
	return &Loaders{c: c, wait: wait, gens: map[any]*generation{}, fallbacks: map[string]any{}}
}

type ctxKey struct{}

// Middleware gives each request its own loaders: what one request loaded is never served to
// another.
func Middleware(c *database.Clients, wait time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), c, wait)))
	})
}

// NewContext returns ctx with loaders of its own: each operation of a batched request gets
// fresh ones, so that no operation reads what an earlier one loaded before a mutation.
func NewContext(ctx context.Context, c *database.Clients, wait time.Duration) context.Context {
	return context.WithValue(ctx, ctxKey{}, New(c, wait))
}

// For returns the request's loaders, or nil outside Middleware.
func For(ctx context.Context) *Loaders {
	l, _ := ctx.Value(ctxKey{}).(*Loaders)
	return l
}

// generation is one list of parents: the entities one resolver or one statement returned.
// expected says, per edge, how many distinct keys the next level will ask for.
type generation struct {
	expected map[string]int

	mu      sync.Mutex
	loaders map[string]any // one dataloadgen.Loader per field and argument set
}

// Register records entities as one list of parents, so that the fields below them are loaded
// in one batch that is sent as soon as all of them have asked. Entities that are parents of
// no edge (and nils) are ignored.
func (l *Loaders) Register(entities ...any) {
	g := &generation{expected: map[string]int{}, loaders: map[string]any{}}
	seen := map[edgeKey]bool{}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range entities {
		keys := edgeKeys(e)
		if keys == nil {
			continue
		}
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				g.expected[k.edge]++
			}
		}
		l.gens[e] = g
	}
}

// generationOf returns the generation of a parent entity, or nil.
func (l *Loaders) generationOf(e any) *generation {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gens[e]
}

// fallback returns the loader named name for parents of no generation, made once.
func fallback[K comparable, V any](l *Loaders, name string, newLoader func(...dataloadgen.Option) *dataloadgen.Loader[K, V]) *dataloadgen.Loader[K, V] {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ld, ok := l.fallbacks[name].(*dataloadgen.Loader[K, V]); ok {
		return ld
	}
	ld := newLoader(dataloadgen.WithWait(l.wait))
	l.fallbacks[name] = ld
	return ld
}

// batchLoader returns the loader of one field and argument set below the generation of
// parent: its batch is full, and sent, when the expected number of distinct keys of edge has
// been asked for. Without a generation it returns the fallback loader of name.
func batchLoader[K comparable, V any](l *Loaders, parent any, edge, name string,
	newLoader func(...dataloadgen.Option) *dataloadgen.Loader[K, V]) *dataloadgen.Loader[K, V] {
	g := l.generationOf(parent)
	if g == nil || g.expected[edge] == 0 {
		return fallback(l, name, newLoader)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if ld, ok := g.loaders[name].(*dataloadgen.Loader[K, V]); ok {
		return ld
	}
	ld := newLoader(dataloadgen.WithBatchCapacity(g.expected[edge]), dataloadgen.WithWait(settleWait))
	g.loaders[name] = ld
	return ld
}

// Target is a type that edges point at, loaded by primary key.
type Target[T any] struct {
	Name     string // "users.User"
	Database string
	Load     func(ctx context.Context, c *database.Clients, ids []uuid.UUID) ([]T, error)
	ID       func(T) uuid.UUID
}

// one returns the row of t whose id is key, for the edge named edge of parent; the zero T
// (nil) when the row no longer exists or the viewer may not see it.
func one[T comparable](ctx context.Context, l *Loaders, t *Target[T], edge string, parent any, key uuid.UUID) (T, error) {
	newLoader := func(opts ...dataloadgen.Option) *dataloadgen.Loader[uuid.UUID, T] {
		return dataloadgen.NewLoader(func(ctx context.Context, ids []uuid.UUID) ([]T, []error) {
			rows, err := t.Load(ctx, l.c, ids)
			if err != nil {
				return nil, []error{apierror.Database(t.Database, err)}
			}
			parents := make([]any, len(rows))
			byID := make(map[uuid.UUID]T, len(rows))
			for i, r := range rows {
				byID[t.ID(r)] = r
				parents[i] = r
			}
			l.Register(parents...)
			out := make([]T, len(ids))
			for i, id := range ids {
				out[i] = byID[id] // zero: the row no longer exists
			}
			return out, nil
		}, opts...)
	}
	return batchLoader(l, parent, edge, edge, newLoader).Load(ctx, key)
}
