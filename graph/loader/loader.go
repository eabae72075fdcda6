// Package loader batches the fields that cross databases, so that a query costs one statement
// per database per level of nesting, whatever the number of parents.
//
// Each request gets its own Loaders (Middleware). A field's resolver asks its loader for one
// parent's value, and one statement answers the whole level. The level is known exactly:
// whoever produces a list of parents (a top-level connection, nodes, or a loader's own
// statement) registers it as a generation, and a generation's loader sends its statement as
// soon as every parent of the generation has asked, with no timer involved. Parents that come
// from elsewhere (a mutation's result) are batched by time, as dataloaders usually are.
package loader

import (
	"context"
	"net/http"
	"sync"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"github.com/multidb/multidb/ent/analytics"
	"github.com/multidb/multidb/ent/logs"
	"github.com/multidb/multidb/ent/users"
	"github.com/multidb/multidb/ent/users/user"
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

// Loaders are the batch loaders of one request.
type Loaders struct {
	c    *database.Clients
	wait time.Duration

	mu   sync.Mutex
	gens map[any]*generation // parent entity -> the list it came in

	// The loaders of parents that belong to no generation.
	users  *dataloadgen.Loader[uuid.UUID, *users.User]
	events *connLoader[*analytics.Event, analytics.EventOrder, analytics.EventWhereInput]
	logs   *connLoader[*logs.LogEntry, logs.LogEntryOrder, logs.LogEntryWhereInput]
}

// New returns fresh loaders over the clients c; wait is for parents of no generation.
func New(c *database.Clients, wait time.Duration) *Loaders {
	l := &Loaders{c: c, wait: wait, gens: map[any]*generation{}}
	l.users = l.newUserLoader(dataloadgen.WithWait(wait))
	l.events = newConnLoader(l, eventSource)
	l.logs = newConnLoader(l, logSource)
	return l
}

type ctxKey struct{}

// Middleware gives each request its own loaders: what one request loaded is never served to
// another.
func Middleware(c *database.Clients, wait time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), ctxKey{}, New(c, wait))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// For returns the request's loaders, or nil outside Middleware.
func For(ctx context.Context) *Loaders {
	l, _ := ctx.Value(ctxKey{}).(*Loaders)
	return l
}

// generation is one list of parents: the entities one resolver or one statement returned.
// Its counts are how many distinct keys the next level will ask for.
type generation struct {
	users     int // distinct users: the parents of User.events and User.logs
	eventRefs int // distinct users the events name: the keys of Event.user
	logRefs   int // distinct users the log entries name: the keys of LogEntry.user

	mu      sync.Mutex
	loaders map[string]any // one dataloadgen.Loader per field and argument set
}

// Register records entities (*users.User, *analytics.Event, *logs.LogEntry; others are
// ignored) as one list of parents, so that the fields below them are loaded in one batch
// that is sent as soon as all of them have asked.
func (l *Loaders) Register(entities ...any) {
	g := &generation{loaders: map[string]any{}}
	us, evs, lgs := map[uuid.UUID]bool{}, map[uuid.UUID]bool{}, map[uuid.UUID]bool{}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range entities {
		switch e := e.(type) {
		case *users.User:
			if e == nil {
				continue
			}
			us[e.ID] = true
		case *analytics.Event:
			if e == nil {
				continue
			}
			evs[e.UserID] = true
		case *logs.LogEntry:
			if e == nil {
				continue
			}
			if e.UserID != nil {
				lgs[*e.UserID] = true
			}
		default:
			continue
		}
		l.gens[e] = g
	}
	g.users, g.eventRefs, g.logRefs = len(us), len(evs), len(lgs)
}

// generationOf returns the generation of a parent entity, or nil.
func (l *Loaders) generationOf(e any) *generation {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gens[e]
}

// batchLoader returns the loader of one field and argument set below generation g: its
// batch is full, and sent, when the expected number of distinct keys has been asked for.
// Without a generation it returns fallback.
func batchLoader[K comparable, V any](g *generation, name string, expected int, fallback *dataloadgen.Loader[K, V],
	newLoader func(...dataloadgen.Option) *dataloadgen.Loader[K, V]) *dataloadgen.Loader[K, V] {
	if g == nil || expected == 0 {
		return fallback
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if ld, ok := g.loaders[name].(*dataloadgen.Loader[K, V]); ok {
		return ld
	}
	ld := newLoader(dataloadgen.WithBatchCapacity(expected), dataloadgen.WithWait(settleWait))
	g.loaders[name] = ld
	return ld
}

// EventUser returns the user of an event, or nil when the user no longer exists.
func (l *Loaders) EventUser(ctx context.Context, e *analytics.Event) (*users.User, error) {
	g := l.generationOf(e)
	var n int
	if g != nil {
		n = g.eventRefs
	}
	return batchLoader(g, "Event.user", n, l.users, l.newUserLoader).Load(ctx, e.UserID)
}

// LogEntryUser returns the user a log entry names, or nil when it names none or the user no
// longer exists.
func (l *Loaders) LogEntryUser(ctx context.Context, e *logs.LogEntry) (*users.User, error) {
	if e.UserID == nil {
		return nil, nil
	}
	g := l.generationOf(e)
	var n int
	if g != nil {
		n = g.logRefs
	}
	return batchLoader(g, "LogEntry.user", n, l.users, l.newUserLoader).Load(ctx, *e.UserID)
}

// newUserLoader returns a loader of users by id: one `id IN (...)` statement per batch.
func (l *Loaders) newUserLoader(opts ...dataloadgen.Option) *dataloadgen.Loader[uuid.UUID, *users.User] {
	return dataloadgen.NewLoader(func(ctx context.Context, ids []uuid.UUID) ([]*users.User, []error) {
		rows, err := l.c.Users.User.Query().Where(user.IDIn(ids...)).All(ctx)
		if err != nil {
			return nil, []error{apierror.Database("users", err)}
		}
		parents := make([]any, len(rows))
		byID := make(map[uuid.UUID]*users.User, len(rows))
		for i, u := range rows {
			byID[u.ID] = u
			parents[i] = u
		}
		l.Register(parents...)
		out := make([]*users.User, len(ids))
		for i, id := range ids {
			out[i] = byID[id] // nil: the user no longer exists
		}
		return out, nil
	}, opts...)
}
