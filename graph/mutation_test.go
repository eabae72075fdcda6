package graph_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/analytics/event"
	"github.com/multidb/multidb/ent/logs/logentry"
	"github.com/multidb/multidb/ent/users/user"
	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/graph/rules"
)

const (
	createUser = `mutation($input: CreateUserInput!) { createUser(input: $input) { id email name role } }`
	updateUser = `mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id email name role } }`
	deleteUser = `mutation($id: ID!) { deleteUser(id: $id) { deletedID removed { database count } } }`
	trackEvent = `mutation($input: CreateEventInput!) { trackEvent(input: $input) { id userID name properties } }`
	trackMany  = `mutation($inputs: [CreateEventInput!]!) { trackEvents(inputs: $inputs) { id userID name } }`
	createLog  = `mutation($input: CreateLogEntryInput!) { createLogEntry(input: $input) { id level message fields userID requestID } }`
)

// mutationFixture: users 0-2 are deleted by testDeleteUser; the others take new events.
var mutationFixture = fixture{users: 6, events: func(int) int { return 5 }, logs: func(int) int { return 4 }}

// TestMutations runs the mutation tests on one set of databases per dialect; each test
// works on rows of its own.
func TestMutations(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, mutationFixture)
		t.Run("users", func(t *testing.T) { testUserMutations(t, e) })
		t.Run("events", func(t *testing.T) { testEventMutations(t, e) })
		t.Run("logs", func(t *testing.T) { testLogMutations(t, e) })
		t.Run("deleteUser", func(t *testing.T) { testDeleteUser(t, e) })
	})
}

func testUserMutations(t *testing.T, e *env) {
	before, err := e.set.Users.User.Query().Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ CreateUser userNode }
	e.query(t, createUser, map[string]any{"input": map[string]any{"email": " Ada@Example.COM ", "name": "Ada"}}, &created)
	u := created.CreateUser
	if u.Email != "ada@example.com" || u.Name != "Ada" || u.Role != "USER" {
		t.Errorf("createUser: got %+v", u)
	}
	if id, err := uuid.Parse(u.ID); err != nil || id.Version() != 7 {
		t.Errorf("createUser: id %q is not a UUID v7", u.ID)
	}
	var second struct{ CreateUser userNode }
	e.query(t, createUser, map[string]any{"input": map[string]any{"email": "grace@example.com", "name": "Grace", "role": "ADMIN"}}, &second)

	var updated struct{ UpdateUser userNode }
	e.query(t, updateUser, map[string]any{"id": u.ID, "input": map[string]any{"name": "Ada Lovelace", "role": "ADMIN"}}, &updated)
	if updated.UpdateUser.Name != "Ada Lovelace" || updated.UpdateUser.Role != "ADMIN" || updated.UpdateUser.Email != u.Email {
		t.Errorf("updateUser: got %+v", updated.UpdateUser)
	}

	long := strings.Repeat("x", 101)
	cases := []struct {
		name, doc string
		vars      map[string]any
		code      string
		message   string
	}{
		{"email in use", createUser, map[string]any{"input": map[string]any{"email": "ADA@example.com", "name": "Other"}}, "BAD_USER_INPUT", "email already in use"},
		{"email in use by update", updateUser, map[string]any{"id": second.CreateUser.ID, "input": map[string]any{"email": "ada@example.com"}}, "BAD_USER_INPUT", "email already in use"},
		{"email format", createUser, map[string]any{"input": map[string]any{"email": "ada@", "name": "Ada"}}, "BAD_USER_INPUT", "invalid email"},
		{"email without domain dot", createUser, map[string]any{"input": map[string]any{"email": "ada@localhost", "name": "Ada"}}, "BAD_USER_INPUT", "invalid email"},
		{"empty name", createUser, map[string]any{"input": map[string]any{"email": "n@example.com", "name": ""}}, "BAD_USER_INPUT", "invalid name"},
		{"long name", updateUser, map[string]any{"id": u.ID, "input": map[string]any{"name": long}}, "BAD_USER_INPUT", "invalid name"},
		{"unknown role", createUser, map[string]any{"input": map[string]any{"email": "r@example.com", "name": "R", "role": "ROOT"}}, "BAD_USER_INPUT", "ROOT"},
		{"unknown user", updateUser, map[string]any{"id": uuid.Must(uuid.NewV7()), "input": map[string]any{"name": "X"}}, "NOT_FOUND", "user not found"},
		{"invalid id", updateUser, map[string]any{"id": "1", "input": map[string]any{"name": "X"}}, "BAD_USER_INPUT", "invalid UUID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.wantError(t, tc.doc, tc.vars, tc.code, "")
			if !strings.Contains(r.Errors[0].Message, tc.message) {
				t.Errorf("got message %q, want it to mention %q", r.Errors[0].Message, tc.message)
			}
		})
	}
	n, err := e.set.Users.User.Query().Count(context.Background())
	if err != nil || n != before+2 {
		t.Errorf("got %d users (%v), want %d: a refused mutation writes nothing", n, err, before+2)
	}
}

