package graph_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/multidb/multidb/ent/users/user"
)

// stitchFixture gives users from 0 to 14 events and from 0 to 7 log entries, so that pages
// of 10 events and 5 logs are full for some users, short for others, and empty for a few.
var stitchFixture = fixture{users: 100, events: func(i int) int { return i % 15 }, logs: func(i int) int { return i % 8 }}

type stitchedUser struct {
	ID     string
	Events struct {
		TotalCount int
		PageInfo   pageInfo
		Edges      []struct {
			Node struct {
				ID, Name string
				User     *struct{ Name string }
			}
		}
	}
	Logs struct {
		PageInfo pageInfo
		Edges    []struct{ Node struct{ Message string } }
	}
}

type stitchedData struct {
	Users struct {
		Edges []struct{ Node stitchedUser }
	}
}

// TestStitched runs the tests of the cross-database fields on one set of databases per
// dialect.
func TestStitched(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, stitchFixture)
		t.Run("statement count", func(t *testing.T) { testStatementCount(t, e) })
		t.Run("cost does not grow with parents", func(t *testing.T) { testCostFlat(t, e) })
		t.Run("databases in parallel", func(t *testing.T) { testParallelDatabases(t, e) })
		t.Run("argument sets", func(t *testing.T) { testArgumentSets(t, e) })
		t.Run("lists of parents", func(t *testing.T) { testParentLists(t, e) })
		t.Run("whole batches under load", func(t *testing.T) { testWholeBatches(t, e) })
		t.Run("no first or last", func(t *testing.T) { testUnlimited(t, e) })
		t.Run("cursors on User.events", func(t *testing.T) { testStitchedCursors(t, e) })
		t.Run("filters and order", func(t *testing.T) { testStitchedFilters(t, e) })
		t.Run("errors", func(t *testing.T) { testStitchedErrors(t, e) })
		t.Run("missing users", func(t *testing.T) { testMissingUsers(t, e) })
		t.Run("arena reuse", func(t *testing.T) { testArenaReuse(t, e) })
	})
}

func testStatementCount(t *testing.T, e *env) {
	doc := readFile(t, "stitched_cost.graphql")
	e.count.reset()
	var data stitchedData
	e.query(t, doc, map[string]any{"first": 100}, &data)
	// users: the page of users, then one `id IN` for Event.user across all 100 users' events.
	// analytics: one window statement for the events of all 100 users; logs: the same.
	assertCounts(t, e, map[string]int{"users": 2, "analytics": 1, "logs": 1})

	// The query of the issue: the users page selects the name that Event.user asks for, so
	// the events' users are the rows already on the page and cost no statement.
	e.count.reset()
	var issue struct {
		Users struct {
			Edges []struct {
				Node struct {
					Name   string
					Events struct {
						Edges []struct {
							Node struct {
								Name string
								User *struct{ Name string }
							}
						}
					}
				}
			}
		}
	}
	e.query(t, `{ users(first: 50) { edges { node { id name
		events(first: 10, orderBy: {field: OCCURRED_AT, direction: DESC}) { totalCount edges { node { name occurredAt user { name } } } }
		logs(last: 5) { edges { node { level message } } } } } } }`, nil, &issue)
	assertCounts(t, e, map[string]int{"users": 1, "analytics": 1, "logs": 1})
	for _, u := range issue.Users.Edges {
		for _, ev := range u.Node.Events.Edges {
			if ev.Node.User == nil || ev.Node.User.Name != u.Node.Name {
				t.Fatalf("event %s: user %+v, want %s", ev.Node.Name, ev.Node.User, u.Node.Name)
			}
		}
	}

	if got := len(data.Users.Edges); got != stitchFixture.users {
		t.Fatalf("got %d users, want %d", got, stitchFixture.users)
	}
	for i, edge := range data.Users.Edges {
		u := edge.Node
		if u.ID != userID(i).String() {
			t.Fatalf("user %d: got id %s", i, u.ID)
		}
		n := stitchFixture.events(i)
		ev := u.Events
		if ev.TotalCount != n {
			t.Errorf("user %d: totalCount %d, want %d", i, ev.TotalCount, n)
		}
		if ev.PageInfo.HasNextPage != (n > 10) || ev.PageInfo.HasPreviousPage {
			t.Errorf("user %d (%d events): pageInfo %+v", i, n, ev.PageInfo)
		}
		if want := min(n, 10); len(ev.Edges) != want {
			t.Errorf("user %d: %d events, want %d", i, len(ev.Edges), want)
		}
		for j, edge := range ev.Edges {
			if edge.Node.ID != eventID(i, j).String() || edge.Node.Name != eventName(j) {
				t.Errorf("user %d event %d: got %s %s, want %s", i, j, edge.Node.ID, edge.Node.Name, eventID(i, j))
			}
			if edge.Node.User == nil || edge.Node.User.Name != userName(i) {
				t.Errorf("user %d event %d: user %+v, want %s", i, j, edge.Node.User, userName(i))
			}
		}
		nl := stitchFixture.logs(i)
		var got, want []string
		for k := max(0, nl-5); k < nl; k++ {
			want = append(want, logMessage(i, k))
		}
		for _, edge := range u.Logs.Edges {
			got = append(got, edge.Node.Message)
		}
		if !slices.Equal(got, want) {
			t.Errorf("user %d: logs %v, want %v", i, got, want)
		}
		if u.Logs.PageInfo.HasPreviousPage != (nl > 5) || u.Logs.PageInfo.HasNextPage {
			t.Errorf("user %d (%d logs): logs pageInfo %+v", i, nl, u.Logs.PageInfo)
		}
	}

	t.Run("with totalCount of the users", func(t *testing.T) {
		e.count.reset()
		e.query(t, strings.Replace(doc, "users(first: $first) {", "users(first: $first) { totalCount", 1), map[string]any{"first": 100}, nil)
		// entgql's Paginate counts the users in a statement of its own: COUNT(*), which an
		// index alone can answer, not ent's COUNT of the id.
		assertCounts(t, e, map[string]int{"users": 3, "analytics": 1, "logs": 1})
		var counts []string
		for _, stmt := range e.count.stmts["users"] {
			if strings.Contains(stmt, "COUNT(") {
				counts = append(counts, stmt)
			}
		}
		if len(counts) != 1 || !strings.Contains(counts[0], "COUNT(*)") {
			t.Errorf("the count of the users: %q, want one COUNT(*)", counts)
		}
	})
}

