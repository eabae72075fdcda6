package graph

import (
	"context"
	"encoding/json"
	"errors"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/analytics"
	"github.com/multidb/multidb/ent/analytics/event"
	"github.com/multidb/multidb/ent/logs"
	"github.com/multidb/multidb/ent/logs/logentry"
	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/graph/live"
	"github.com/multidb/multidb/graph/model"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/schema/xdb"
)

// liveFeeds are the streams of the subscriptions, over the system clients: the access rule of
// each type's declared policy is part of the shared statement (live.Pairs), and where filters
// take one statement per distinct filter.
type liveFeeds struct {
	hub    *live.Hub
	logs   *live.Feed[*logs.LogEntry]
	events *live.Feed[*analytics.Event]
}

func newLiveFeeds(set *database.Set, o live.Options) *liveFeeds {
	hub := live.NewHub(o)
	lc, ac := set.Clients.Logs, set.Clients.Analytics
	listen := func(db, table string) func(func()) func() {
		if d := set.Get(db); d != nil && d.Dialect() == dialect.Postgres {
			return live.ListenPostgres(d.Config.DSN, live.Channel(table))
		}
		return nil // SQLite: the poll alone
	}
	return &liveFeeds{
		hub: hub,
		logs: live.NewFeed(hub, live.Table[*logs.LogEntry]{
			Read: func(ctx context.Context, r live.Read) (live.Page[*logs.LogEntry], error) {
				modify, err := live.Pairs(policyOf("logs", "LogEntry"), logentry.FieldID, r)
				if err != nil {
					return live.Page[*logs.LogEntry]{}, err
				}
				rows, err := lc.LogEntry.Query().Modify(modify).All(ctx)
				if err != nil {
					return live.Page[*logs.LogEntry]{}, apierror.Database("logs", err)
				}
				return pageOf(rows, (*logs.LogEntry).Value)
			},
			Match: func(ctx context.Context, ids []uuid.UUID, where any) (map[uuid.UUID]bool, error) {
				q, err := where.(*logs.LogEntryWhereInput).Filter(lc.LogEntry.Query().Where(logentry.IDIn(ids...)))
				if err != nil {
					return nil, err
				}
				got, err := q.IDs(ctx)
				return idSet(got), apierror.Database("logs", err)
			},
			ID:     func(e *logs.LogEntry) uuid.UUID { return e.ID },
			Listen: listen("logs", logentry.Table),
			Batch: func(rows []*logs.LogEntry) any {
				refs := make([]*uuid.UUID, len(rows))
				for i, r := range rows {
					refs[i] = r.UserID
				}
				return newLiveBatch(set, "logs", "LogEntry", "user", refs)
			},
		}),
		events: live.NewFeed(hub, live.Table[*analytics.Event]{
			Read: func(ctx context.Context, r live.Read) (live.Page[*analytics.Event], error) {
				modify, err := live.Pairs(policyOf("analytics", "Event"), event.FieldID, r)
				if err != nil {
					return live.Page[*analytics.Event]{}, err
				}
				rows, err := ac.Event.Query().Modify(modify).All(ctx)
				if err != nil {
					return live.Page[*analytics.Event]{}, apierror.Database("analytics", err)
				}
				return pageOf(rows, (*analytics.Event).Value)
			},
			Match: func(ctx context.Context, ids []uuid.UUID, where any) (map[uuid.UUID]bool, error) {
				q, err := where.(*analytics.EventWhereInput).Filter(ac.Event.Query().Where(event.IDIn(ids...)))
				if err != nil {
					return nil, err
				}
				got, err := q.IDs(ctx)
				return idSet(got), apierror.Database("analytics", err)
			},
			ID:     func(e *analytics.Event) uuid.UUID { return e.ID },
			Listen: listen("analytics", event.Table),
			Batch: func(rows []*analytics.Event) any {
				refs := make([]*uuid.UUID, len(rows))
				for i, r := range rows {
					refs[i] = &r.UserID
				}
				return newLiveBatch(set, "analytics", "Event", "user", refs)
			},
		}),
	}
}

// policyOf is the declared policy of a type (the registry's), which the shared statement
// of its feed applies in SQL.
func policyOf(db, typ string) xdb.PolicyAnnotation {
	if spec, ok := database.Lookup(db); ok {
		if t, ok := spec.Type(typ); ok {
			return t.Policy
		}
	}
	return xdb.PolicyAnnotation{} // no kind: live.Pairs refuses it, so nothing streams
}

