package graph

import (
	"context"
	"sync"

	"github.com/google/uuid"

	"github.com/multidb/multidb/graph/access"
	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/graph/model"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/database"
)

// maxNodes bounds nodes(ids:): each table gets the ids as one IN list, which must stay well
// under the bind-parameter limits of PostgreSQL (65535) and SQLite (32766).
const maxNodes = 1000

// A node ID is the entity's plain UUID v7 primary key, with no type prefix: it is the very
// value Event.userID and LogEntry.userID store, so a client can pass one to the other, and
// rows keep their ids however the graph is arranged. The price is that an ID does not say
// its table, so a lookup asks every table by primary key, all databases at once: one
// indexed statement per table, whatever the number of ids. With UUIDs unique across tables,
// at most one table answers.

// nodeTable looks up the nodes of one table by primary key, in one statement.
type nodeTable struct {
	database string
	load     func(ctx context.Context, c *database.Clients, ids []uuid.UUID) ([]any, error)
}

// nodeTables lists every table of the graph whose policy lets the viewer read some of its
// rows, from the registry: a table the viewer may not read costs no statement.
func nodeTables(ctx context.Context) []nodeTable {
	v, _ := auth.FromContext(ctx)
	var out []nodeTable
	for _, spec := range database.Registry {
		for _, t := range spec.Types {
			if t.Nodes != nil && access.Readable(t.Policy, v) {
				out = append(out, nodeTable{database: spec.Name, load: t.Nodes})
			}
		}
	}
	return out
}

// nodeID is the primary key of any node: every ent type has GetID (ent/xdbgen).
func nodeID(n any) uuid.UUID {
	if n, ok := n.(interface{ GetID() uuid.UUID }); ok {
		return n.GetID()
	}
	return uuid.Nil
}

// resolveNodes returns the node of each id, in the order of ids, nil where no table has it.
// A failing database fails the lookup only if an id is left unresolved, for it may be there.
func resolveNodes(ctx context.Context, c *database.Clients, ids []uuid.UUID) ([]model.Node, error) {
	if len(ids) > maxNodes {
		return nil, apierror.BadInput("nodes: at most %d ids, got %d", maxNodes, len(ids))
	}
	out := make([]model.Node, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	distinct := make([]uuid.UUID, 0, len(ids))
	seen := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			distinct = append(distinct, id)
		}
	}
	tables := nodeTables(ctx)
	found := make([][]any, len(tables))
	errs := make([]error, len(tables))
	var wg sync.WaitGroup
	for i, t := range tables {
		wg.Go(func() {
			found[i], errs[i] = t.load(ctx, c, distinct)
			errs[i] = apierror.Database(t.database, errs[i])
		})
	}
	wg.Wait()
	byID := make(map[uuid.UUID]model.Node, len(distinct))
	for _, nodes := range found {
		for _, n := range nodes {
			if n, ok := n.(model.Node); ok {
				byID[nodeID(n)] = n
			}
		}
	}
	for i, id := range ids {
		out[i] = byID[id]
	}
	if len(byID) < len(distinct) {
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