func testCostFlat(t *testing.T, e *env) {
	doc := readFile(t, "stitched_cost.graphql")
	var counts []map[string]int
	for _, n := range []int{10, 100} {
		e.count.reset()
		var data stitchedData
		e.query(t, doc, map[string]any{"first": n}, &data)
		if len(data.Users.Edges) != n {
			t.Fatalf("got %d users, want %d", len(data.Users.Edges), n)
		}
		counts = append(counts, e.count.counts())
	}
	if fmt.Sprint(counts[0]) != fmt.Sprint(counts[1]) {
		t.Errorf("10 parents cost %v statements, 100 parents %v: want the same", counts[0], counts[1])
	}
}

func testParallelDatabases(t *testing.T, e *env) {
	// With every analytics and logs statement slowed down, the two levels' statements
	// overlap: the query takes one delay, not two.
	e.count.breakDB("analytics", "slow")
	e.count.breakDB("logs", "slow")
	defer e.count.heal()
	e.count.reset()
	e.query(t, `{ users(first: 20) { edges { node { events(first: 1) { totalCount } logs(first: 1) { totalCount } } } } }`, nil, nil)
	assertCounts(t, e, map[string]int{"users": 1, "analytics": 1, "logs": 1})
	// The two statements were in flight at the same time: their delays overlap. (Timed on
	// the statements themselves, so a busy machine cannot make a parallel fetch look serial.)
	ev, lg := e.count.slowSpans("analytics"), e.count.slowSpans("logs")
	if len(ev) != 1 || len(lg) != 1 {
		t.Fatalf("got %d analytics and %d logs delays, want 1 each", len(ev), len(lg))
	}
	if !ev[0].start.Before(lg[0].end) || !lg[0].start.Before(ev[0].end) {
		t.Errorf("events ran %v–%v and logs %v–%v: not fetched in parallel",
			ev[0].start.Format("15:04:05.000"), ev[0].end.Format("15:04:05.000"), lg[0].start.Format("15:04:05.000"), lg[0].end.Format("15:04:05.000"))
	}
}

