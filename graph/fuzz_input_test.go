package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multidb/multidb/graph/account"
	"github.com/multidb/multidb/internal/testdb"
)

// fuzzEnv is the environment of a fuzz target: PostgreSQL when it answers (it refuses more
// text than SQLite: NUL, bad encodings), SQLite otherwise.
func fuzzEnv(f *testing.F) *env {
	d := testdb.Dialects(f)
	e := newEnv(f, d[len(d)-1])
	seed(f, e, smallFixture)
	return e
}

// noInternal fails t when a response holds an error that is not the caller's fault.
func noInternal(t *testing.T, what string, r response) {
	t.Helper()
	for _, err := range r.Errors {
		if c := err.code(); c == "INTERNAL" || c == "" || c == "DATABASE_UNAVAILABLE" {
			t.Fatalf("%s: got %s %q", what, c, err.Message)
		}
	}
}

// FuzzMutationInputs sends arbitrary text through the inputs of every mutation a signed-in
// USER may call: names, emails, event names and properties (keys and values), log messages.
// Whatever it holds, the answer is data or a client error, never INTERNAL.
func FuzzMutationInputs(f *testing.F) {
	e := fuzzEnv(f)
	token, _, err := account.Issue(context.Background(), e.set.Users, userID(3), time.Now().Add(24*time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	user := e.as(token)
	for _, s := range []string{"", "x", "\x00", "a\x00b", "\xff\xfe", "\xed\xa0\x80", "' OR 1=1 --", "\\u0000", "é"} {
		f.Add(s, s)
	}
	const doc = `mutation($id: ID!, $u: UpdateUserInput!, $ev: CreateEventInput!, $m: String!, $f: Map) {
		updateUser(id: $id, input: $u) { id }
		trackEvent(input: $ev) { id }
		createLogEntry(input: {message: $m, fields: $f}) { id }
	}`
	f.Fuzz(func(t *testing.T, s, k string) {
		vars := map[string]any{
			"id": userID(3),
			"u":  map[string]any{"name": s},
			"ev": map[string]any{"userID": userID(3), "name": s, "properties": map[string]any{k: s, "list": []any{s, map[string]any{k: 1}}}},
			"m":  s,
			"f":  map[string]any{k: s},
		}
		noInternal(t, "mutation inputs", user.do(t, doc, vars))
		noInternal(t, "email", user.do(t, updateUser, map[string]any{"id": userID(3), "input": map[string]any{"email": s + "@example.com"}}))
	})
}

// FuzzCursors sends cursors of every shape a client could make (the cursor's value of any
// kind, under every order) to the top-level and stitched connections: never INTERNAL.
func FuzzCursors(f *testing.F) {
	e := fuzzEnv(f)
	for i, v := range []string{"", "x", "\x00", "2026-01-01T00:00:00Z"} {
		f.Add(uint8(i), v, int64(i))
	}
	const doc = `query($c: Cursor, $eo: EventOrder, $uo: UserOrder) {
		users(first: 2, after: $c, orderBy: $uo) { edges { node { events(first: 1, before: $c, orderBy: $eo) { totalCount } } } }
		events(last: 2, before: $c, orderBy: $eo) { totalCount }
		logEntries(first: 2, after: $c) { totalCount }
	}`
	orders := []map[string]any{nil, {"field": "NAME"}, {"field": "OCCURRED_AT", "direction": "DESC"}, {"field": "USER_ID"}}
	userOrders := []map[string]any{nil, {"field": "EMAIL"}, {"field": "CREATED_AT"}}
	f.Fuzz(func(t *testing.T, kind uint8, s string, n int64) {
		var value any
		switch kind % 9 {
		case 1:
			value = s
		case 2:
			value = n
		case 3:
			value = float64(n) / 3
		case 4:
			value = time.Unix(n%1e10, 0)
		case 5:
			value = map[string]any{s: n}
		case 6:
			value = []any{s, n}
		case 7:
			value = []byte(s)
		case 8:
			value = n%2 == 0
		}
		vars := map[string]any{
			"c":  cursorOf(uuid.NewSHA1(uuid.Nil, []byte(s)), value),
			"eo": orders[int(kind/9)%len(orders)],
			"uo": userOrders[int(kind/9)%len(userOrders)],
		}
		noInternal(t, "cursor", e.do(t, doc, vars))
	})
}
