package graph

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/multidb/multidb/graph/account"
	"github.com/multidb/multidb/graph/loader"
	"github.com/multidb/multidb/graph/model"
	"github.com/multidb/multidb/graph/rules"
	"github.com/multidb/multidb/internal/database"
)

// Resolver is the root of the resolvers: every database's typed client, with the access
// rules of package access, and the accounts. It holds no state of its own; what lives for
// one request (the viewer, the batch loaders) is in the request's context.
type Resolver struct {
	clients  *database.Clients
	accounts *account.Service
	wait     time.Duration // of the batch loaders
	statsMax int           // STATS_MAX_BUCKETS
	live     *liveFeeds
	rollups  bool // analytics has the rollup tables of PostgreSQL
}

// deletePayload turns what a deletion removed into the GraphQL payload.
func deletePayload(id uuid.UUID) func([]rules.Removed, error) (*model.DeletePayload, error) {
	return func(removed []rules.Removed, err error) (*model.DeletePayload, error) {
		if err != nil {
			return nil, err
		}
		payload := &model.DeletePayload{DeletedID: id}
		for _, rm := range removed {
			payload.Removed = append(payload.Removed, &model.RemovedRows{Database: rm.Database, Count: rm.Rows})
		}
		return payload, nil
	}
}

// loaders returns the request's batch loaders. Outside NewHandler's middleware (a resolver
// called directly) it returns fresh ones: still correct, only batched within one field.
func (r *Resolver) loaders(ctx context.Context) *loader.Loaders {
	if l := loader.For(ctx); l != nil {
		return l
	}
	return loader.New(r.clients, r.wait)
}

// authPayload turns an issued session into the GraphQL payload.
func authPayload(s *account.Session, err error) (*model.AuthPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.AuthPayload{Token: s.Token, ExpiresAt: s.ExpiresAt, User: s.User}, nil
}
