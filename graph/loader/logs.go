package loader

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/logs"
	"github.com/multidb/multidb/ent/logs/logentry"
	"github.com/multidb/multidb/ent/users"
	"github.com/multidb/multidb/internal/database"
)

// LogArgs are the arguments of User.logs.
type LogArgs = Args[logs.LogEntryOrder, logs.LogEntryWhereInput]

var logSource = source[*logs.LogEntry, logs.LogEntryOrder, logs.LogEntryWhereInput]{
	database:  "logs",
	id:        logentry.FieldID,
	partition: logentry.FieldUserID,
	order: func(o *logs.LogEntryOrder) (order[*logs.LogEntry], error) {
		if o == nil {
			o = logs.DefaultLogEntryOrder
		}
		f := o.Field
		if f == nil {
			f = logs.DefaultLogEntryOrder.Field
		}
		col, err := orderColumn(f.String(), logentry.FieldID, logentry.ValidColumn)
		ord := order[*logs.LogEntry]{column: col, dir: o.Direction}
		if col != logentry.FieldID {
			ord.value = f.Value
		}
		return ord, err
	},
	check: func(w *logs.LogEntryWhereInput) error {
		if _, err := w.P(); err != nil && err != logs.ErrEmptyLogEntryWhereInput {
			return err
		}
		return nil
	},
	query: func(ctx context.Context, c *database.Clients, parents []uuid.UUID, w *logs.LogEntryWhereInput, modify func(*sql.Selector)) ([]*logs.LogEntry, error) {
		q := c.Logs.LogEntry.Query().Where(logentry.UserIDIn(parents...))
		if w != nil {
			if p, err := w.P(); err == nil { // err: an empty where, checked in load
				q.Where(p)
			}
		}
		q.Modify(modify)
		return q.All(ctx)
	},
	nodeID: func(e *logs.LogEntry) uuid.UUID { return e.ID },
	parent: func(e *logs.LogEntry) uuid.UUID {
		if e.UserID == nil {
			return uuid.Nil
		}
		return *e.UserID
	},
	extra: func(e *logs.LogEntry, name string) (ent.Value, error) { return e.Value(name) },
}

// Logs returns the log entries connection of one user. The entries of every user of the
// level that asks with the same arguments come from one statement.
func (l *Loaders) Logs(ctx context.Context, u *users.User, args LogArgs) (*logs.LogEntryConnection, error) {
	p, err := l.logs.load(ctx, u, args)
	if err != nil {
		return nil, err
	}
	conn := &logs.LogEntryConnection{PageInfo: p.PageInfo, TotalCount: p.Total, Edges: make([]*logs.LogEntryEdge, len(p.Nodes))}
	for i, n := range p.Nodes {
		conn.Edges[i] = &logs.LogEntryEdge{Node: n, Cursor: p.Cursors[i]}
	}
	return conn, nil
}
