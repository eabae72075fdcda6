package graph_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/google/uuid"
)

type pageInfo struct {
	HasNextPage     bool    `json:"hasNextPage"`
	HasPreviousPage bool    `json:"hasPreviousPage"`
	StartCursor     *string `json:"startCursor"`
	EndCursor       *string `json:"endCursor"`
}

type userNode struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

type userConn struct {
	TotalCount int      `json:"totalCount"`
	PageInfo   pageInfo `json:"pageInfo"`
	Edges      []struct {
		Cursor string   `json:"cursor"`
		Node   userNode `json:"node"`
	} `json:"edges"`
}

// TestQueries runs the read-only tests on one set of databases per dialect, seeded once.
func TestQueries(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, smallFixture)
		t.Run("users pagination", func(t *testing.T) { testUsersPagination(t, e) })
		t.Run("filters", func(t *testing.T) { testListFilters(t, e) })
		t.Run("node", func(t *testing.T) { testNode(t, e) })
		t.Run("errors", func(t *testing.T) { testQueryErrors(t, e) })
		t.Run("transports and failures", func(t *testing.T) { testTransportsAndFailures(t, e) })
	})
}

// smallFixture is a few users with a handful of events and logs each.
var smallFixture = fixture{users: 7, events: func(i int) int { return 3 + i%3 }, logs: func(int) int { return 4 }}

func testUsersPagination(t *testing.T, e *env) {
	doc := readFile(t, "users_page.graphql")
	byEmail := map[string]any{"field": "EMAIL", "direction": "ASC"}
	var want []string
	for i := 0; i < smallFixture.users; i++ {
		want = append(want, userEmail(i))
	}

	t.Run("forward", func(t *testing.T) {
		var got []string
		vars := map[string]any{"first": 3, "orderBy": byEmail}
		for page := 0; ; page++ {
			var data struct{ Users userConn }
			e.query(t, doc, vars, &data)
			c := data.Users
			if c.TotalCount != smallFixture.users {
				t.Errorf("page %d: totalCount %d, want %d", page, c.TotalCount, smallFixture.users)
			}
			if c.PageInfo.HasPreviousPage != (page > 0) {
				t.Errorf("page %d: hasPreviousPage %v", page, c.PageInfo.HasPreviousPage)
			}
			for _, edge := range c.Edges {
				got = append(got, edge.Node.Email)
			}
			if !c.PageInfo.HasNextPage {
				break
			}
			if page > smallFixture.users {
				t.Fatal("pagination does not end")
			}
			vars["after"] = *c.PageInfo.EndCursor
		}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})

	t.Run("backward", func(t *testing.T) {
		var got []string
		vars := map[string]any{"last": 3, "orderBy": byEmail}
		for page := 0; ; page++ {
			var data struct{ Users userConn }
			e.query(t, doc, vars, &data)
			c := data.Users
			if c.PageInfo.HasNextPage != (page > 0) {
				t.Errorf("page %d: hasNextPage %v", page, c.PageInfo.HasNextPage)
			}
			var emails []string
			for _, edge := range c.Edges {
				emails = append(emails, edge.Node.Email)
			}
			got = append(emails, got...)
			if !c.PageInfo.HasPreviousPage {
				break
			}
			if page > smallFixture.users {
				t.Fatal("pagination does not end")
			}
			vars["before"] = *c.PageInfo.StartCursor
		}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})

	t.Run("order and filter", func(t *testing.T) {
		r := e.do(t, readFile(t, "users_first_page.graphql"), nil)
		if len(r.Errors) > 0 {
			t.Fatalf("errors: %+v", r.Errors)
		}
		matchJSON(t, r.Data, "users_first_page.json")
	})
}

