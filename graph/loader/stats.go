package loader

import (
	"context"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"github.com/multidb/multidb/ent/users"
)

// UserAggregate returns one user's value of an aggregate field of User (User.eventStats),
// for the argument set named args: the users of one list that ask with the same arguments
// are sent to fetch together, once all of them have asked, as the stitched connections are.
func UserAggregate[V any](ctx context.Context, l *Loaders, field, args string, obj *users.User,
	fetch func(ctx context.Context, ids []uuid.UUID) ([]V, []error)) (V, error) {
	newLoader := func(opts ...dataloadgen.Option) *dataloadgen.Loader[uuid.UUID, V] {
		return dataloadgen.NewLoader(fetch, opts...)
	}
	// The users of a list are the keys of their edge User.events: the same parents.
	return batchLoader(l, obj, "User.events", field+" "+args, newLoader).Load(ctx, obj.ID)
}
