package graph_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/multidb/multidb/ent/logs/logentry"
	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/graph/limit"
	"github.com/multidb/multidb/internal/auth"
)

// TestLimits sends the documents and requests of an abusive client: each is refused before
// it reaches a database, or cut short.
func TestLimits(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, smallFixture)
		t.Run("operations", func(t *testing.T) { testOperationLimits(t, e) })
		t.Run("default page", func(t *testing.T) { testDefaultPage(t, e) })
		t.Run("request body", func(t *testing.T) { testBodyLimit(t, e) })
		t.Run("timeout cancels the statements", func(t *testing.T) { testTimeout(t, e) })
		t.Run("only JSON posts change data", func(t *testing.T) { testContentTypes(t, e) })
		t.Run("log-in rate limits", func(t *testing.T) { testRateLimits(t, e) })
		t.Run("log-in timing", func(t *testing.T) { testLogInTiming(t, e) })
	})
}

// nested returns users { edges { node { events { edges { node { user { events ... } } } } } } }
// with the users → events → user cycle repeated n times.
func nested(n int) string {
	var b strings.Builder
	b.WriteString("{ users(first: 1) { edges { node { ")
	for range n {
		b.WriteString("events(first: 1) { edges { node { user { ")
	}
	b.WriteString("id")
	for range n {
		b.WriteString(" } } } }")
	}
	b.WriteString(" } } } }")
	return b.String()
}

func aliases(n int) string {
	var b strings.Builder
	b.WriteString("{ ")
	for i := range n {
		fmt.Fprintf(&b, "a%d: users(first: 1) { totalCount } ", i)
	}
	b.WriteString("}")
	return b.String()
}

// fragmentBomb spreads each fragment twice into the one before: 2^n fields, in a short document.
func fragmentBomb(n int) string {
	var b strings.Builder
	b.WriteString("{ ...F0 }\n")
	for i := range n {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { me { id } }\n", n)
	return b.String()
}

func testOperationLimits(t *testing.T, e *env) {
	long := strings.Repeat("A", limit.Defaults.CursorLength+1)
	cases := []struct {
		name, doc string
		vars      map[string]any
		code      string
		message   string
	}{
		{"deeply nested", nested(10), nil, "GRAPHQL_VALIDATION_FAILED", "at most 12"},
		{"alias flood", aliases(limit.Defaults.Aliases + 1), nil, "GRAPHQL_VALIDATION_FAILED", "aliases"},
		{"fragments spread into an exponential document", fragmentBomb(40), nil, "GRAPHQL_VALIDATION_FAILED", "fields"},
		// Validating that 5,000 copies of a field merge takes seconds: refused before.
		{"one field 5,000 times", "{ " + strings.Repeat("users { totalCount } ", 5000) + "}", nil, "GRAPHQL_VALIDATION_FAILED", "fields"},
		{"a document of too many tokens", "{ " + strings.Repeat("__typename ", 40_000) + "}", nil, "GRAPHQL_PARSE_FAILED", "token limit"},
		{"first: 1000000", `{ users(first: 1000000) { totalCount } }`, nil, "BAD_USER_INPUT", "first: at most 1000"},
		{"last in a variable", `query($n: Int) { events(last: $n) { totalCount } }`, map[string]any{"n": 5000}, "BAD_USER_INPUT", "last: at most 1000"},
		{"first of a stitched field", `{ users(first: 1) { edges { node { events(first: 1001) { totalCount } } } } }`, nil, "BAD_USER_INPUT", "first: at most 1000"},
		{"long cursor", `query($c: Cursor) { users(first: 1, after: $c) { totalCount } }`, map[string]any{"c": long}, "BAD_USER_INPUT", "cursor"},
		{"long cursor of a stitched field", `{ users(first: 1) { edges { node { logs(before: "` + long + `") { totalCount } } } } }`, nil, "BAD_USER_INPUT", "cursor"},
		{"complexity: pages times pages", `{ users(first: 1000) { edges { node { events(first: 1000) { edges { node { id } } } } } } }`, nil, "COMPLEXITY_LIMIT_EXCEEDED", "complexity"},
		{"complexity: nodes times pages", `query($ids: [ID!]!) { nodes(ids: $ids) { ... on User { events(first: 1000) { edges { node { id name } } } } } }`,
			map[string]any{"ids": repeatID(50)}, "COMPLEXITY_LIMIT_EXCEEDED", "complexity"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.count.reset()
			start := time.Now()
			r := e.wantError(t, tc.doc, tc.vars, tc.code, "")
			if !strings.Contains(r.Errors[0].Message, tc.message) {
				t.Errorf("got %q, want it to mention %q", r.Errors[0].Message, tc.message)
			}
			if string(r.Data) != "" && string(r.Data) != "null" {
				t.Errorf("got data %s: the operation ran", r.Data)
			}
			assertCounts(t, e, map[string]int{"users": 0, "analytics": 0, "logs": 0})
			if d := time.Since(start); d > time.Second {
				t.Errorf("refusing it took %v", d)
			}
		})
	}
	t.Run("within the limits", func(t *testing.T) {
		e.query(t, nested(2), nil, nil)
		e.query(t, aliases(limit.Defaults.Aliases), nil, nil)
		e.query(t, `{ users(first: 1000) { totalCount } }`, nil, nil)
		e.query(t, readFile(t, "stitched_cost.graphql"), map[string]any{"first": 100}, nil)
		var schema struct {
			Schema struct{ Types []any } `json:"__schema"`
		}
		e.query(t, readFile(t, "introspection.graphql"), nil, &schema)
		if len(schema.Schema.Types) == 0 {
			t.Error("introspection returned no types")
		}
	})
}