func testListFilters(t *testing.T, e *env) {
	var signups, firstUserEvents int
	for i := 0; i < smallFixture.users; i++ {
		for j := 0; j < smallFixture.events(i); j++ {
			if eventName(j) == "signup" {
				signups++
			}
		}
	}
	firstUserEvents = smallFixture.events(0)
	cases := []struct {
		name string
		doc  string
		want int
	}{
		{"events by name", `{ events(where: {name: "signup"}) { totalCount } }`, signups},
		{"events of a user", fmt.Sprintf(`{ events(where: {userID: %q}) { totalCount } }`, userID(0)), firstUserEvents},
		{"events by name pattern", `{ events(where: {or: [{nameHasPrefix: "page."}, {nameContains: "cart"}], not: {name: "signup"}}) { totalCount } }`,
			countEvents(func(i, j int) bool { return eventName(j) != "signup" })},
		{"events by time", fmt.Sprintf(`{ events(where: {occurredAtGTE: %q}) { totalCount } }`, epoch.Add(6*60*60e9).Format("2006-01-02T15:04:05Z07:00")),
			smallFixture.events(6)},
		{"logs by level", `{ logEntries(where: {levelIn: [WARN, ERROR]}) { totalCount } }`, smallFixture.users * 2},
		{"logs with no user", `{ logEntries(where: {userIDIsNil: true}) { totalCount } }`, 1},
		{"users by role or email", `{ users(where: {or: [{role: ADMIN}, {emailHasPrefix: "user00"}]}) { totalCount } }`, smallFixture.users},
		{"users by name, case-insensitive", `{ users(where: {nameEqualFold: "user 003"}) { totalCount } }`, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var data map[string]struct{ TotalCount int }
			e.query(t, tc.doc, nil, &data)
			for _, c := range data {
				if c.TotalCount != tc.want {
					t.Errorf("got totalCount %d, want %d", c.TotalCount, tc.want)
				}
			}
		})
	}

	t.Run("events newest first", func(t *testing.T) {
		var data struct {
			Events struct {
				Edges []struct {
					Node struct{ ID, OccurredAt string }
				}
			}
		}
		e.query(t, fmt.Sprintf(`{ events(first: 2, where: {userID: %q}, orderBy: {field: OCCURRED_AT, direction: DESC}) { edges { node { id occurredAt } } } }`, userID(2)), nil, &data)
		// Fixture times run backwards with j: the newest events are j = 0 and 1.
		if got := len(data.Events.Edges); got != 2 {
			t.Fatalf("got %d edges, want 2", got)
		}
		for k, edge := range data.Events.Edges {
			if want := eventID(2, k).String(); edge.Node.ID != want {
				t.Errorf("edge %d: got %s, want %s", k, edge.Node.ID, want)
			}
		}
	})
}

func countEvents(match func(i, j int) bool) int {
	n := 0
	for i := 0; i < smallFixture.users; i++ {
		for j := 0; j < smallFixture.events(i); j++ {
			if match(i, j) {
				n++
			}
		}
	}
	return n
}

