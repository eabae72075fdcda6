package graph

import (
	"github.com/multidb/multidb/internal/database"

	// The runtime packages install the schemas' hooks, defaults and validators; without
	// them a create through the graph would skip the email normalization or crash.
	_ "github.com/multidb/multidb/ent/analytics/runtime"
	_ "github.com/multidb/multidb/ent/logs/runtime"
	_ "github.com/multidb/multidb/ent/users/runtime"
)

// Resolver is the root of the resolvers: every database's typed client. It holds no state of
// its own; what lives for one request (the batch loaders) is in the request's context.
type Resolver struct {
	clients *database.Clients
}