func testArgumentSets(t *testing.T, e *env) {
	e.count.reset()
	var data struct {
		Users struct {
			Edges []struct {
				Node struct {
					First, Last, Again struct {
						Edges []struct{ Node struct{ ID string } }
					}
				}
			}
		}
	}
	e.query(t, `{ users(first: 20) { edges { node {
		first: events(first: 1) { edges { node { id } } }
		last: events(last: 1) { edges { node { id } } }
		again: events(first: 1) { edges { node { id } } }
	} } } }`, nil, &data)
	// Two distinct argument sets: two statements, each for all 20 users; the repeated set
	// is served from the first.
	assertCounts(t, e, map[string]int{"users": 1, "analytics": 2, "logs": 0})
	for i, edge := range data.Users.Edges {
		n := stitchFixture.events(i)
		f, l, a := edge.Node.First.Edges, edge.Node.Last.Edges, edge.Node.Again.Edges
		if n == 0 {
			if len(f)+len(l)+len(a) != 0 {
				t.Errorf("user %d has no events, got some", i)
			}
			continue
		}
		if len(f) != 1 || f[0].Node.ID != eventID(i, 0).String() || len(a) != 1 || a[0].Node.ID != f[0].Node.ID {
			t.Errorf("user %d: first %+v, again %+v", i, f, a)
		}
		if len(l) != 1 || l[0].Node.ID != eventID(i, n-1).String() {
			t.Errorf("user %d: last %+v, want %s", i, l, eventID(i, n-1))
		}
	}
}

func testUnlimited(t *testing.T, e *env) {
	var data struct {
		Users struct {
			Edges []struct {
				Node struct {
					Events struct {
						TotalCount int
						Edges      []struct{ Node struct{ ID string } }
					}
				}
			}
		}
	}
	e.count.reset()
	e.query(t, `{ users(first: 20) { edges { node { events { totalCount edges { node { id } } } } } } }`, nil, &data)
	assertCounts(t, e, map[string]int{"users": 1, "analytics": 1})
	for i, edge := range data.Users.Edges {
		ev := edge.Node.Events
		if n := stitchFixture.events(i); ev.TotalCount != n || len(ev.Edges) != n {
			t.Errorf("user %d: totalCount %d, %d edges; want %d", i, ev.TotalCount, len(ev.Edges), n)
		}
	}
}

func testParentLists(t *testing.T, e *env) {
	// Event.user and LogEntry.user sit at the same depth here, but their parents come from
	// two statements (the events and the logs of the page): each list of parents is one
	// batch, sent as soon as all of its parents have asked, so each costs one statement.
	e.count.reset()
	// (The users' names are not on the page, so the identity map cannot answer user { name }.)
	e.query(t, `{ users(first: 30) { edges { node {
		events(first: 3) { edges { node { user { id name } } } }
		logs(first: 3) { edges { node { user { id name } } } }
	} } } }`, nil, nil)
	assertCounts(t, e, map[string]int{"users": 3, "analytics": 1, "logs": 1})

	// Parents that no list registered (a mutation's result) are batched by time.
	e.count.reset()
	var data struct {
		TrackEvent struct{ User struct{ Name string } }
	}
	e.query(t, `mutation($input: CreateEventInput!) { trackEvent(input: $input) { user { name } } }`,
		map[string]any{"input": map[string]any{"userID": userID(99), "name": "probe"}}, &data)
	if data.TrackEvent.User.Name != userName(99) {
		t.Errorf("trackEvent's user: got %q, want %q", data.TrackEvent.User.Name, userName(99))
	}
}

type eventsPage struct {
	Node struct {
		Events struct {
			TotalCount int
			PageInfo   pageInfo
			Edges      []struct {
				Cursor string
				Node   struct{ ID, Name, OccurredAt string }
			}
		}
	}
}

