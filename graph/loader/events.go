package loader

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/analytics"
	"github.com/multidb/multidb/ent/analytics/event"
	"github.com/multidb/multidb/ent/users"
	"github.com/multidb/multidb/internal/database"
)

// EventArgs are the arguments of User.events.
type EventArgs = Args[analytics.EventOrder, analytics.EventWhereInput]

var eventSource = source[*analytics.Event, analytics.EventOrder, analytics.EventWhereInput]{
	database:  "analytics",
	id:        event.FieldID,
	partition: event.FieldUserID,
	order: func(o *analytics.EventOrder) (order[*analytics.Event], error) {
		if o == nil {
			o = analytics.DefaultEventOrder
		}
		f := o.Field
		if f == nil {
			f = analytics.DefaultEventOrder.Field
		}
		col, err := orderColumn(f.String(), event.FieldID, event.ValidColumn)
		ord := order[*analytics.Event]{column: col, dir: o.Direction}
		if col != event.FieldID {
			ord.value = f.Value
		}
		return ord, err
	},
	check: func(w *analytics.EventWhereInput) error {
		if _, err := w.P(); err != nil && err != analytics.ErrEmptyEventWhereInput {
			return err
		}
		return nil
	},
	query: func(ctx context.Context, c *database.Clients, parents []uuid.UUID, w *analytics.EventWhereInput, modify func(*sql.Selector)) ([]*analytics.Event, error) {
		q := c.Analytics.Event.Query().Where(event.UserIDIn(parents...))
		if w != nil {
			if p, err := w.P(); err == nil { // err: an empty where, checked in load
				q.Where(p)
			}
		}
		q.Modify(modify)
		return q.All(ctx)
	},
	nodeID: func(e *analytics.Event) uuid.UUID { return e.ID },
	parent: func(e *analytics.Event) uuid.UUID { return e.UserID },
	extra:  func(e *analytics.Event, name string) (ent.Value, error) { return e.Value(name) },
}

// Events returns the events connection of one user. The events of every user of the level
// that asks with the same arguments come from one statement.
func (l *Loaders) Events(ctx context.Context, u *users.User, args EventArgs) (*analytics.EventConnection, error) {
	p, err := l.events.load(ctx, u, args)
	if err != nil {
		return nil, err
	}
	conn := &analytics.EventConnection{PageInfo: p.PageInfo, TotalCount: p.Total, Edges: make([]*analytics.EventEdge, len(p.Nodes))}
	for i, n := range p.Nodes {
		conn.Edges[i] = &analytics.EventEdge{Node: n, Cursor: p.Cursors[i]}
	}
	return conn, nil
}
