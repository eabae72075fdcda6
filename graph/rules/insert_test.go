package rules

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql/sqlgraph"
	"entgo.io/ent/schema/field"
	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/multidb/multidb/ent/analytics"
	"github.com/multidb/multidb/ent/analytics/event"
	"github.com/multidb/multidb/graph/access"
	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/testdb"
)

// TestTrackEventsKeepsTheAccessRules: the batch statement runs behind the access rules' hook,
// as ent's bulk create did. A USER's events are theirs only, an anonymous caller's are
// AnonymousUser's only, even when the users' lookup of the graph is not in the way.
func TestTrackEventsKeepsTheAccessRules(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			ctx := context.Background()
			set := testdb.OpenMigrated(t, d)
			me, other := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
			asMe := auth.NewContext(ctx, auth.Viewer{UserID: me, Role: auth.RoleUser})
			anonymous := auth.NewContext(ctx, auth.Viewer{})
			ruled := access.Clients(set, access.Options{AnonymousTracking: true}).Analytics
			count := func() int {
				t.Helper()
				n, err := set.Analytics.Event.Query().Count(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			batch := func(owners ...uuid.UUID) []*analytics.CreateEventInput {
				in := make([]*analytics.CreateEventInput, len(owners))
				for i, o := range owners {
					in[i] = &analytics.CreateEventInput{UserID: o, Name: "rule", Properties: map[string]any{"i": i}}
				}
				return in
			}
			cases := []struct {
				name   string
				ctx    context.Context
				inputs []*analytics.CreateEventInput
				code   string // "" when stored
				// withIDs also sends client ids. An anonymous caller's are refused before the
				// batch: their lookup reads events, which anonymous callers may not.
				withIDs bool
			}{
				{"a USER's own", asMe, batch(me, me, me), "", true},
				{"a USER's batch with another's event last", asMe, batch(me, me, other), apierror.Forbidden, true},
				{"a USER's batch with another's event first", asMe, batch(other, me), apierror.Forbidden, true},
				{"anonymous, as the anonymous user", anonymous, batch(access.AnonymousUser, access.AnonymousUser), "", false},
				{"anonymous, as a user", anonymous, batch(access.AnonymousUser, me), apierror.Unauthenticated, false},
				{"no viewer", ctx, batch(me), apierror.Internal, true},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					modes := []bool{false}
					if tc.withIDs {
						modes = append(modes, true)
					}
					for _, withIDs := range modes {
						var ids []uuid.UUID
						if withIDs {
							for range tc.inputs {
								ids = append(ids, uuid.Must(uuid.NewV7()))
							}
						}
						before := count()
						evs, err := TrackEvents(tc.ctx, ruled, tc.inputs, ids)
						if tc.code != "" {
							if code := apierror.CodeOf(err); code != tc.code {
								t.Errorf("ids %v: got %v (%q), want %s", withIDs, err, code, tc.code)
							}
							if after := count(); after != before {
								t.Errorf("ids %v: events went from %d to %d: a refused batch must store nothing", withIDs, before, after)
							}
							continue
						}
						if err != nil || len(evs) != len(tc.inputs) {
							t.Fatalf("ids %v: got %d events, %v; want %d", withIDs, len(evs), err, len(tc.inputs))
						}
						if after := count(); after != before+len(tc.inputs) {
							t.Errorf("ids %v: events went from %d to %d, want +%d", withIDs, before, after, len(tc.inputs))
						}
					}
				})
			}
		})
	}
}

// TestInsertRowsAllOrNothing: the batch is one statement; a row the database refuses (an id
// taken) stores none of the others, and the error is ent's constraint error, as the retry
// logic of TrackEvents expects.
func TestInsertRowsAllOrNothing(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			ctx := context.Background()
			set := testdb.OpenMigrated(t, d)
			c := set.Analytics
			user := uuid.Must(uuid.NewV7())
			taken, err := c.Event.Create().SetUserID(user).SetName("taken").Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			builders := make([]*analytics.EventCreate, MaxBatch)
			for i := range builders {
				builders[i] = c.Event.Create().SetUserID(user).SetName("batch").SetProperties(map[string]any{"i": i})
			}
			builders[MaxBatch/2].SetID(taken.ID)
			_, err = c.Event.CreateBulk(builders...).SaveWith(ctx, insertRows)
			if !database.UniqueViolation(err) {
				t.Errorf("got %v, want a unique violation", err)
			}
			if n, _ := c.Event.Query().Where(event.Name("batch")).Count(ctx); n != 0 {
				t.Errorf("stored %d events of a refused batch, want 0", n)
			}
			// A full batch goes through.
			for i := range builders {
				builders[i] = c.Event.Create().SetUserID(user).SetName("batch")
			}
			evs, err := c.Event.CreateBulk(builders...).SaveWith(ctx, insertRows)
			if err != nil || len(evs) != MaxBatch {
				t.Fatalf("got %d events, %v; want %d", len(evs), err, MaxBatch)
			}
			if n, _ := c.Event.Query().Where(event.Name("batch")).Count(ctx); n != MaxBatch {
				t.Errorf("stored %d events, want %d", n, MaxBatch)
			}
		})
	}
}