func testEventMutations(t *testing.T, e *env) {
	ctx := context.Background()

	t.Run("trackEvent", func(t *testing.T) {
		var data struct {
			TrackEvent struct {
				ID, UserID, Name string
				Properties       map[string]any
			}
		}
		e.count.reset()
		e.query(t, trackEvent, map[string]any{"input": map[string]any{"userID": userID(4), "name": "checkout.done", "properties": map[string]any{"total": 42}}}, &data)
		ev := data.TrackEvent
		if ev.UserID != userID(4).String() || ev.Name != "checkout.done" || ev.Properties["total"] != 42.0 {
			t.Errorf("got %+v", ev)
		}
		assertCounts(t, e, map[string]int{"users": 1, "analytics": 1, "logs": 0})
	})

	t.Run("trackEvents in one statement", func(t *testing.T) {
		inputs := make([]map[string]any, rules.MaxBatch)
		for i := range inputs {
			inputs[i] = map[string]any{"userID": userID(3 + i%3), "name": "bulk", "properties": map[string]any{"i": i}}
		}
		e.count.reset()
		var data struct {
			TrackEvents []struct{ ID, UserID, Name string }
		}
		e.query(t, trackMany, map[string]any{"inputs": inputs}, &data)
		if len(data.TrackEvents) != rules.MaxBatch {
			t.Fatalf("got %d events, want %d", len(data.TrackEvents), rules.MaxBatch)
		}
		for i, ev := range data.TrackEvents {
			if ev.UserID != userID(3+i%3).String() {
				t.Fatalf("event %d: user %s, want %s (order of inputs)", i, ev.UserID, userID(3+i%3))
			}
		}
		// One lookup of the three distinct users, one INSERT.
		assertCounts(t, e, map[string]int{"users": 1, "analytics": 1})
		n, _ := e.set.Analytics.Event.Query().Where(event.Name("bulk")).Count(ctx)
		if n != rules.MaxBatch {
			t.Errorf("stored %d events, want %d", n, rules.MaxBatch)
		}
	})

	t.Run("trackEvents with nothing", func(t *testing.T) {
		var data struct{ TrackEvents []any }
		e.query(t, trackMany, map[string]any{"inputs": []any{}}, &data)
		if data.TrackEvents == nil || len(data.TrackEvents) != 0 {
			t.Errorf("got %v, want []", data.TrackEvents)
		}
	})

	big := map[string]any{"blob": strings.Repeat("a", rules.MaxJSONBytes)}
	tooMany := make([]map[string]any, rules.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = map[string]any{"userID": userID(3), "name": "x"}
	}
	ghost := uuid.Must(uuid.NewV7())
	cases := []struct {
		name, doc string
		vars      map[string]any
		message   string
	}{
		{"unknown user", trackEvent, map[string]any{"input": map[string]any{"userID": ghost, "name": "signup"}}, ghost.String() + " does not exist"},
		{"unknown user in a batch", trackMany, map[string]any{"inputs": []any{
			map[string]any{"userID": userID(3), "name": "ok"}, map[string]any{"userID": ghost, "name": "ok"},
		}}, ghost.String() + " does not exist"},
		{"name pattern", trackEvent, map[string]any{"input": map[string]any{"userID": userID(3), "name": "9 lives"}}, "invalid name"},
		{"name pattern in a batch", trackMany, map[string]any{"inputs": []any{map[string]any{"userID": userID(3), "name": "ok"}, map[string]any{"userID": userID(3), "name": "bad name"}}}, "invalid name"},
		{"properties too large", trackEvent, map[string]any{"input": map[string]any{"userID": userID(3), "name": "big", "properties": big}}, "properties"},
		{"batch too large", trackMany, map[string]any{"inputs": tooMany}, "at most 1000"},
		{"userID not a UUID", trackEvent, map[string]any{"input": map[string]any{"userID": "u1", "name": "x"}}, "invalid UUID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := e.set.Analytics.Event.Query().Count(ctx)
			r := e.wantError(t, tc.doc, tc.vars, "BAD_USER_INPUT", "")
			if !strings.Contains(r.Errors[0].Message, tc.message) {
				t.Errorf("got message %q, want it to mention %q", r.Errors[0].Message, tc.message)
			}
			if after, _ := e.set.Analytics.Event.Query().Count(ctx); after != before {
				t.Errorf("events went from %d to %d: a refused batch must write nothing", before, after)
			}
		})
	}
}

