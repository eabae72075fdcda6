package graph_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/analytics/event"
	"github.com/multidb/multidb/ent/logs/logentry"
	"github.com/multidb/multidb/ent/users/user"
)

// TestAccess checks, through the handler, what a USER and an ADMIN may read and change. User 0
// of the fixture is an ADMIN, the others are USERs; user 1 is the USER who probes.
func TestAccess(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, smallFixture)
		h := e.with(t)
		expires := time.Now().Add(time.Hour)
		admin := h.as(e.session(t, userID(0), expires))
		user1 := h.as(e.session(t, userID(1), expires))
		t.Run("a USER reads their own rows only", func(t *testing.T) { testUserReads(t, user1) })
		t.Run("probing another user's rows finds nothing", func(t *testing.T) { testProbes(t, user1) })
		t.Run("node and nodes", func(t *testing.T) { testNodeAccess(t, user1) })
		t.Run("stitched fields", func(t *testing.T) { testStitchedAccess(t, user1) })
		t.Run("an ADMIN reads everything", func(t *testing.T) { testAdminReads(t, admin) })
		t.Run("SQL in filters is a value", func(t *testing.T) { testSQLInFilters(t, admin) })
		t.Run("a USER changes their own rows only", func(t *testing.T) { testUserWrites(t, h, user1) })
		t.Run("an ADMIN manages users", func(t *testing.T) { testAdminWrites(t, h, admin) })
	})
}

func testUserReads(t *testing.T, u *env) {
	var data struct {
		Users struct {
			TotalCount int
			Edges      []struct{ Node userNode }
		}
		Events, LogEntries struct{ TotalCount int }
		Me                 userNode
	}
	u.query(t, `{ users { totalCount edges { node { id } } } events { totalCount } logEntries { totalCount } me { id role } }`, nil, &data)
	if data.Users.TotalCount != 1 || len(data.Users.Edges) != 1 || data.Users.Edges[0].Node.ID != userID(1).String() {
		t.Errorf("users: got %+v, want user 1 alone", data.Users)
	}
	if data.Events.TotalCount != smallFixture.events(1) || data.LogEntries.TotalCount != smallFixture.logs(1) {
		t.Errorf("got %d events and %d log entries, want user 1's %d and %d",
			data.Events.TotalCount, data.LogEntries.TotalCount, smallFixture.events(1), smallFixture.logs(1))
	}
	if data.Me.ID != userID(1).String() || data.Me.Role != "USER" {
		t.Errorf("me: %+v", data.Me)
	}
}

func testProbes(t *testing.T, u *env) {
	other := userID(2)
	cases := map[string]string{
		"events of another user":           fmt.Sprintf(`{ events(where: {userID: %q}) { totalCount edges { node { id } } } }`, other),
		"events of a list of users":        fmt.Sprintf(`{ events(where: {userIDIn: [%q, %q], userIDNEQ: %q}) { totalCount edges { node { id } } } }`, other, userID(3), userID(1)),
		"log entries of another user":      fmt.Sprintf(`{ logEntries(where: {userID: %q}) { totalCount edges { node { id } } } }`, other),
		"log entries of no user":           `{ logEntries(where: {userIDIsNil: true}) { totalCount edges { node { id } } } }`,
		"users by email":                   `{ users(where: {emailHasPrefix: "user002"}) { totalCount edges { node { id } } } }`,
		"admins":                           `{ users(where: {role: ADMIN}) { totalCount edges { node { id } } } }`,
		"users but not me":                 fmt.Sprintf(`{ users(where: {idNEQ: %q}) { totalCount edges { node { id } } } }`, userID(1)),
		"an id, ordered to leak by cursor": fmt.Sprintf(`{ users(where: {id: %q}, orderBy: {field: EMAIL, direction: DESC}) { totalCount edges { node { id } } } }`, other),
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			var data map[string]struct {
				TotalCount int
				Edges      []any
			}
			u.query(t, doc, nil, &data)
			for field, c := range data {
				if c.TotalCount != 0 || len(c.Edges) != 0 {
					t.Errorf("%s: got totalCount %d and %d edges, want nothing", field, c.TotalCount, len(c.Edges))
				}
			}
		})
	}
}

