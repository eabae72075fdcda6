package graph

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/multidb/multidb/graph/access"
	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/graph/loader"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/schema/xdb"
)

// liveBatchTimeout bounds the statement that loads the rows of a wake-up's stitched fields.
const liveBatchTimeout = 10 * time.Second

// liveBatch is what the deliveries of one wake-up share: the rows their stitched field
// (field, e.g. LogEntry.user) points at, read in one statement for all of them, by the first
// delivery written whose selection asks for the field. Every delivery then puts the rows its
// viewer may see, by the target type's declared policy, in its own loaders' identity map, so
// that the field costs no statement of its own; a row the viewer may not see is left out and
// the field falls back to the loaders, whose statements apply the access rules.
type liveBatch struct {
	field  string
	db     string
	target database.Type
	set    *database.Set // its own clients: the rows are read once, for every viewer
	ids    []uuid.UUID

	once sync.Once
	rows []any
	err  error
}

// newLiveBatch returns the batch of the stitched field of a streamed type of db, for the rows
// whose references are refs (nil ones skipped), or nil when no row refers to anything.
func newLiveBatch(set *database.Set, db, typ, field string, refs []*uuid.UUID) any {
	spec, ok := database.Lookup(db)
	if !ok {
		return nil
	}
	t, ok := spec.Type(typ)
	if !ok {
		return nil
	}
	i := slices.IndexFunc(t.Refs, func(r database.Ref) bool { return r.Field == field })
	if i < 0 {
		return nil
	}
	tdb, ttyp, _ := strings.Cut(t.Refs[i].Target, ".")
	tspec, ok := database.Lookup(tdb)
	if !ok {
		return nil
	}
	target, ok := tspec.Type(ttyp)
	if !ok || target.Nodes == nil {
		return nil
	}
	seen := map[uuid.UUID]bool{}
	var ids []uuid.UUID
	for _, id := range refs {
		if id != nil && !seen[*id] {
			seen[*id] = true
			ids = append(ids, *id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return &liveBatch{field: field, db: tdb, target: target, set: set, ids: ids}
}

// load reads the batch's rows once. The statement outlives the delivery that asked first,
// since the others wait for it.
func (b *liveBatch) load(ctx context.Context) ([]any, error) {
	b.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), liveBatchTimeout)
		defer cancel()
		b.rows, b.err = b.target.Nodes(ctx, &b.set.Clients, b.ids)
		b.err = apierror.Database(b.db, b.err)
	})
	return b.rows, b.err
}

// preloadLive fills the loaders of the delivery being written (ctx is the edge's node field)
// with the rows of its wake-up's batch that its viewer may see, when its selection asks for
// the batch's field. An error leaves the loaders empty: the field then reads on its own, and
// reports its own error.
func preloadLive(ctx context.Context, batch any) {
	b, ok := batch.(*liveBatch)
	l := loader.For(ctx)
	if !ok || l == nil || !selectsField(ctx, b.field) {
		return
	}
	v, _ := auth.FromContext(ctx)
	rows, err := b.load(ctx)
	if err != nil {
		return
	}
	visible := make([]any, 0, len(rows))
	for _, r := range rows {
		if id := nodeID(r); id != uuid.Nil && mayRead(b.target.Policy, v, id) {
			visible = append(visible, r)
		}
	}
	l.Remember(nil, visible...)
}

// selectsField reports whether the selection of the field of ctx asks for name.
func selectsField(ctx context.Context, name string) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil {
		return false
	}
	for _, f := range graphql.CollectFieldsCtx(ctx, []string{fc.Field.Definition.Type.Name()}) {
		if f.Name == name {
			return true
		}
	}
	return false
}

// mayRead reports whether v may read the row id of a type with policy p, for the rows whose
// owner is the row itself (users); for other owned types it answers no, and the loaders'
// statement decides.
func mayRead(p xdb.PolicyAnnotation, v auth.Viewer, id uuid.UUID) bool {
	switch {
	case !access.Readable(p, v):
		return false
	case p.Kind != xdb.KindOwned || v.Admin():
		return true
	}
	return p.Owner == "id" && id == v.UserID
}

// perMessageLoaders gives every response of an operation that has no loaders (one over a
// WebSocket or SSE; a subscription's every message) loaders of its own, so that the fields of
// one message batch together, and a message never reads what an earlier one loaded.
func perMessageLoaders(c *database.Clients, wait time.Duration) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		if loader.For(ctx) == nil {
			ctx = loader.NewContext(ctx, c, wait)
		}
		return next(ctx)
	}
}