func testLogMutations(t *testing.T, e *env) {
	var data struct {
		CreateLogEntry struct {
			Level, Message, RequestID string
			UserID                    *string
			Fields                    map[string]any
		}
	}
	e.query(t, createLog, map[string]any{"input": map[string]any{"message": "hello", "userID": userID(3), "requestID": "r1", "fields": map[string]any{"ip": "127.0.0.1"}}}, &data)
	le := data.CreateLogEntry
	if le.Level != "INFO" || le.Message != "hello" || le.UserID == nil || *le.UserID != userID(3).String() || le.Fields["ip"] != "127.0.0.1" {
		t.Errorf("got %+v", le)
	}
	e.query(t, createLog, map[string]any{"input": map[string]any{"message": "anonymous", "level": "ERROR"}}, &data)
	if data.CreateLogEntry.UserID != nil || data.CreateLogEntry.Level != "ERROR" {
		t.Errorf("got %+v", data.CreateLogEntry)
	}

	cases := []struct {
		name, doc string
		vars      map[string]any
		code      string
		message   string
	}{
		{"level in a variable", createLog, map[string]any{"input": map[string]any{"message": "m", "level": "FATAL"}}, "BAD_USER_INPUT", "FATAL"},
		{"level in the document", `mutation { createLogEntry(input: {message: "m", level: FATAL}) { id } }`, nil, "GRAPHQL_VALIDATION_FAILED", "FATAL"},
		{"empty message", createLog, map[string]any{"input": map[string]any{"message": ""}}, "BAD_USER_INPUT", "invalid message"},
		{"long request id", createLog, map[string]any{"input": map[string]any{"message": "m", "requestID": strings.Repeat("r", 129)}}, "BAD_USER_INPUT", "invalid request_id"},
		{"fields too large", createLog, map[string]any{"input": map[string]any{"message": "m", "fields": map[string]any{"blob": strings.Repeat("a", rules.MaxJSONBytes)}}}, "BAD_USER_INPUT", "fields"},
		{"missing message", createLog, map[string]any{"input": map[string]any{}}, "BAD_USER_INPUT", "message"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.wantError(t, tc.doc, tc.vars, tc.code, "")
			if !strings.Contains(r.Errors[0].Message, tc.message) {
				t.Errorf("got message %q, want it to mention %q", r.Errors[0].Message, tc.message)
			}
		})
	}
}

type deletePayload struct {
	DeleteUser *struct {
		DeletedID string
		Removed   []struct {
			Database string
			Count    int
		}
	}
}

func (p deletePayload) removed() map[string]int {
	out := map[string]int{}
	for _, r := range p.DeleteUser.Removed {
		out[r.Database] = r.Count
	}
	return out
}