func testNodeAccess(t *testing.T, u *env) {
	const fields = `__typename id`
	for _, id := range []uuid.UUID{userID(2), eventID(2, 0), logID(2, 1), fixtureID(kindLog, 999_999)} {
		r := u.do(t, `query($id: ID!) { node(id: $id) { `+fields+` } }`, map[string]any{"id": id})
		if len(r.Errors) > 0 || string(r.Data) != `{"node":null}` {
			t.Errorf("node(%s): got %s %+v, want null, as for an id that does not exist", id, r.Data, r.Errors)
		}
	}
	ids := []uuid.UUID{userID(2), eventID(2, 0), logID(2, 1), userID(1), eventID(1, 1), logID(1, 0)}
	var data struct {
		Nodes []*struct {
			Typename string `json:"__typename"`
			ID       string
		}
	}
	u.count.reset()
	u.query(t, `query($ids: [ID!]!) { nodes(ids: $ids) { `+fields+` } }`, map[string]any{"ids": ids}, &data)
	// The session lookup, then one statement per table.
	assertCounts(t, u, map[string]int{"users": 2, "analytics": 1, "logs": 1})
	want := []string{"", "", "", "User", "Event", "LogEntry"}
	for i, n := range data.Nodes {
		switch {
		case want[i] == "" && n != nil:
			t.Errorf("nodes[%d] (%s): got %+v, want null", i, ids[i], n)
		case want[i] != "" && (n == nil || n.Typename != want[i]):
			t.Errorf("nodes[%d] (%s): got %+v, want %s", i, ids[i], n, want[i])
		}
	}
}

func testStitchedAccess(t *testing.T, u *env) {
	var data struct {
		Users struct {
			Edges []struct {
				Node struct {
					ID     string
					Events struct {
						TotalCount int
						Edges      []struct {
							Node struct{ User *struct{ ID string } }
						}
					}
					Logs struct {
						TotalCount int
						Edges      []struct {
							Node struct{ User *struct{ ID string } }
						}
					}
				}
			}
		}
		LogEntries struct {
			Edges []struct {
				Node struct{ User *struct{ ID string } }
			}
		}
	}
	u.count.reset()
	u.query(t, `{
		users(first: 10) { edges { node { id
			events(first: 10) { totalCount edges { node { user { id } } } }
			logs(first: 10) { totalCount edges { node { user { id } } } }
		} } }
	}`, nil, &data)
	// The session lookup and the page of users; Event.user and LogEntry.user name the user
	// already on the page, which the request's identity map answers. One page statement for
	// the events and one for the logs of the users.
	assertCounts(t, u, map[string]int{"users": 2, "analytics": 1, "logs": 1})
	// Top-level logs, asked alone: their user is read once, for the whole list (asked beside
	// the users, it may or may not be on the page already when the logs ask).
	u.count.reset()
	u.query(t, `{ logEntries(first: 2) { edges { node { user { id } } } } }`, nil, &data)
	assertCounts(t, u, map[string]int{"users": 2, "logs": 1})
	if len(data.Users.Edges) != 1 {
		t.Fatalf("got %d users, want 1", len(data.Users.Edges))
	}
	n := data.Users.Edges[0].Node
	if n.Events.TotalCount != smallFixture.events(1) || n.Logs.TotalCount != smallFixture.logs(1) {
		t.Errorf("user 1: %d events, %d logs; want %d and %d", n.Events.TotalCount, n.Logs.TotalCount, smallFixture.events(1), smallFixture.logs(1))
	}
	me := userID(1).String()
	for _, edge := range n.Events.Edges {
		if edge.Node.User == nil || edge.Node.User.ID != me {
			t.Errorf("Event.user: %+v", edge.Node.User)
		}
	}
	for _, edge := range data.LogEntries.Edges {
		if edge.Node.User == nil || edge.Node.User.ID != me {
			t.Errorf("LogEntry.user: %+v", edge.Node.User)
		}
	}
	// The loaders' window statements carry the viewer's filter beside the parents' keys (the
	// loader tests run them with another user's keys).
	unquote := strings.NewReplacer("`", "", `"`, "")
	for db, table := range map[string]string{"analytics": "events", "logs": "log_entries"} {
		for _, stmt := range u.count.stmts[db] {
			s := unquote.Replace(stmt)
			// The viewer's filter compares with a parameter; the LATERAL page's own
			// `user_id = xdb_parent.id` does not count.
			if !viewerFilter.MatchString(s) || !strings.Contains(s, table+".user_id") {
				t.Errorf("%s statement without the viewer's filter: %s", db, stmt)
			}
		}
	}
}

