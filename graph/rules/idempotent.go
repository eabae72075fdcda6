package rules

import (
	"context"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/analytics"
	"github.com/multidb/multidb/ent/analytics/predicate"
	"github.com/multidb/multidb/ent/logs"
	"github.com/multidb/multidb/ent/logs/logentry"
	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/database"
)

// Client-chosen ids make trackEvent, trackEvents and createLogEntry safe to retry: a client
// that lost the answer (a cut connection, DATABASE_UNAVAILABLE after the commit) sends the same
// call with the same ids, and gets the stored rows back instead of a second copy. Each call is
// one INSERT, stored whole or not at all, so a retry finds all of its ids or none.

// CheckIDs checks the client's ids of a batch of n rows: one per row, none nil, no two alike.
func CheckIDs(ids []uuid.UUID, n int) error {
	if len(ids) != n {
		return apierror.BadInput("ids: %d given for %d inputs; give one id per input, in order", len(ids), n)
	}
	seen := make(map[uuid.UUID]bool, len(ids))
	for i, id := range ids {
		if id == uuid.Nil {
			return apierror.BadInput("ids[%d]: the nil UUID is no id; use a new UUID (v7) per row", i)
		}
		if seen[id] {
			return apierror.BadInput("ids[%d]: %s appears twice", i, id)
		}
		seen[id] = true
	}
	return nil
}

// TrackEvents stores the events of inputs with the client's ids, or, when a call with those
// ids was stored before, returns the stored events in the order of ids. ids is nil for events
// with ids of the server's choosing.
func TrackEvents(ctx context.Context, c *analytics.Client, inputs []*analytics.CreateEventInput, ids []uuid.UUID) ([]*analytics.Event, error) {
	create := func() ([]*analytics.Event, error) {
		builders := make([]*analytics.EventCreate, len(inputs))
		for i, in := range inputs {
			builders[i] = c.Event.Create().SetInput(*in)
			if ids != nil {
				builders[i].SetID(ids[i])
			}
		}
		// ent's bulk create, its defaults, validators and the access rules' hook, with one
		// statement for the batch (insertRows).
		return c.Event.CreateBulk(builders...).SaveWith(ctx, insertRows)
	}
	if ids == nil {
		evs, err := create()
		return evs, apierror.Database("analytics", err)
	}
	if err := CheckIDs(ids, len(inputs)); err != nil {
		return nil, err
	}
	stored := func(ctx context.Context) ([]*analytics.Event, error) {
		evs, err := c.Event.Query().Where(predicate.Event(idIn(ids))).All(ctx)
		if err != nil {
			return nil, apierror.Database("analytics", err)
		}
		return replayed(evs, ids, func(e *analytics.Event) uuid.UUID { return e.ID }, func(i int, e *analytics.Event) bool {
			return e.UserID == inputs[i].UserID && e.Name == inputs[i].Name
		})
	}
	// The create goes first: a first call, the usual one, costs its insert alone, and the
	// access rules' hook has checked every owner before the stored rows are read. An
	// anonymous caller may read nothing, so its rows are read past the rules, and returned
	// only where their owner is the input's (the anonymous user, as the hook made sure).
	evs, err := create()
	if database.UniqueViolation(err) {
		// Stored before (a retry), or meanwhile by a retry that overtook this one, or the id
		// is someone else's.
		readCtx := ctx
		if v, _ := auth.FromContext(ctx); v.Anonymous() {
			readCtx = auth.SystemContext(ctx)
		}
		if evs, serr := stored(readCtx); serr != nil || evs != nil {
			return evs, serr
		}
		return nil, apierror.BadInput("ids: already used by other events; use new ids")
	}
	return evs, apierror.Database("analytics", err)
}

// CreateLogEntry stores one log entry with the client's id (nil: the server's), or returns the
// entry stored before with that id.
func CreateLogEntry(ctx context.Context, c *logs.Client, input logs.CreateLogEntryInput, id *uuid.UUID) (*logs.LogEntry, error) {
	create := func() (*logs.LogEntry, error) {
		b := c.LogEntry.Create().SetInput(input)
		if id != nil {
			b.SetID(*id)
		}
		return b.Save(ctx)
	}
	if id == nil {
		le, err := create()
		return le, apierror.Database("logs", err)
	}
	ids := []uuid.UUID{*id}
	if err := CheckIDs(ids, 1); err != nil {
		return nil, err
	}
	stored := func() (*logs.LogEntry, error) {
		les, err := c.LogEntry.Query().Where(logentry.IDIn(ids...)).All(ctx)
		if err != nil {
			return nil, apierror.Database("logs", err)
		}
		les, err = replayed(les, ids, func(e *logs.LogEntry) uuid.UUID { return e.ID }, func(_ int, e *logs.LogEntry) bool {
			return e.Message == input.Message && (input.Level == nil || e.Level == *input.Level) && equalIDs(e.UserID, input.UserID)
		})
		if err != nil || les == nil {
			return nil, err
		}
		return les[0], nil
	}
	// The create goes first, as in TrackEvents.
	le, err := create()
	if database.UniqueViolation(err) {
		if le, serr := stored(); serr != nil || le != nil {
			return le, serr
		}
		return nil, apierror.BadInput("id: already used by another log entry; use a new id")
	}
	return le, apierror.Database("logs", err)
}

// replayed puts the rows found for ids in the order of ids: nil when none was found (a first
// call), an error when only some were (no retry of a call stored whole) or when a row differs
// from the input given for its id (an id used twice for different rows).
func replayed[T any](found []T, ids []uuid.UUID, idOf func(T) uuid.UUID, same func(int, T) bool) ([]T, error) {
	if len(found) == 0 {
		return nil, nil
	}
	if len(found) != len(ids) {
		return nil, apierror.BadInput("ids: %d of the %d are stored already; a retry must repeat its call whole, with the same ids", len(found), len(ids))
	}
	at := make(map[uuid.UUID]int, len(ids))
	for i, id := range ids {
		at[id] = i
	}
	out := make([]T, len(ids))
	for _, row := range found {
		i, ok := at[idOf(row)]
		if !ok || !same(i, row) {
			return nil, apierror.BadInput("ids[%d]: %s is stored with other values; a retry must send the same input, a new row a new id", i, idOf(row))
		}
		out[i] = row
	}
	return out, nil
}

func equalIDs(a, b *uuid.UUID) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// idIn is the predicate "id is one of ids", for any type (every key column is id): on
// PostgreSQL with one array parameter (id = ANY($1)) rather than ent's IN list of one
// parameter per id, up to MaxBatch of them. The parameter is the array's text, written at
// once (uuidArray), as pq.StringArray would send it from a string per id.
func idIn(ids []uuid.UUID) func(*sql.Selector) {
	return func(s *sql.Selector) {
		if s.Dialect() != dialect.Postgres {
			vs := make([]any, len(ids))
			for i, id := range ids {
				vs[i] = id
			}
			s.Where(sql.In(s.C("id"), vs...))
			return
		}
		s.Where(sql.P(func(b *sql.Builder) {
			b.Ident(s.C("id")).WriteString(" = ANY(").Arg(uuidArray(ids)).WriteString("::uuid[])")
		}))
	}
}

// uuidArray is the text of ids as a PostgreSQL array literal: {id,id,...}. UUIDs need no
// quotes in it.
func uuidArray(ids []uuid.UUID) string {
	buf := make([]byte, 0, 2+len(ids)*37)
	buf = append(buf, '{')
	for i, id := range ids {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendUUID(buf, id)
	}
	return string(append(buf, '}'))
}
