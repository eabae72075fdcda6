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
// appendEdgeKeys, which says which keys each parent entity will ask for. This file and window.go
// are the generic part.
package loader

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
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
// fields of this schema never do; it bounds the cost of a mistake in the counting. It is long:
// on a busy machine the resolvers of one level may take well over 100 ms to start, and a
// batch sent before the last of them asks splits in two.
const settleWait = time.Second

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

// cached is a row of the identity map: an entity and the columns it was read with (nil:
// every column).
type cached struct {
	entity any
	cols   []string
}

// Loaders are the batch loaders of one request.
type Loaders struct {
	c    *database.Clients
	wait time.Duration

	mu        sync.Mutex
	gens      map[any]*generation             // parent entity -> the list it came in
	fallbacks map[string]any                  // per edge or target: the loader of parents of no generation
	rows      map[string]map[uuid.UUID]cached // the identity map: per type, the rows read so far

	selections sync.Map // *ast.Field -> refSelection
}

// New returns fresh loaders over the clients c; wait is for parents of no generation.
func New(c *database.Clients, wait time.Duration) *Loaders {
	return &Loaders{c: c, wait: wait, gens: map[any]*generation{}, fallbacks: map[string]any{}, rows: map[string]map[uuid.UUID]cached{}}
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
// keys are, per edge, the distinct keys the next level will ask for.
type generation struct {
	keys map[string][]uuid.UUID

	mu      sync.Mutex
	loaders map[string]any // one dataloadgen.Loader (or refBatch) per field and argument set
}

// refBatch is the batch of a reference field below one generation: the keys the identity map
// answers, decided once when the batch is made, and the loader of the others, whose capacity
// is their number. Deciding once keeps the batch whole when another statement fills the
// identity map meanwhile.
type refBatch[T any] struct {
	ld   *dataloadgen.Loader[uuid.UUID, T]
	skip map[uuid.UUID]T
}

// Register records entities as one list of parents, so that the fields below them are loaded
// in one batch that is sent as soon as all of them have asked. Entities that are parents of
// no edge (and nils) are ignored.
func (l *Loaders) Register(entities ...any) {
	g := &generation{keys: map[string][]uuid.UUID{}, loaders: map[string]any{}}
	seen := map[edgeKey]bool{}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(entities) > 8 && len(entities) >= len(l.gens) {
		// A list at least as long as those before: the map made once at its new size costs
		// less than its growth, entry by entry, to that size.
		gens := make(map[any]*generation, len(l.gens)+len(entities))
		maps.Copy(gens, l.gens)
		l.gens = gens
	}
	var keys []edgeKey
	for _, e := range entities {
		var parent bool
		if keys, parent = appendEdgeKeys(keys[:0], e); !parent {
			continue
		}
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				g.keys[k.edge] = append(g.keys[k.edge], k.key)
			}
		}
		l.gens[e] = g
	}
}

// Remember puts entities, read with the columns cols (sorted; nil for every column), in the
// request's identity map: a reference to one of them later in the request is answered
// without a statement when cols hold what it selects. Only rows read through the request's
// access-ruled clients are remembered, so the map shows nothing the viewer may not see.
func (l *Loaders) Remember(cols []string, entities ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range entities {
		typ, id, ok := identity(e)
		if !ok {
			continue
		}
		m := l.rows[typ]
		if m == nil {
			m = map[uuid.UUID]cached{}
			l.rows[typ] = m
		}
		if old, ok := m[id]; ok && !covers(cols, old.cols) {
			continue // keep the wider row
		}
		m[id] = cached{entity: e, cols: cols}
	}
}