var viewerFilter = regexp.MustCompile(`user_id = (\$\d+|\?)`)

func testAdminReads(t *testing.T, a *env) {
	var data struct {
		Users, Events, LogEntries, Anonymous struct{ TotalCount int }
	}
	a.query(t, `{ users { totalCount } events { totalCount } logEntries { totalCount } anonymous: logEntries(where: {userIDIsNil: true}) { totalCount } }`, nil, &data)
	if data.Users.TotalCount != smallFixture.users || data.Events.TotalCount != countEvents(func(int, int) bool { return true }) ||
		data.LogEntries.TotalCount != smallFixture.users*4+1 || data.Anonymous.TotalCount != 1 {
		t.Errorf("admin sees %+v, want everything", data)
	}
	r := a.do(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": eventID(3, 0)})
	if !strings.Contains(string(r.Data), eventID(3, 0).String()) {
		t.Errorf("admin node: %s %+v", r.Data, r.Errors)
	}
}

func testSQLInFilters(t *testing.T, a *env) {
	before := countEvents(func(int, int) bool { return true })
	cases := []string{
		`{ users(where: {nameContains: "' OR 1=1 --"}) { totalCount edges { node { id } } } }`,
		`{ users(where: {emailHasPrefix: "\" OR \"\"=\""}) { totalCount edges { node { id } } } }`,
		`{ users(where: {nameContains: "%"}) { totalCount edges { node { id } } } }`,
		`{ users(where: {nameContainsFold: "_"}) { totalCount edges { node { id } } } }`,
		`{ events(where: {name: "x'; DROP TABLE events; --"}) { totalCount edges { node { id } } } }`,
		`{ logEntries(where: {messageContains: "'); DELETE FROM log_entries; --"}) { totalCount edges { node { id } } } }`,
	}
	for _, doc := range cases {
		var data map[string]struct {
			TotalCount int
			Edges      []any
		}
		a.query(t, doc, nil, &data)
		for field, c := range data {
			if c.TotalCount != 0 || len(c.Edges) != 0 {
				t.Errorf("%s: %s matched %d rows, want none", doc, field, c.TotalCount)
			}
		}
	}
	var data struct{ Events struct{ TotalCount int } }
	a.query(t, `{ events { totalCount } }`, nil, &data)
	if data.Events.TotalCount != before {
		t.Errorf("events: %d after the filters, want %d", data.Events.TotalCount, before)
	}
}

func testUserWrites(t *testing.T, h, u *env) {
	ctx := context.Background()
	users := h.set.Users.User
	t.Run("users", func(t *testing.T) {
		u.wantError(t, updateUser, map[string]any{"id": userID(2), "input": map[string]any{"name": "Hacked"}}, "NOT_FOUND", "updateUser")
		if got, _ := users.Get(ctx, userID(2)); got.Name != userName(2) {
			t.Errorf("user 2 renamed to %q", got.Name)
		}
		var data struct{ UpdateUser userNode }
		u.query(t, updateUser, map[string]any{"id": userID(1), "input": map[string]any{"name": "Me Myself"}}, &data)
		if data.UpdateUser.Name != "Me Myself" {
			t.Errorf("own update: %+v", data.UpdateUser)
		}
		u.wantError(t, updateUser, map[string]any{"id": userID(1), "input": map[string]any{"role": "ADMIN"}}, "FORBIDDEN", "updateUser")
		if got, _ := users.Get(ctx, userID(1)); got.Role != user.RoleUSER {
			t.Errorf("user 1 made themselves %s", got.Role)
		}
		u.wantError(t, createUser, map[string]any{"input": map[string]any{"email": "new@example.com", "name": "New"}}, "FORBIDDEN", "createUser")
		u.wantError(t, deleteUser, map[string]any{"id": userID(2)}, "NOT_FOUND", "deleteUser")
		n, _ := h.set.Analytics.Event.Query().Where(event.UserID(userID(2))).Count(ctx)
		if exists, _ := users.Query().Where(user.ID(userID(2))).Exist(ctx); !exists || n != smallFixture.events(2) {
			t.Errorf("deleteUser of another user removed rows: user %v, %d events", exists, n)
		}
	})

	t.Run("events", func(t *testing.T) {
		before, _ := h.set.Analytics.Event.Query().Count(ctx)
		// Another user's id fails as an id that does not exist would.
		r := u.wantError(t, trackEvent, map[string]any{"input": map[string]any{"userID": userID(2), "name": "forged"}}, "BAD_USER_INPUT", "trackEvent")
		if want := userID(2).String() + " does not exist"; !strings.Contains(r.Errors[0].Message, want) {
			t.Errorf("got %q, want it to say %q", r.Errors[0].Message, want)
		}
		u.wantError(t, trackMany, map[string]any{"inputs": []any{
			map[string]any{"userID": userID(1), "name": "ok"}, map[string]any{"userID": userID(3), "name": "forged"},
		}}, "BAD_USER_INPUT", "trackEvents")
		if after, _ := h.set.Analytics.Event.Query().Count(ctx); after != before {
			t.Errorf("events went from %d to %d", before, after)
		}
		var data struct{ TrackEvent struct{ UserID string } }
		u.query(t, trackEvent, map[string]any{"input": map[string]any{"userID": userID(1), "name": "mine"}}, &data)
		if data.TrackEvent.UserID != userID(1).String() {
			t.Errorf("got %+v", data.TrackEvent)
		}
	})

	t.Run("log entries", func(t *testing.T) {
		var data struct{ CreateLogEntry struct{ UserID *string } }
		u.query(t, createLog, map[string]any{"input": map[string]any{"message": "about me"}}, &data)
		if data.CreateLogEntry.UserID == nil || *data.CreateLogEntry.UserID != userID(1).String() {
			t.Errorf("a USER's entry without userID: got %v, want theirs", data.CreateLogEntry.UserID)
		}
		u.wantError(t, createLog, map[string]any{"input": map[string]any{"message": "about you", "userID": userID(2)}}, "FORBIDDEN", "createLogEntry")
		if n, _ := h.set.Logs.LogEntry.Query().Where(logentry.Message("about you")).Count(ctx); n != 0 {
			t.Error("a USER wrote an entry about another user")
		}
	})

	t.Run("deleting one's own account", func(t *testing.T) {
		self := h.as(h.session(t, userID(5), time.Now().Add(time.Hour)))
		var p deletePayload
		self.query(t, deleteUser, map[string]any{"id": userID(5)}, &p)
		wantRemoved(t, "removed", p, map[string]int{"users": 1, "analytics": smallFixture.events(5), "logs": smallFixture.logs(5)})
		// The account's sessions went with it.
		r, hdr := rawPost(t, self, "Bearer "+self.token, meDoc)
		wantUnauthorized(t, r, hdr)
	})
}

func testAdminWrites(t *testing.T, h, a *env) {
	// An admin makes user 4 an admin; user 4's existing session sees everything at once,
	// for the role is read with the session on every request.
	user4 := h.as(h.session(t, userID(4), time.Now().Add(time.Hour)))
	var before struct{ Users struct{ TotalCount int } }
	user4.query(t, `{ users { totalCount } }`, nil, &before)
	var data struct{ UpdateUser userNode }
	a.query(t, updateUser, map[string]any{"id": userID(4), "input": map[string]any{"role": "ADMIN"}}, &data)
	if data.UpdateUser.Role != "ADMIN" {
		t.Errorf("got %+v", data.UpdateUser)
	}
	var after struct{ Users struct{ TotalCount int } }
	user4.query(t, `{ users { totalCount } }`, nil, &after)
	if before.Users.TotalCount != 1 || after.Users.TotalCount <= 1 {
		t.Errorf("user 4 saw %d users as USER and %d as ADMIN", before.Users.TotalCount, after.Users.TotalCount)
	}

	var created struct{ CreateUser userNode }
	a.query(t, `mutation($input: CreateUserInput!, $password: String) { createUser(input: $input, password: $password) { id email role } }`,
		map[string]any{"input": map[string]any{"email": "ops@example.com", "name": "Ops"}, "password": "ops password 1"}, &created)
	if p := h.logIn(t, "ops@example.com", "ops password 1"); p.User.ID != created.CreateUser.ID {
		t.Errorf("log in as the created user: got %+v", p.User)
	}
	a.wantError(t, `mutation { createUser(input: {email: "weak@example.com", name: "W"}, password: "short") { id } }`, nil, "BAD_USER_INPUT", "createUser")
}
