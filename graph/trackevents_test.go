package graph_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/analytics"
	"github.com/multidb/multidb/ent/analytics/event"
	"github.com/multidb/multidb/graph/rules"
	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/schema/mixin"
)

const trackWithIDs = `mutation($inputs: [CreateEventInput!]!, $ids: [ID!]) {
  trackEvents(inputs: $inputs, ids: $ids) { id userID name properties occurredAt }
}`

// storedEvent is an events row as the database holds it, every column read as text, so that
// two rows compare equal only when the engine stores the same values.
type storedEvent struct {
	ID, UserID, Name, OccurredAt string
	Properties                   sql.NullString
}

func readEvent(t *testing.T, e *env, id uuid.UUID) storedEvent {
	t.Helper()
	var r storedEvent
	err := e.set.Get("analytics").SQL.QueryRowContext(context.Background(),
		`SELECT CAST(id AS TEXT), CAST(user_id AS TEXT), name, CAST(properties AS TEXT), CAST(occurred_at AS TEXT) FROM events WHERE id = $1`,
		id).Scan(&r.ID, &r.UserID, &r.Name, &r.Properties, &r.OccurredAt)
	if err != nil {
		t.Fatalf("read event %s: %v", id, err)
	}
	return r
}

// trackInputs are events whose values test the statement that stores a batch: JSON that
// needs quoting, JSON null, nested values, no properties at all, times with nanoseconds, in
// another zone (when zoned), long ago, and none (the default).
func trackInputs(zoned bool) []map[string]any {
	tricky := map[string]any{
		"quote": `say "hi"`, "backslash": `a\b\\c`, "braces": "{a,b}", "comma": "x, y", "NULL": "NULL",
		"null": nil, "unicode": "héllo ✓ 日本", "empty": "", "spaces": "  a  ", "newline": "a\nb\tc",
		"big": 12345678901234, "neg": -0.25, "nested": map[string]any{"list": []any{1, "two", nil, map[string]any{"x": 1.5}}, "ok": true},
	}
	at := "2026-01-02T03:04:05.123456789Z"
	if zoned {
		at = "2026-01-02T03:04:05.123456789+05:30"
	}
	return []map[string]any{
		{"userID": userID(1), "name": "plain"},
		{"userID": userID(2), "name": "props.empty", "properties": map[string]any{}},
		{"userID": userID(1), "name": "props.tricky", "properties": tricky},
		{"userID": userID(3), "name": "time:ns", "occurredAt": at},
		{"userID": userID(2), "name": "time.old", "occurredAt": "1999-12-31T23:59:59.999999Z", "properties": map[string]any{"k": "v"}},
		{"userID": userID(3), "name": "time.default", "properties": map[string]any{"quote": `"`}},
	}
}