func repeatID(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = userID(i % smallFixture.users).String()
	}
	return ids
}

func testDefaultPage(t *testing.T, e *env) {
	small := e.with(t, graph.WithViewer(testAdmin), graph.WithLimits(limit.Limits{DefaultPage: 2}))
	var data struct {
		Users struct {
			TotalCount int
			PageInfo   pageInfo
			Edges      []struct {
				Node struct {
					Events struct {
						TotalCount int
						PageInfo   pageInfo
						Edges      []any
					}
				}
			}
		}
	}
	small.query(t, `{ users { totalCount pageInfo { hasNextPage } edges { node { events { totalCount pageInfo { hasNextPage } edges { cursor } } } } } }`, nil, &data)
	u := data.Users
	if u.TotalCount != smallFixture.users || len(u.Edges) != 2 || !u.PageInfo.HasNextPage {
		t.Errorf("users without first: %d of %d, hasNextPage %v; want a page of 2", len(u.Edges), u.TotalCount, u.PageInfo.HasNextPage)
	}
	for i, edge := range u.Edges {
		ev := edge.Node.Events
		if len(ev.Edges) != 2 || ev.TotalCount != smallFixture.events(i) || !ev.PageInfo.HasNextPage {
			t.Errorf("user %d's events without first: %d of %d; want a page of 2", i, len(ev.Edges), ev.TotalCount)
		}
	}
	// before alone pages backwards from it.
	var first struct {
		Users struct{ Edges []struct{ Cursor string } }
	}
	small.query(t, `{ users(last: 1) { edges { cursor } } }`, nil, &first)
	var back struct {
		Users struct {
			Edges []struct{ Node struct{ Email string } }
		}
	}
	small.query(t, `query($c: Cursor) { users(before: $c) { edges { node { email } } } }`, map[string]any{"c": first.Users.Edges[0].Cursor}, &back)
	if got := len(back.Users.Edges); got != 2 || back.Users.Edges[1].Node.Email != userEmail(smallFixture.users-2) {
		t.Errorf("before alone: got %+v, want the 2 users before the last", back.Users.Edges)
	}
}

func testBodyLimit(t *testing.T, e *env) {
	small := e.with(t, graph.WithViewer(testAdmin), graph.WithMaxBodyBytes(64<<10))
	huge := `{"query": "{ users { totalCount } }", "variables": {"x": "` + strings.Repeat("x", 100<<10) + `"}}`
	post := func(body io.Reader, length int64) response {
		req, _ := http.NewRequest(http.MethodPost, small.srv.URL, body)
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = length
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		return decode(t, res)
	}
	for name, r := range map[string]response{
		"with Content-Length": post(strings.NewReader(huge), int64(len(huge))),
		// -1: chunked, no length announced; the limit is met while reading.
		"chunked": post(io.MultiReader(strings.NewReader(huge)), -1),
	} {
		if r.status != http.StatusRequestEntityTooLarge || len(r.Errors) != 1 || r.Errors[0].code() != "BAD_USER_INPUT" {
			t.Errorf("%s: got status %d, errors %+v; want 413 BAD_USER_INPUT", name, r.status, r.Errors)
		}
	}
	if r := small.do(t, `{ users(first: 1) { totalCount } }`, nil); len(r.Errors) > 0 {
		t.Errorf("a small body: %+v", r.Errors)
	}
	// Under the limit, with its length announced or not, the body is read whole.
	near := `{"query": "{ users(first: 1) { totalCount } }", "variables": {"x": "` + strings.Repeat("x", 64<<10-100) + `"}}`
	for name, r := range map[string]response{
		"near the limit, with Content-Length": post(strings.NewReader(near), int64(len(near))),
		"near the limit, chunked":             post(io.MultiReader(strings.NewReader(near)), -1),
	} {
		if r.status != http.StatusOK || len(r.Errors) > 0 || !strings.Contains(string(r.Data), "totalCount") {
			t.Errorf("%s: got status %d, errors %+v, data %s; want the answer", name, r.status, r.Errors, r.Data)
		}
	}
}