// TestUnnestInsertValues: the arrays hold each value as lib/pq would send it as a parameter
// of ent's INSERT: a UUID's String, a time as pq.FormatTimestamp writes it (in any zone, BC
// included), JSON as json.Marshal writes it, quotes and backslashes escaped.
func TestUnnestInsertValues(t *testing.T) {
	ids := []uuid.UUID{uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewRandom())}
	oddZone := time.FixedZone("odd", 5*3600+30*60+7)
	times := []time.Time{
		time.Date(2026, 11, 29, 4, 5, 6, 123456789, time.UTC),
		time.Date(2026, 3, 29, 1, 59, 59, 0, time.FixedZone("IST", 5*3600+30*60)),
		time.Date(1900, 1, 1, 0, 0, 0, 0, oddZone),
		time.Date(-44, 3, 15, 12, 0, 0, 0, time.UTC),
	}
	props := []map[string]any{
		{"html": "<a href=\"x\">&</a>", "path": `C:\dir`, "n": 1.5, "nested": map[string]any{"b": true, "a": nil}},
		nil,
	}
	var specs []*sqlgraph.CreateSpec
	wantID, wantTime, wantJSON := []string{}, []string{}, []string{}
	for i := range 4 {
		id := ids[i%len(ids)]
		if i >= len(ids) {
			id = uuid.Must(uuid.NewV7())
		}
		p := props[i%len(props)]
		specs = append(specs, &sqlgraph.CreateSpec{
			Table: event.Table,
			ID:    &sqlgraph.FieldSpec{Column: event.FieldID, Type: field.TypeUUID, Value: id},
			Fields: []*sqlgraph.FieldSpec{
				{Column: event.FieldOccurredAt, Type: field.TypeTime, Value: times[i]},
				{Column: event.FieldProperties, Type: field.TypeJSON, Value: p},
			},
		})
		js, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		wantID = append(wantID, id.String())
		wantTime = append(wantTime, quoted(string(pq.FormatTimestamp(times[i]))))
		wantJSON = append(wantJSON, quoted(string(js)))
	}
	query, args, ok := unnestInsert(specs)
	if !ok {
		t.Fatal("unnestInsert refused the specs")
	}
	for i, want := range []string{
		"{" + strings.Join(wantID, ",") + "}",
		"{" + strings.Join(wantTime, ",") + "}",
		"{" + strings.Join(wantJSON, ",") + "}",
	} {
		if args[i] != want {
			t.Errorf("%s\narray %d:\n got %s\nwant %s", query, i, args[i], want)
		}
	}
}

// quoted is s as a quoted element of an array literal, escaped one character at a time.
func quoted(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// BenchmarkUnnestInsert1000 builds the statement of a batch of MaxBatch events, as
// trackEvents sends it: ids, users, names, properties and times.
func BenchmarkUnnestInsert1000(b *testing.B) {
	specs := make([]*sqlgraph.CreateSpec, MaxBatch)
	at := time.Now().UTC()
	for i := range specs {
		specs[i] = &sqlgraph.CreateSpec{
			Table: event.Table,
			ID:    &sqlgraph.FieldSpec{Column: event.FieldID, Type: field.TypeUUID, Value: uuid.Must(uuid.NewV7())},
			Fields: []*sqlgraph.FieldSpec{
				{Column: event.FieldUserID, Type: field.TypeUUID, Value: uuid.Must(uuid.NewV7())},
				{Column: event.FieldName, Type: field.TypeString, Value: "bench_track"},
				{Column: event.FieldProperties, Type: field.TypeJSON, Value: map[string]any{"batch": 1.0, "seq": float64(i)}},
				{Column: event.FieldOccurredAt, Type: field.TypeTime, Value: at},
			},
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := unnestInsert(specs); !ok {
			b.Fatal("unnestInsert refused the specs")
		}
	}
}

// TestUUIDArray: the array literal of idIn reads back as the ids' text, in order.
func TestUUIDArray(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		ids := make([]uuid.UUID, n)
		want := make([]string, n)
		for i := range ids {
			ids[i] = uuid.Must(uuid.NewV7())
			want[i] = ids[i].String()
		}
		var got pq.StringArray
		if err := got.Scan(uuidArray(ids)); err != nil {
			t.Fatalf("%d ids: %s: %v", n, uuidArray(ids), err)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") || len(got) != n {
			t.Errorf("%d ids: got %q, want %q", n, got, want)
		}
	}
}