// TestTrackEventsStorage: what trackEvents stores with its one statement per batch is what
// ent's bulk create stores, column for column; retries, mismatches and refused batches behave
// as before. Through the HTTP handler, on every dialect.
func TestTrackEventsStorage(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		seed(t, e, fixture{users: 4, events: func(int) int { return 1 }, logs: func(int) int { return 0 }})
		// Times in another zone are stored in UTC on every engine.
		const zoned = true
		inputs := trackInputs(zoned)
		ids := make([]string, len(inputs))
		for i := range ids {
			ids[i] = uuid.Must(uuid.NewV7()).String()
		}
		vars := map[string]any{"inputs": inputs, "ids": ids}
		type tracked struct {
			ID, UserID, Name, OccurredAt string
			Properties                   map[string]any
		}
		var first struct{ TrackEvents []tracked }
		before := time.Now()
		e.count.reset()
		e.query(t, trackWithIDs, vars, &first)
		after := time.Now()
		// The lookup of the users and the batch's one statement: a first call reads no ids.
		assertCounts(t, e, map[string]int{"users": 1, "analytics": 1, "logs": 0})
		if len(first.TrackEvents) != len(inputs) {
			t.Fatalf("got %d events, want %d", len(first.TrackEvents), len(inputs))
		}

		t.Run("same rows as ent's bulk create", func(t *testing.T) {
			// The same inputs through ent's CreateBulk and its one multi-row INSERT.
			var in []*analytics.CreateEventInput
			raw, _ := json.Marshal(inputs)
			var decoded []struct {
				UserID     uuid.UUID      `json:"userID"`
				Name       string         `json:"name"`
				Properties map[string]any `json:"properties"`
				OccurredAt *time.Time     `json:"occurredAt"`
			}
			if err := json.Unmarshal(raw, &decoded); err != nil {
				t.Fatal(err)
			}
			builders := make([]*analytics.EventCreate, len(decoded))
			for i, d := range decoded {
				if d.OccurredAt != nil {
					// The server stores a time as mixin.StoredTime has it.
					*d.OccurredAt = mixin.StoredTime(*d.OccurredAt)
				}
				in = append(in, &analytics.CreateEventInput{UserID: d.UserID, Name: d.Name, Properties: d.Properties, OccurredAt: d.OccurredAt})
				builders[i] = e.set.Analytics.Event.Create().SetInput(*in[i])
			}
			viaEnt, err := e.set.Analytics.Event.CreateBulk(builders...).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i, got := range first.TrackEvents {
				if got.ID != ids[i] {
					t.Errorf("event %d: id %s, want the client's %s", i, got.ID, ids[i])
				}
				ours, theirs := readEvent(t, e, uuid.MustParse(got.ID)), readEvent(t, e, viaEnt[i].ID)
				if ours.ID != ids[i] {
					t.Errorf("event %d: stored id %s, want %s", i, ours.ID, ids[i])
				}
				ours.ID, theirs.ID = "", ""
				if _, given := inputs[i]["occurredAt"]; !given {
					// Each call takes its own default time: check ours against the call.
					at, err := time.Parse(time.RFC3339Nano, got.OccurredAt)
					if err != nil || at.Before(before.Add(-time.Millisecond)) || at.After(after.Add(time.Millisecond)) {
						t.Errorf("event %d: default occurredAt %s (%v), want within the call", i, got.OccurredAt, err)
					}
					ours.OccurredAt, theirs.OccurredAt = "", ""
				}
				if ours != theirs {
					t.Errorf("event %d (%s) stored\n  %+v\nwant what ent's bulk create stores\n  %+v", i, inputs[i]["name"], ours, theirs)
				}
				if got.UserID != viaEnt[i].UserID.String() || got.Name != viaEnt[i].Name {
					t.Errorf("event %d: answered %+v, want %+v", i, got, viaEnt[i])
				}
				gotProps, _ := json.Marshal(got.Properties)
				wantProps, _ := json.Marshal(viaEnt[i].Properties)
				if string(gotProps) != string(wantProps) {
					t.Errorf("event %d: answered properties %s, want %s", i, gotProps, wantProps)
				}
			}
		})

		t.Run("the answer is what a read returns", func(t *testing.T) {
			// Times in another zone or with nanoseconds come back as stored: in UTC, rounded
			// to microseconds, the same in the first answer and in every later read.
			var read struct {
				Events struct{ Edges []struct{ Node tracked } }
			}
			e.query(t, `query($ids: [ID!]) { events(first: 10, where: {idIn: $ids}) { edges { node { id userID name occurredAt } } } }`, map[string]any{"ids": ids}, &read)
			byID := map[string]string{}
			for _, edge := range read.Events.Edges {
				byID[edge.Node.ID] = edge.Node.OccurredAt
			}
			for i, got := range first.TrackEvents {
				if byID[got.ID] != got.OccurredAt {
					t.Errorf("event %d: answered occurredAt %s, read back %q", i, got.OccurredAt, byID[got.ID])
				}
				if !strings.HasSuffix(got.OccurredAt, "Z") {
					t.Errorf("event %d: occurredAt %s is not in UTC", i, got.OccurredAt)
				}
			}
			if got, want := first.TrackEvents[3].OccurredAt, "2026-01-01T21:34:05.123457Z"; got != want {
				t.Errorf("event 3, sent as 2026-01-02T03:04:05.123456789+05:30: occurredAt %s, want %s", got, want)
			}
		})

		t.Run("a retry returns the stored events", func(t *testing.T) {
			n, _ := e.set.Analytics.Event.Query().Count(ctx)
			var again struct{ TrackEvents []tracked }
			e.count.reset()
			e.query(t, trackWithIDs, vars, &again)
			// The insert that finds its ids taken, then their lookup.
			assertCounts(t, e, map[string]int{"analytics": 2})
			for i, ev := range again.TrackEvents {
				if ev.ID != ids[i] || ev.Name != first.TrackEvents[i].Name {
					t.Errorf("retry: event %d is %+v, want %s %s", i, ev, ids[i], first.TrackEvents[i].Name)
				}
			}
			if m, _ := e.set.Analytics.Event.Query().Count(ctx); m != n {
				t.Errorf("events went from %d to %d on a retry", n, m)
			}
		})

		t.Run("a mismatch is refused", func(t *testing.T) {
			changed := trackInputs(zoned)
			changed[2]["name"] = "props.other"
			n, _ := e.set.Analytics.Event.Query().Count(ctx)
			r := e.wantError(t, trackWithIDs, map[string]any{"inputs": changed, "ids": ids}, "BAD_USER_INPUT", "trackEvents")
			if !strings.Contains(r.Errors[0].Message, ids[2]) {
				t.Errorf("got %q, want it to name %s", r.Errors[0].Message, ids[2])
			}
			if m, _ := e.set.Analytics.Event.Query().Count(ctx); m != n {
				t.Errorf("events went from %d to %d", n, m)
			}
		})

		t.Run("an invalid input in a full batch stores nothing", func(t *testing.T) {
			batch := make([]map[string]any, rules.MaxBatch)
			for i := range batch {
				batch[i] = map[string]any{"userID": userID(1 + i%3), "name": "whole", "properties": map[string]any{"i": i}}
			}
			batch[rules.MaxBatch/2]["name"] = "not a name"
			n, _ := e.set.Analytics.Event.Query().Count(ctx)
			e.count.reset()
			r := e.wantError(t, trackMany, map[string]any{"inputs": batch}, "BAD_USER_INPUT", "trackEvents")
			if !strings.Contains(r.Errors[0].Message, "invalid name") {
				t.Errorf("got %q, want it to say invalid name", r.Errors[0].Message)
			}
			assertCounts(t, e, map[string]int{"analytics": 0})
			if m, _ := e.set.Analytics.Event.Query().Where(event.Name("whole")).Count(ctx); m != 0 {
				t.Errorf("stored %d events of a refused batch", m)
			}
			if m, _ := e.set.Analytics.Event.Query().Count(ctx); m != n {
				t.Errorf("events went from %d to %d", n, m)
			}
		})
	})
}