func testNode(t *testing.T, e *env) {
	const fields = `__typename id ... on User { email } ... on Event { name userID } ... on LogEntry { message level }`

	t.Run("each type", func(t *testing.T) {
		cases := []struct {
			id   uuid.UUID
			want string
		}{
			{userID(1), `{"node":{"__typename":"User","id":"%s","email":"user001@example.com"}}`},
			{eventID(1, 1), `{"node":{"__typename":"Event","id":"%s","name":"signup","userID":"` + userID(1).String() + `"}}`},
			{logID(1, 3), `{"node":{"__typename":"LogEntry","id":"%s","message":"user 001 log 3","level":"ERROR"}}`},
			{uuid.Must(uuid.NewV7()), `{"node":null}`},
		}
		for _, tc := range cases {
			e.count.reset()
			r := e.do(t, `query($id: ID!) { node(id: $id) { `+fields+` } }`, map[string]any{"id": tc.id})
			if len(r.Errors) > 0 {
				t.Fatalf("errors: %+v", r.Errors)
			}
			want := tc.want
			if want != `{"node":null}` {
				want = fmt.Sprintf(want, tc.id)
			}
			if string(r.Data) != want {
				t.Errorf("got %s, want %s", r.Data, want)
			}
			assertCounts(t, e, graphTables()) // one primary-key lookup per table
		}
	})

	t.Run("nodes", func(t *testing.T) {
		unknown := uuid.Must(uuid.NewV7())
		ids := []uuid.UUID{logID(0, 0), unknown, userID(2), eventID(2, 0), userID(0), userID(2), eventID(3, 1)}
		e.count.reset()
		var data struct {
			Nodes []*struct {
				Typename string `json:"__typename"`
				ID       string
			}
		}
		e.query(t, `query($ids: [ID!]!) { nodes(ids: $ids) { `+fields+` } }`, map[string]any{"ids": ids}, &data)
		assertCounts(t, e, graphTables()) // one primary-key lookup per table
		wantTypes := []string{"LogEntry", "", "User", "Event", "User", "User", "Event"}
		if len(data.Nodes) != len(ids) {
			t.Fatalf("got %d nodes, want %d", len(data.Nodes), len(ids))
		}
		for i, n := range data.Nodes {
			switch {
			case wantTypes[i] == "" && n != nil:
				t.Errorf("nodes[%d]: got %+v, want null", i, n)
			case wantTypes[i] == "":
			case n == nil:
				t.Errorf("nodes[%d]: got null, want %s", i, wantTypes[i])
			case n.Typename != wantTypes[i] || n.ID != ids[i].String():
				t.Errorf("nodes[%d]: got %s %s, want %s %s", i, n.Typename, n.ID, wantTypes[i], ids[i])
			}
		}
	})

	t.Run("GET", func(t *testing.T) {
		q := url.Values{"query": {fmt.Sprintf(`{ node(id: %q) { id } }`, userID(0))}}
		res, err := http.Get(e.srv.URL + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		r := decode(t, res)
		if want := fmt.Sprintf(`{"node":{"id":"%s"}}`, userID(0)); string(r.Data) != want || len(r.Errors) > 0 {
			t.Errorf("got %s %+v, want %s", r.Data, r.Errors, want)
		}
	})
}

func testQueryErrors(t *testing.T, e *env) {
	cases := []struct {
		name, doc, code, path string
	}{
		{"invalid UUID", `{ node(id: "42") { id } }`, "BAD_USER_INPUT", "node.id"},
		{"invalid UUID in a list", `{ nodes(ids: ["` + userID(0).String() + `", "x"]) { id } }`, "BAD_USER_INPUT", "nodes.ids.1"},
		{"invalid UUID in a filter", `{ events(where: {userID: "nope"}) { totalCount } }`, "BAD_USER_INPUT", "events.where.userID"},
		{"invalid cursor", `{ users(first: 1, after: "garbage") { totalCount } }`, "BAD_USER_INPUT", "users.after"},
		{"first and last", `{ users(first: 1, last: 1) { totalCount } }`, "BAD_USER_INPUT", "users"},
		{"negative first", `{ logEntries(first: -1) { totalCount } }`, "BAD_USER_INPUT", "logEntries"},
		{"empty not", `{ events(where: {not: {}}) { totalCount } }`, "BAD_USER_INPUT", "events"},
		{"unknown field", `{ users { nope } }`, "GRAPHQL_VALIDATION_FAILED", ""},
		{"unknown enum value", `{ logEntries(where: {level: FATAL}) { totalCount } }`, "GRAPHQL_VALIDATION_FAILED", ""},
		{"syntax", `{ users(`, "GRAPHQL_PARSE_FAILED", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.wantError(t, tc.doc, nil, tc.code, tc.path)
		})
	}
	t.Run("invalid UUID in a variable", func(t *testing.T) {
		e.wantError(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "zzz"}, "BAD_USER_INPUT", "node.id")
	})
}

// assertCounts checks the statements each database received since the last reset.
func assertCounts(t *testing.T, e *env, want map[string]int) {
	t.Helper()
	got := e.count.counts()
	for db, n := range want {
		if got[db] != n {
			t.Errorf("%s: got %d statements, want %d\n%s", db, got[db], n, e.count.dump())
		}
	}
}
