package graph_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/google/uuid"
)

// cursorOf encodes a cursor as the server does, with any value: clients can send any.
func cursorOf(id uuid.UUID, value any) string {
	var b bytes.Buffer
	entgql.Cursor[uuid.UUID]{ID: id, Value: value}.MarshalGQL(&b)
	return strings.Trim(b.String(), `"`)
}

// TestBadInputNeverReachesADatabase sends NUL, invalid UTF-8 and hand-made cursors in every
// kind of argument: each is BAD_USER_INPUT, with no statement sent for it, where PostgreSQL
// answered NUL with an error the API gave as INTERNAL.
func TestBadInputNeverReachesADatabase(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, mutationFixture)
		user := e.as(e.session(t, userID(3), time.Now().Add(time.Hour)))
		cases := []struct {
			name, doc string
			vars      map[string]any
		}{
			{"filter", `query($s: String!) { users(where: {nameContains: $s}) { totalCount } }`, map[string]any{"s": "a\x00b"}},
			{"filter list", `query($s: String!) { events(where: {nameIn: ["ok", $s]}) { totalCount } }`, map[string]any{"s": "\x00"}},
			{"stitched filter", `query($s: String!) { users(first: 1) { edges { node { events(where: {name: $s}) { totalCount } } } } }`, map[string]any{"s": "\x00"}},
			{"literal", `{ logEntries(where: {messageContains: "a\u0000b"}) { totalCount } }`, nil},
			{"mutation input", updateUser, map[string]any{"id": userID(3), "input": map[string]any{"name": "Ada\x00"}}},
			{"event properties", trackEvent, map[string]any{"input": map[string]any{"userID": userID(3), "name": "e", "properties": map[string]any{"nested": []any{map[string]any{"k": "v\x00"}}}}}},
			{"property key", trackEvent, map[string]any{"input": map[string]any{"userID": userID(3), "name": "e", "properties": map[string]any{"k\x00": 1}}}},
			{"log entry", `mutation($m: String!) { createLogEntry(input: {message: $m}) { id } }`, map[string]any{"m": "\x00"}},
			{"cursor map", `query($c: Cursor) { users(after: $c) { totalCount } }`, map[string]any{"c": cursorOf(userID(1), map[string]any{"a": 1})}},
			{"cursor array", `query($c: Cursor) { events(after: $c, orderBy: {field: NAME}) { totalCount } }`, map[string]any{"c": cursorOf(userID(1), []any{1, 2})}},
			{"cursor string for a time", `query($c: Cursor) { events(after: $c, orderBy: {field: OCCURRED_AT}) { totalCount } }`, map[string]any{"c": cursorOf(userID(1), "yesterday")}},
			{"cursor value without order", `query($c: Cursor) { logEntries(after: $c) { totalCount } }`, map[string]any{"c": cursorOf(userID(1), "x")}},
			{"cursor NUL", `query($c: Cursor) { users(after: $c, orderBy: {field: NAME}) { totalCount } }`, map[string]any{"c": cursorOf(userID(1), "a\x00")}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := user.do(t, c.doc, c.vars)
				if len(r.Errors) == 0 {
					t.Fatalf("no error; data %s", r.Data)
				}
				for _, err := range r.Errors {
					if err.code() != "BAD_USER_INPUT" {
						t.Errorf("got %s %q, want BAD_USER_INPUT", err.code(), err.Message)
					}
				}
			})
		}
		t.Run("invalid UTF-8 by GET", func(t *testing.T) {
			q := url.Values{"query": {"{ users(where: {nameContains: \"a\xff\"}) { totalCount } }"}}
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"?"+q.Encode(), nil)
			req.Header.Set("Authorization", "Bearer "+user.token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			r := decode(t, res)
			if len(r.Errors) == 0 {
				t.Fatalf("no error; data %s", r.Data)
			}
			for _, err := range r.Errors {
				if c := err.code(); c == "INTERNAL" || c == "" {
					t.Errorf("got %s %q", c, err.Message)
				}
			}
		})
		t.Run("cursors the server issued still work", func(t *testing.T) {
			for _, order := range []string{"", `, orderBy: {field: OCCURRED_AT, direction: DESC}`, `, orderBy: {field: NAME}`, `, orderBy: {field: USER_ID}`} {
				var page struct {
					Events struct{ PageInfo struct{ EndCursor string } }
				}
				e.query(t, fmt.Sprintf(`{ events(first: 2%s) { edges { cursor } pageInfo { endCursor } } }`, order), nil, &page)
				if page.Events.PageInfo.EndCursor == "" {
					t.Fatalf("%s: no end cursor: %+v", order, e.do(t, fmt.Sprintf(`{ events(first: 2%s) { totalCount pageInfo { endCursor } } users { totalCount } }`, order), nil))
				}
				var next struct{ Events struct{ TotalCount int } }
				e.query(t, fmt.Sprintf(`query($c: Cursor) { events(first: 2, after: $c%s) { totalCount } }`, order), map[string]any{"c": page.Events.PageInfo.EndCursor}, &next)
			}
		})
	})
}