func testStitchedCursors(t *testing.T, e *env) {
	doc := readFile(t, "user_events_page.graphql")
	const u = 13 // 13 events: pages of 4, 4, 4, 1
	n := stitchFixture.events(u)
	byTime := map[string]any{"field": "OCCURRED_AT", "direction": "ASC"}
	// The fixture's times run backwards with j: oldest first is j = n-1, ..., 0.
	var want []string
	for j := n - 1; j >= 0; j-- {
		want = append(want, eventID(u, j).String())
	}

	t.Run("forward", func(t *testing.T) {
		var got []string
		vars := map[string]any{"id": userID(u), "first": 4, "orderBy": byTime}
		for page := 0; page < 10; page++ {
			var data eventsPage
			e.query(t, doc, vars, &data)
			c := data.Node.Events
			if c.TotalCount != n || c.PageInfo.HasPreviousPage != (page > 0) {
				t.Errorf("page %d: totalCount %d, pageInfo %+v", page, c.TotalCount, c.PageInfo)
			}
			for _, edge := range c.Edges {
				got = append(got, edge.Node.ID)
			}
			if !c.PageInfo.HasNextPage {
				break
			}
			vars["after"] = *c.PageInfo.EndCursor
		}
		if !slices.Equal(got, want) {
			t.Errorf("got %v\nwant %v", got, want)
		}
	})

	t.Run("backward", func(t *testing.T) {
		var got []string
		vars := map[string]any{"id": userID(u), "last": 4, "orderBy": byTime}
		for page := 0; page < 10; page++ {
			var data eventsPage
			e.query(t, doc, vars, &data)
			c := data.Node.Events
			if c.PageInfo.HasNextPage != (page > 0) {
				t.Errorf("page %d: pageInfo %+v", page, c.PageInfo)
			}
			var ids []string
			for _, edge := range c.Edges {
				ids = append(ids, edge.Node.ID)
			}
			got = append(ids, got...)
			if !c.PageInfo.HasPreviousPage {
				break
			}
			vars["before"] = *c.PageInfo.StartCursor
		}
		if !slices.Equal(got, want) {
			t.Errorf("got %v\nwant %v", got, want)
		}
	})

	t.Run("by id", func(t *testing.T) {
		var data eventsPage
		e.query(t, doc, map[string]any{"id": userID(u), "first": 5}, &data)
		c := data.Node.Events
		e.query(t, doc, map[string]any{"id": userID(u), "first": 5, "after": *c.PageInfo.EndCursor}, &data)
		var got []string
		for _, edge := range data.Node.Events.Edges {
			got = append(got, edge.Node.ID)
		}
		var want []string
		for j := 5; j < 10; j++ {
			want = append(want, eventID(u, j).String())
		}
		if !slices.Equal(got, want) {
			t.Errorf("second page by id: got %v, want %v", got, want)
		}
	})

	t.Run("cursors agree with the top-level connection", func(t *testing.T) {
		// A cursor from Query.events continues User.events where both list the same rows.
		var top struct {
			Events struct {
				PageInfo pageInfo
			}
		}
		e.query(t, fmt.Sprintf(`{ events(first: 3, where: {userID: %q}, orderBy: {field: OCCURRED_AT, direction: ASC}) { edges { cursor } pageInfo { endCursor } } }`, userID(u)), nil, &top)
		var data eventsPage
		e.query(t, doc, map[string]any{"id": userID(u), "first": 2, "after": *top.Events.PageInfo.EndCursor, "orderBy": byTime}, &data)
		var got []string
		for _, edge := range data.Node.Events.Edges {
			got = append(got, edge.Node.ID)
		}
		if !slices.Equal(got, want[3:5]) {
			t.Errorf("got %v, want %v", got, want[3:5])
		}
	})
}