// pageOf reads the rows of the statement of live.Pairs.
func pageOf[T any](rows []T, value func(T, string) (ent.Value, error)) (live.Page[T], error) {
	page := live.Page[T]{Rows: make([]live.Row[T], len(rows))}
	for i, n := range rows {
		row, scanned, err := live.ReadRow(n, func(col string) (any, error) { return value(n, col) })
		if err != nil {
			return page, err
		}
		page.Rows[i], page.Scanned = row, scanned
	}
	return page, nil
}

func idSet(ids []uuid.UUID) map[uuid.UUID]bool {
	m := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// whereKey identifies a filter: subscribers with equal keys share its statement.
func whereKey(where any) (string, error) {
	b, err := json.Marshal(where)
	return string(b), err
}

// subscribe checks the viewer and the caps and subscribes to f, turning its deliveries into
// the payload type with to.
func subscribe[T, P any](ctx context.Context, f *live.Feed[T], where any, hasWhere bool, after *entgql.Cursor[uuid.UUID], to func(live.Delivery[T]) *P) (<-chan *P, error) {
	v, _ := auth.FromContext(ctx)
	if v.Anonymous() {
		return nil, apierror.Unauthenticatedf("subscriptions need a session: send its token in connection_init's Authorization, or the request's for SSE")
	}
	key := ""
	if hasWhere {
		var err error
		if key, err = whereKey(where); err != nil {
			return nil, apierror.BadInput("where: %v", err)
		}
	} else {
		where = nil
	}
	if !connectionSlot(ctx) {
		return nil, &apierror.Error{Code: apierror.TooManyRequests, Message: "too many subscriptions on this connection"}
	}
	var from *uuid.UUID
	if after != nil {
		from = &after.ID
	}
	st, err := f.Subscribe(v, from, where, key)
	if err != nil {
		releaseConnectionSlot(ctx)
		if errors.Is(err, live.ErrTooMany) {
			return nil, &apierror.Error{Code: apierror.TooManyRequests, Message: "too many subscriptions of this user"}
		}
		return nil, &apierror.Error{Code: apierror.DatabaseUnavailable, Message: "the server is shutting down", Cause: err}
	}
	// gqlgen ends the subscription's context when the stream ends, whichever side ends it.
	context.AfterFunc(ctx, func() { releaseConnectionSlot(ctx) })
	return live.Pipe(ctx, st, func(d *live.Delivery[T]) *P { return to(*d) }), nil
}

// streamError is what a stream's error becomes in the payload.
func streamError(err error) error {
	if errors.Is(err, live.ErrSlowConsumer) {
		return &apierror.Error{Code: apierror.SlowConsumer, Message: "the subscription fell behind and ended: subscribe again with the last cursor received"}
	}
	return err
}

func (r *Resolver) subscribeLogEntries(ctx context.Context, where *logs.LogEntryWhereInput, after *entgql.Cursor[uuid.UUID]) (<-chan *model.LogEntryStreamEdge, error) {
	return subscribe(ctx, r.live.logs, where, where != nil, after, func(d live.Delivery[*logs.LogEntry]) *model.LogEntryStreamEdge {
		if d.Err != nil {
			return &model.LogEntryStreamEdge{Err: streamError(d.Err)}
		}
		return &model.LogEntryStreamEdge{Node: d.Node, Cursor: entgql.Cursor[uuid.UUID]{ID: d.Cursor}, Batch: d.Batch}
	})
}

func (r *Resolver) subscribeEvents(ctx context.Context, where *analytics.EventWhereInput, after *entgql.Cursor[uuid.UUID]) (<-chan *model.EventStreamEdge, error) {
	return subscribe(ctx, r.live.events, where, where != nil, after, func(d live.Delivery[*analytics.Event]) *model.EventStreamEdge {
		if d.Err != nil {
			return &model.EventStreamEdge{Err: streamError(d.Err)}
		}
		return &model.EventStreamEdge{Node: d.Node, Cursor: entgql.Cursor[uuid.UUID]{ID: d.Cursor}, Batch: d.Batch}
	})
}