// wantRemoved fails unless deleteUser removed the counts of want. A database want does not
// name, such as one a team added with rows that refer to users, must report none removed:
// the fixtures write nothing there.
func wantRemoved(t *testing.T, what string, p deletePayload, want map[string]int) {
	t.Helper()
	got := p.removed()
	for db, n := range want {
		if c, ok := got[db]; !ok || c != n {
			t.Errorf("%s %v, want %v", what, got, want)
			return
		}
	}
	for db, n := range got {
		if _, named := want[db]; !named && n != 0 {
			t.Errorf("%s %v: %d rows of %s, want none", what, got, n, db)
		}
	}
}

func testDeleteUser(t *testing.T, e *env) {
	ctx := context.Background()
	rows := func(i int) (u, ev, lg int) {
		u, _ = e.set.Users.User.Query().Where(user.ID(userID(i))).Count(ctx)
		ev, _ = e.set.Analytics.Event.Query().Where(event.UserID(userID(i))).Count(ctx)
		lg, _ = e.set.Logs.LogEntry.Query().Where(logentry.UserID(userID(i))).Count(ctx)
		return
	}

	t.Run("cascade", func(t *testing.T) {
		var p deletePayload
		e.query(t, deleteUser, map[string]any{"id": userID(0)}, &p)
		if p.DeleteUser.DeletedID != userID(0).String() {
			t.Errorf("deletedID %s", p.DeleteUser.DeletedID)
		}
		wantRemoved(t, "removed", p, map[string]int{"users": 1, "analytics": 5, "logs": 4})
		if u, ev, lg := rows(0); u+ev+lg != 0 {
			t.Errorf("left %d users, %d events, %d logs", u, ev, lg)
		}
		if u, ev, lg := rows(1); u != 1 || ev != 5 || lg != 4 {
			t.Errorf("another user lost rows: %d users, %d events, %d logs", u, ev, lg)
		}
		e.wantError(t, deleteUser, map[string]any{"id": userID(0)}, "NOT_FOUND", "deleteUser")
	})

	t.Run("a database fails, then the retry finishes", func(t *testing.T) {
		e.count.breakDB("logs", "error")
		r := e.wantError(t, deleteUser, map[string]any{"id": userID(1)}, "INTERNAL", "deleteUser")
		e.count.heal()
		msg := r.Errors[0].Message
		for _, want := range []string{"not deleted", "log entries", "logs database", "run deleteUser again"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q does not say %q", msg, want)
			}
		}
		if strings.Contains(msg, "secret_table") {
			t.Errorf("message leaks the driver's error: %q", msg)
		}
		if u, ev, lg := rows(1); u != 1 || ev != 0 || lg != 4 {
			t.Errorf("after the failure: %d users, %d events, %d logs; want 1, 0, 4", u, ev, lg)
		}
		var p deletePayload
		e.query(t, deleteUser, map[string]any{"id": userID(1)}, &p)
		wantRemoved(t, "retry removed", p, map[string]int{"users": 1, "analytics": 0, "logs": 4})
		if u, ev, lg := rows(1); u+ev+lg != 0 {
			t.Errorf("after the retry: %d users, %d events, %d logs", u, ev, lg)
		}
	})

	t.Run("leftovers of a user already gone", func(t *testing.T) {
		if _, err := e.set.Users.User.Delete().Where(user.ID(userID(2))).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		var p deletePayload
		e.query(t, deleteUser, map[string]any{"id": userID(2)}, &p)
		wantRemoved(t, "removed", p, map[string]int{"users": 0, "analytics": 5, "logs": 4})
	})
}