// TestTrackEventsInputErrorPaths: a value of an input field that its scalar refuses is
// reported on the path of that field, within the element of the list that holds it, and
// nothing is stored.
func TestTrackEventsInputErrorPaths(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, fixture{users: 2, events: func(int) int { return 0 }, logs: func(int) int { return 0 }})
		for _, c := range []struct{ field, value, path string }{
			{"userID", "not-a-uuid", "trackEvents.inputs.1.userID"},
			{"occurredAt", "yesterday", "trackEvents.inputs.1.occurredAt"},
		} {
			inputs := []map[string]any{{"userID": userID(1), "name": "ok"}, {"userID": userID(1), "name": "bad"}}
			inputs[1][c.field] = c.value
			r := e.do(t, trackWithIDs, map[string]any{"inputs": inputs})
			if len(r.Errors) != 1 {
				t.Fatalf("%s: got errors %+v, want one", c.field, r.Errors)
			}
			if got := r.Errors[0].path(); got != c.path {
				t.Errorf("%s: got path %q, want %q", c.field, got, c.path)
			}
		}
		if n, _ := e.set.Analytics.Event.Query().Count(context.Background()); n != 0 {
			t.Errorf("%d events stored from refused calls", n)
		}
	})
}

// TestNestedInputErrorPath: in input objects within input objects, the refused value is
// reported on its whole path.
func TestNestedInputErrorPath(t *testing.T) {
	e := newEnv(t, config.SQLite)
	seed(t, e, fixture{users: 1, events: func(int) int { return 0 }, logs: func(int) int { return 0 }})
	e.wantError(t, `query($w: EventWhereInput) { events(first: 1, where: $w) { totalCount } }`,
		map[string]any{"w": map[string]any{"not": map[string]any{"and": []any{map[string]any{"name": "a"}, map[string]any{"userIDIn": []any{userID(1), "bad"}}}}}},
		"BAD_USER_INPUT", "events.where.not.and.1.userIDIn.1")
}