func testStitchedFilters(t *testing.T, e *env) {
	e.count.reset()
	var data struct {
		Users struct {
			Edges []struct {
				Node struct {
					Events struct {
						TotalCount int
						Edges      []struct{ Node struct{ Name string } }
					}
					Logs struct {
						TotalCount int
						Edges      []struct {
							Node struct{ Level, Message string }
						}
					}
				}
			}
		}
	}
	e.query(t, `{ users(first: 30) { edges { node {
		events(first: 2, where: {nameIn: ["signup", "cart:add"]}, orderBy: {field: NAME, direction: DESC}) { totalCount edges { node { name } } }
		logs(first: 10, where: {levelNEQ: DEBUG}, orderBy: {field: LEVEL, direction: ASC}) { totalCount edges { node { level message } } }
	} } } }`, nil, &data)
	assertCounts(t, e, map[string]int{"users": 1, "analytics": 1, "logs": 1})
	for i, edge := range data.Users.Edges {
		var names []string
		for j := 0; j < stitchFixture.events(i); j++ {
			if n := eventName(j); n != "page.view" {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		slices.Reverse(names)
		ev := edge.Node.Events
		if ev.TotalCount != len(names) {
			t.Errorf("user %d: totalCount %d, want %d", i, ev.TotalCount, len(names))
		}
		var got []string
		for _, e := range ev.Edges {
			got = append(got, e.Node.Name)
		}
		if want := names[:min(2, len(names))]; !slices.Equal(got, want) {
			t.Errorf("user %d: names %v, want %v", i, got, want)
		}
		lg := edge.Node.Logs
		var levels []string
		for k := 0; k < stitchFixture.logs(i); k++ {
			if l := string(logLevel(k)); l != "DEBUG" {
				levels = append(levels, l)
			}
		}
		slices.Sort(levels)
		var gotLevels []string
		for _, e := range lg.Edges {
			gotLevels = append(gotLevels, e.Node.Level)
		}
		if lg.TotalCount != len(levels) || !slices.Equal(gotLevels, levels) {
			t.Errorf("user %d: logs %d %v, want %d %v", i, lg.TotalCount, gotLevels, len(levels), levels)
		}
	}
}

func testStitchedErrors(t *testing.T, e *env) {
	// Each of the two users gets the error, on its own path (users.edges.<i>.node...).
	cases := []struct {
		name, doc, path string
	}{
		{"first and last", `{ users(first: 2) { edges { node { events(first: 1, last: 1) { totalCount } } } } }`, "node.events"},
		{"negative last", `{ users(first: 2) { edges { node { logs(last: -1) { totalCount } } } } }`, "node.logs"},
		{"invalid cursor", `{ users(first: 2) { edges { node { events(after: "nope") { totalCount } } } } }`, "node.events.after"},
		{"empty not", `{ users(first: 2) { edges { node { logs(where: {not: {}}) { totalCount } } } } }`, "node.logs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.count.reset()
			r := e.wantError(t, tc.doc, nil, "BAD_USER_INPUT", "")
			paths := map[string]bool{}
			for _, err := range r.Errors {
				if err.code() != "BAD_USER_INPUT" {
					t.Errorf("got %+v", err)
				}
				paths[err.path()] = true
			}
			for i := 0; i < 2; i++ {
				if want := fmt.Sprintf("users.edges.%d.%s", i, tc.path); !paths[want] {
					t.Errorf("no error on %s; got %v", want, paths)
				}
			}
			assertCounts(t, e, map[string]int{"analytics": 0, "logs": 0})
		})
	}

	t.Run("a failing database", func(t *testing.T) {
		e.count.breakDB("logs", "error")
		defer e.count.heal()
		r := e.do(t, `{ users(first: 2) { edges { node { name events(first: 1) { totalCount } logs(first: 1) { totalCount } } } } }`, nil)
		if len(r.Errors) == 0 {
			t.Fatal("got no error")
		}
		for _, err := range r.Errors {
			if err.code() != "INTERNAL" || err.Message != "the logs database failed" {
				t.Errorf("got %+v", err)
			}
		}
		// Only the fields that needed logs are null; users and their events are all there.
		want := `{"users":{"edges":[{"node":{"name":"User 000","events":{"totalCount":0},"logs":null}},{"node":{"name":"User 001","events":{"totalCount":1},"logs":null}}]}}`
		if string(r.Data) != want {
			t.Errorf("got data %s\nwant %s", r.Data, want)
		}
	})
}

func testMissingUsers(t *testing.T, e *env) {
	const gone = 7
	if _, err := e.set.Users.User.Delete().Where(user.ID(userID(gone))).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	var data struct {
		Events struct {
			Edges []struct {
				Node struct {
					UserID string
					User   *struct{ ID string }
				}
			}
		}
		LogEntries struct {
			Edges []struct {
				Node struct {
					Message string
					User    *struct{ ID string }
				}
			}
		}
	}
	e.count.reset()
	e.query(t, fmt.Sprintf(`{
		events(where: {userIDIn: [%q, %q]}) { edges { node { userID user { id } } } }
		logEntries(where: {or: [{userID: %q}, {userIDIsNil: true}]}) { edges { node { message user { id } } } }
	}`, userID(gone), userID(8), userID(8)), nil, &data)
	// Event.user and LogEntry.user share the level: one `id IN` for both.
	assertCounts(t, e, map[string]int{"users": 1, "analytics": 1, "logs": 1})
	for _, edge := range data.Events.Edges {
		switch {
		case edge.Node.UserID == userID(gone).String() && edge.Node.User != nil:
			t.Errorf("event of a deleted user: got user %+v, want null", edge.Node.User)
		case edge.Node.UserID == userID(8).String() && (edge.Node.User == nil || edge.Node.User.ID != userID(8).String()):
			t.Errorf("event of user 8: got user %+v", edge.Node.User)
		}
	}
	if len(data.LogEntries.Edges) != stitchFixture.logs(8)+1 {
		t.Errorf("got %d log entries, want %d", len(data.LogEntries.Edges), stitchFixture.logs(8)+1)
	}
	for _, edge := range data.LogEntries.Edges {
		if (edge.Node.User == nil) != (edge.Node.Message == "server started") {
			t.Errorf("log %q: user %+v", edge.Node.Message, edge.Node.User)
		}
	}
}

func testWholeBatches(t *testing.T, e *env) {
	// 16 stitched queries at once on one processor, with every analytics and logs statement
	// slowed down: the resolvers of a level start long after the first of them asks, and each
	// level must still be one statement per query. The users page lacks the email that
	// Event.user asks for, so that Event.user is read too.
	doc := `{ users(first: 50) { edges { node { id name
		events(first: 10, orderBy: {field: OCCURRED_AT, direction: DESC}) { totalCount edges { node { name occurredAt user { name email } } } }
		logs(last: 5) { edges { node { level message } } } } } } }`
	e.count.reset()
	e.query(t, doc, nil, nil)
	alone := e.count.counts()

	e.count.breakDB("analytics", "slow")
	e.count.breakDB("logs", "slow")
	defer e.count.heal()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const queries = 16
	e.count.reset()
	var wg sync.WaitGroup
	for range queries {
		wg.Go(func() {
			var data stitchedData
			e.query(t, doc, nil, &data)
			if len(data.Users.Edges) != 50 {
				t.Errorf("got %d users, want 50", len(data.Users.Edges))
			}
		})
	}
	wg.Wait()
	want := map[string]int{}
	for db, n := range alone {
		want[db] = n * queries
	}
	assertCounts(t, e, want)
}

// testArenaReuse sends different stitched queries from 16 clients at once, over and over.
// The executor's field sets, field contexts, lists and response bytes of one request are
// reused by the next (fastexec.Arena), and statements run on contexts of their own
// (database.Scope): every answer must still be the one its query gets alone, errors (whose
// paths come from the field contexts) included.
func testArenaReuse(t *testing.T, e *env) {
	cost := readFile(t, "stitched_cost.graphql")
	queries := []struct {
		doc  string
		vars map[string]any
	}{
		{cost, map[string]any{"first": 100}},
		{cost, map[string]any{"first": 7}},
		{`{ users(first: 30) { edges { node { name logs(first: 3) { edges { node { message level } } } } } } }`, nil},
		{`{ users(first: 20) { edges { node { name events(first: -1) { totalCount } } } } }`, nil},
	}
	// answer is a response in a form that does not depend on the order in which concurrent
	// fields reported their errors.
	answer := func(r response) string {
		errs := make([]string, len(r.Errors))
		for i, err := range r.Errors {
			errs[i] = err.path() + " " + err.code() + " " + err.Message
		}
		slices.Sort(errs)
		return string(r.Data) + "\n" + strings.Join(errs, "\n")
	}
	want := make([]string, len(queries))
	for i, q := range queries {
		want[i] = answer(e.do(t, q.doc, q.vars))
	}
	if !strings.Contains(want[3], "BAD_USER_INPUT") || strings.Count(want[0], `"name"`) < 100 {
		t.Fatalf("the queries do not test what they should:\n%.500s\n%.500s", want[0], want[3])
	}
	const clients, rounds = 16, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	wrong := 0
	for c := range clients {
		wg.Go(func() {
			for r := range rounds {
				i := (c + r) % len(queries)
				got := answer(e.do(t, queries[i].doc, queries[i].vars))
				if got != want[i] {
					mu.Lock()
					if wrong == 0 {
						t.Errorf("query %d, client %d, round %d: the answer differs from the query's alone:\n%.1000s\nwant:\n%.1000s", i, c, r, got, want[i])
					}
					wrong++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if wrong > 0 {
		t.Errorf("%d of %d answers differ", wrong, clients*rounds)
	}
}