// lookup returns the remembered row of typ whose id is id, if it holds the columns need.
func (l *Loaders) lookup(typ string, id uuid.UUID, need []string) (any, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.rows[typ][id]
	if !ok || !covers(c.cols, need) {
		return nil, false
	}
	return c.entity, true
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
	if g == nil || len(g.keys[edge]) == 0 {
		return fallback(l, name, newLoader)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if ld, ok := g.loaders[name].(*dataloadgen.Loader[K, V]); ok {
		return ld
	}
	ld := newLoader(dataloadgen.WithBatchCapacity(len(g.keys[edge])), dataloadgen.WithWait(settleWait))
	g.loaders[name] = ld
	return ld
}

// refSelection is what one reference field of the document selects: the same for every
// parent, so worked out once per request.
type refSelection struct {
	cols     []string
	stitched bool
	name     string // of its batch loader
}

// selectionOf returns the selection of the reference field of ctx, named edge, of type f.
func (l *Loaders) selectionOf(ctx context.Context, edge string, f *Fields) refSelection {
	var field any
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		field = fc.Field.Field
	}
	if field != nil {
		if s, ok := l.selections.Load(field); ok {
			return s.(refSelection)
		}
	}
	var s refSelection
	if opCtx, sels, ok := fieldSelections(ctx); ok {
		s.cols, s.stitched = f.selection(opCtx, sels)
	}
	s.name = edge + "|" + strings.Join(s.cols, ",")
	if field != nil {
		l.selections.Store(field, s)
	}
	return s
}

// Target is a type that edges point at, loaded by primary key.
type Target[T any] struct {
	Name     string // "users.User"
	Database string
	Fields   *Fields
	// Load reads the rows of ids with the columns cols (every column when nil).
	Load func(ctx context.Context, c *database.Clients, ids []uuid.UUID, cols []string) ([]T, error)
	ID   func(T) uuid.UUID
}

// one returns the row of t whose id is key, for the edge named edge of parent; the zero T
// (nil) when the row no longer exists or the viewer may not see it. A row the request has
// read already, with the columns the field selects, costs no statement.
func one[T comparable](ctx context.Context, l *Loaders, t *Target[T], edge string, parent any, key uuid.UUID) (T, error) {
	// A row that the identity map answers keeps the generation it came in; the stitched
	// fields below it would be batched with that list instead of this one, so such
	// selections are read again, as a list of their own.
	sel := l.selectionOf(ctx, edge, t.Fields)
	cols, stitched, name := sel.cols, sel.stitched, sel.name
	newLoader := func(opts ...dataloadgen.Option) *dataloadgen.Loader[uuid.UUID, T] {
		return dataloadgen.NewLoader(func(ctx context.Context, ids []uuid.UUID) ([]T, []error) {
			rows, err := t.Load(ctx, l.c, ids, cols)
			if err != nil {
				return nil, []error{apierror.Database(t.Database, err)}
			}
			parents := make([]any, len(rows))
			byID := make(map[uuid.UUID]T, len(rows))
			for i, r := range rows {
				byID[t.ID(r)] = r
				parents[i] = r
			}
			l.Remember(cols, parents...)
			l.Register(parents...)
			out := make([]T, len(ids))
			for i, id := range ids {
				out[i] = byID[id] // zero: the row no longer exists
			}
			return out, nil
		}, opts...)
	}
	g := l.generationOf(parent)
	if g == nil || len(g.keys[edge]) == 0 {
		if e, ok := l.lookup(t.Name, key, cols); ok && !stitched {
			return e.(T), nil
		}
		return fallback(l, name, newLoader).Load(ctx, key)
	}
	g.mu.Lock()
	b, ok := g.loaders[name].(*refBatch[T])
	if !ok {
		b = &refBatch[T]{skip: map[uuid.UUID]T{}}
		for _, k := range g.keys[edge] {
			if e, ok := l.lookup(t.Name, k, cols); ok && !stitched {
				b.skip[k] = e.(T)
			}
		}
		b.ld = newLoader(dataloadgen.WithBatchCapacity(max(len(g.keys[edge])-len(b.skip), 1)), dataloadgen.WithWait(settleWait))
		g.loaders[name] = b
	}
	g.mu.Unlock()
	if e, ok := b.skip[key]; ok {
		return e, nil
	}
	return b.ld.Load(ctx, key)
}
