// Package loader batches the fields that cross databases, so that a query costs at most one
// statement per database per level of nesting, whatever the number of parents.
//
// Each request gets its own Loaders (Middleware). A field's resolver asks its loader for one
// parent's value; the loader waits a moment for the resolvers of the other parents of the
// level, which gqlgen runs concurrently, and answers them all with one statement.
package loader

import (
	"context"
	"net/http"
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

// DefaultWait is how long a loader collects keys before it sends its statement. gqlgen
// starts the resolvers of one level together; a short wait keeps the latency low, at the
// price of a level split in two when the machine is too busy to start them all in time.
const DefaultWait = 2 * time.Millisecond

// Cursor and PageInfo are the entgql types every client aliases.
type (
	Cursor   = entgql.Cursor[uuid.UUID]
	PageInfo = entgql.PageInfo[uuid.UUID]
)

// Loaders are the batch loaders of one request.
type Loaders struct {
	users  *dataloadgen.Loader[uuid.UUID, *users.User]
	events *connLoader[*analytics.Event, analytics.EventOrder, analytics.EventWhereInput]
	logs   *connLoader[*logs.LogEntry, logs.LogEntryOrder, logs.LogEntryWhereInput]
}

// New returns fresh loaders over the clients c that wait the given time for a batch to fill.
func New(c *database.Clients, wait time.Duration) *Loaders {
	return &Loaders{
		users: dataloadgen.NewLoader(func(ctx context.Context, ids []uuid.UUID) ([]*users.User, []error) {
			return fetchUsers(ctx, c.Users, ids)
		}, dataloadgen.WithWait(wait)),
		events: newConnLoader(c, eventSource, wait),
		logs:   newConnLoader(c, logSource, wait),
	}
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

// User returns the user with the given id, or nil when there is none: the users of a level
// are read with one `id IN (...)` statement.
func (l *Loaders) User(ctx context.Context, id uuid.UUID) (*users.User, error) {
	return l.users.Load(ctx, id)
}

func fetchUsers(ctx context.Context, c *users.Client, ids []uuid.UUID) ([]*users.User, []error) {
	rows, err := c.User.Query().Where(user.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, []error{apierror.Database("users", err)}
	}
	byID := make(map[uuid.UUID]*users.User, len(rows))
	for _, u := range rows {
		byID[u.ID] = u
	}
	out := make([]*users.User, len(ids))
	for i, id := range ids {
		out[i] = byID[id] // nil: the user no longer exists
	}
	return out, nil
}