func testTransportsAndFailures(t *testing.T, e *env) {

	t.Run("GET refuses mutations", func(t *testing.T) {
		q := url.Values{"query": {`mutation { createLogEntry(input: {message: "via GET"}) { id } }`}}
		res, err := http.Get(e.srv.URL + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		r := decode(t, res)
		if len(r.Errors) == 0 || res.StatusCode == http.StatusOK && r.Data != nil && string(r.Data) != "null" {
			t.Errorf("GET mutation: status %d, data %s, errors %+v", res.StatusCode, r.Data, r.Errors)
		}
		n, _ := e.set.Logs.LogEntry.Query().Where(logentry.Message("via GET")).Count(context.Background())
		if n != 0 {
			t.Error("GET wrote a log entry")
		}
	})

	t.Run("introspection", func(t *testing.T) {
		const doc = `{ __schema { queryType { name } } }`
		if r := e.do(t, doc, nil); string(r.Data) != `{"__schema":{"queryType":{"name":"Query"}}}` {
			t.Errorf("introspection on: got %s %+v", r.Data, r.Errors)
		}
		off := httptest.NewServer(graph.NewHandler(e.set, graph.WithIntrospection(false)))
		defer off.Close()
		r := (&env{srv: off}).do(t, doc, nil)
		if len(r.Errors) == 0 || r.Errors[0].code() != "FORBIDDEN" {
			t.Errorf("introspection off: got %s %+v", r.Data, r.Errors)
		}
	})

	t.Run("automatic persisted queries", func(t *testing.T) {
		const doc = `{ users(first: 1) { totalCount } }`
		sum := sha256.Sum256([]byte(doc))
		ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
		post := func(body map[string]any) response {
			b, _ := json.Marshal(body)
			res, err := http.Post(e.srv.URL, "application/json", bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			return decode(t, res)
		}
		if r := post(map[string]any{"extensions": ext}); len(r.Errors) == 0 || r.Errors[0].code() != "PERSISTED_QUERY_NOT_FOUND" {
			t.Errorf("unknown hash: got %+v", r.Errors)
		}
		if r := post(map[string]any{"query": doc, "extensions": ext}); len(r.Errors) > 0 {
			t.Errorf("register: got %+v", r.Errors)
		}
		if r := post(map[string]any{"extensions": ext}); len(r.Errors) > 0 || !strings.Contains(string(r.Data), "totalCount") {
			t.Errorf("by hash: got %s %+v", r.Data, r.Errors)
		}
	})

	t.Run("a failing database is named, its error is not shown", func(t *testing.T) {
		e.count.breakDB("analytics", "error")
		defer e.count.heal()
		r := e.do(t, `{ users(first: 1) { totalCount } events(first: 1) { totalCount } }`, nil)
		if len(r.Errors) != 1 {
			t.Fatalf("got errors %+v, want one", r.Errors)
		}
		got := r.Errors[0]
		if got.code() != "INTERNAL" || got.Message != "the analytics database failed" || got.path() != "events" {
			t.Errorf("got %+v", got)
		}
		if strings.Contains(string(r.Data)+got.Message, "secret_table") {
			t.Error("the driver's message reached the client")
		}
		if !strings.Contains(e.logs.String(), "secret_table") {
			t.Error("the driver's message was not logged")
		}
	})

	t.Run("an unreachable database is named, the rest is answered", func(t *testing.T) {
		e.count.breakDB("logs", "down")
		defer e.count.heal()
		r := e.do(t, `{ users(first: 1) { totalCount } logEntries(first: 1) { totalCount } }`, nil)
		if len(r.Errors) != 1 {
			t.Fatalf("got errors %+v, want one", r.Errors)
		}
		got := r.Errors[0]
		if got.code() != "DATABASE_UNAVAILABLE" || got.Message != "the logs database is unavailable" || got.Extensions["database"] != "logs" {
			t.Errorf("got %+v", got)
		}
		if want := fmt.Sprintf(`"users":{"totalCount":%d}`, smallFixture.users); !strings.Contains(string(r.Data), want) {
			t.Errorf("got data %s, want it to hold %s", r.Data, want)
		}
	})

	t.Run("a panic becomes INTERNAL", func(t *testing.T) {
		e.count.breakDB("logs", "panic")
		defer e.count.heal()
		r := e.do(t, `{ logEntries(first: 1) { totalCount } }`, nil)
		if len(r.Errors) != 1 || r.Errors[0].code() != "INTERNAL" || r.Errors[0].Message != "internal error" {
			t.Errorf("got %+v", r.Errors)
		}
		if !strings.Contains(e.logs.String(), "graphql: panic") {
			t.Error("the panic was not logged")
		}
	})
}
