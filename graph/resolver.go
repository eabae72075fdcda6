package graph

import (
	"github.com/multidb/multidb/internal/database"
)

// Resolver is the root of the resolvers: every database's typed client. It holds no state of
// its own; what lives for one request (the batch loaders) is in the request's context.
type Resolver struct {
	clients *database.Clients
}