func testTimeout(t *testing.T, e *env) {
	const limit = 300 * time.Millisecond
	short := e.with(t, graph.WithViewer(testAdmin), graph.WithRequestTimeout(limit))
	e.count.breakDB("analytics", "endless")
	defer e.count.heal()
	start := time.Now()
	r := short.do(t, `{ users(first: 1) { totalCount } events(first: 1) { totalCount } }`, nil)
	took := time.Since(start)
	if took > limit+2*time.Second {
		t.Errorf("the request took %v with a limit of %v: its statement was not cancelled", took, limit)
	}
	if len(r.Errors) != 1 || r.Errors[0].code() != "TIMEOUT" || r.Errors[0].path() != "events" {
		t.Errorf("got errors %+v, want one TIMEOUT on events", r.Errors)
	}
	if want := fmt.Sprintf(`"users":{"totalCount":%d}`, smallFixture.users); !strings.Contains(string(r.Data), want) {
		t.Errorf("got data %s, want the users that came in time", r.Data)
	}
}

func testContentTypes(t *testing.T, e *env) {
	const doc = `mutation { createLogEntry(input: {message: "cross-site"}) { id } }`
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
		var body io.Reader = strings.NewReader(`{"query": ` + quote(doc) + `}`)
		if strings.HasPrefix(ct, "application/x-www-form") {
			body = strings.NewReader(url.Values{"query": {doc}}.Encode())
		}
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL, body)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode < 400 {
			t.Errorf("Content-Type %q: status %d %s, want it refused", ct, res.StatusCode, raw)
		}
	}
	if n, _ := e.set.Logs.LogEntry.Query().Where(logentry.Message("cross-site")).Count(context.Background()); n != 0 {
		t.Error("a post that is not JSON wrote a log entry")
	}
}

func testRateLimits(t *testing.T, e *env) {
	limited := e.with(t, graph.WithLoginLimits(auth.NewLimiter(3, time.Hour), auth.NewLimiter(8, time.Hour)))
	logIn := func(email string) gqlError {
		r := limited.do(t, logInDoc, map[string]any{"email": email, "password": "not the password"})
		if len(r.Errors) != 1 {
			t.Fatalf("logIn %s: got %+v", email, r.Errors)
		}
		return r.Errors[0]
	}
	// An account that exists and one that does not are limited alike, with the same words.
	var refusals []string
	for _, email := range []string{userEmail(1), "nobody@example.com"} {
		for i := range 3 {
			if err := logIn(email); err.code() != "UNAUTHENTICATED" {
				t.Errorf("%s, attempt %d: got %s %q", email, i+1, err.code(), err.Message)
			}
		}
		err := logIn(email)
		if err.code() != "TOO_MANY_REQUESTS" {
			t.Errorf("%s, attempt 4: got %s %q, want TOO_MANY_REQUESTS", email, err.code(), err.Message)
		}
		refusals = append(refusals, err.Message)
	}
	if refusals[0] != refusals[1] {
		t.Errorf("the refusals differ: %q and %q", refusals[0], refusals[1])
	}
	// The address is over its limit of 8 after 8 attempts with any emails: signUp too.
	if err := logIn("someone.else@example.com"); err.code() != "TOO_MANY_REQUESTS" {
		t.Errorf("attempt 9 from one address: got %s %q", err.code(), err.Message)
	}
	r := limited.do(t, signUpDoc, map[string]any{"email": "late@example.com", "password": "long enough password", "name": "Late"})
	if len(r.Errors) != 1 || r.Errors[0].code() != "TOO_MANY_REQUESTS" {
		t.Errorf("signUp over the address's limit: %+v", r.Errors)
	}
}

func testLogInTiming(t *testing.T, e *env) {
	h := e.with(t, graph.WithLoginLimits(nil, nil))
	h.signUp(t, "timing@example.com", "the right password", "Timing")
	measure := func(email string) time.Duration {
		start := time.Now()
		h.wantError(t, logInDoc, map[string]any{"email": email, "password": "a wrong password"}, "UNAUTHENTICATED", "")
		return time.Since(start)
	}
	// The fastest of several tries is what a log-in costs; slower ones measure a machine
	// busy with the other tests.
	known, unknown := time.Duration(1<<62), time.Duration(1<<62)
	for range 7 {
		known = min(known, measure("timing@example.com"))
		unknown = min(unknown, measure("nobody.at.all@example.com"))
	}
	// A log-in that skipped the hash for an unknown email would be tens of times faster; a
	// factor of 3 either way is what a loaded machine's noise leaves of "the same".
	if ratio := float64(unknown) / float64(known); ratio < 1.0/3 || ratio > 3 {
		t.Errorf("a wrong password took %v, an unknown email %v (ratio %.2f): want about the same", known, unknown, ratio)
	}
}
