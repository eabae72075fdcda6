package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/multidb/multidb/ent/users/session"
	"github.com/multidb/multidb/graph"
)

// TestSessionCache reuses a session lookup within SESSION_CACHE_TTL, ends a session revoked
// through the server at once, and one revoked elsewhere (another server, or by hand) once
// the TTL has passed.
func TestSessionCache(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, fixture{users: 2, events: func(int) int { return 0 }, logs: func(int) int { return 0 }})

		t.Run("a lookup is reused", func(t *testing.T) {
			h := e.with(t, graph.WithSessionCache(time.Hour, 0))
			token := e.session(t, userID(1), time.Now().Add(time.Hour))
			for i, want := range []int{1, 0, 0} {
				e.count.reset()
				r, _ := rawPost(t, h, "Bearer "+token, `{ me { id } }`)
				if len(r.Errors) > 0 {
					t.Fatalf("request %d: %+v", i, r.Errors)
				}
				assertCounts(t, e, map[string]int{"users": want})
			}
		})

		t.Run("a log-in keeps the cached sessions", func(t *testing.T) {
			// Each log-in deletes its user's dead sessions, which are never cached.
			h := e.with(t, graph.WithSessionCache(time.Hour, 0))
			token := e.session(t, userID(1), time.Now().Add(time.Hour))
			rawPost(t, h, "Bearer "+token, `{ me { id } }`)
			h.signUp(t, "cache.keeper@example.com", "a long enough password", "Keeper")
			e.count.reset()
			if r, _ := rawPost(t, h, "Bearer "+token, `{ me { id } }`); len(r.Errors) > 0 {
				t.Fatalf("after a log-in: %+v", r.Errors)
			}
			assertCounts(t, e, map[string]int{"users": 0})
		})

		t.Run("off", func(t *testing.T) {
			h := e.with(t, graph.WithSessionCache(0, 0))
			token := e.session(t, userID(1), time.Now().Add(time.Hour))
			for range 2 {
				e.count.reset()
				rawPost(t, h, "Bearer "+token, `{ me { id } }`)
				assertCounts(t, e, map[string]int{"users": 1})
			}
		})

		t.Run("changes through the server take effect at once", func(t *testing.T) {
			h := e.with(t, graph.WithSessionCache(time.Hour, 0))
			token := e.session(t, userID(1), time.Now().Add(time.Hour))
			var out struct{ Me struct{ Name string } }
			h.as(token).query(t, `{ me { name } }`, nil, &out)
			h.as(token).query(t, `mutation($id: ID!) { updateUser(id: $id, input: {name: "Renamed"}) { name } }`,
				map[string]any{"id": userID(1).String()}, nil)
			h.as(token).query(t, `{ me { name } }`, nil, &out)
			if out.Me.Name != "Renamed" {
				t.Errorf("me.name after updateUser: got %q, want Renamed", out.Me.Name)
			}
			h.as(token).query(t, `mutation { logOut }`, nil, nil)
			r, hdr := rawPost(t, h, "Bearer "+token, `{ me { id } }`)
			wantUnauthorized(t, r, hdr)
		})

		t.Run("a session revoked elsewhere ends within the TTL", func(t *testing.T) {
			const ttl = 200 * time.Millisecond
			h := e.with(t, graph.WithSessionCache(ttl, 0))
			token := e.session(t, userID(1), time.Now().Add(time.Hour))
			if r, _ := rawPost(t, h, "Bearer "+token, `{ me { id } }`); len(r.Errors) > 0 {
				t.Fatalf("before the revocation: %+v", r.Errors)
			}
			// The test's clients carry no hook of the handler's: as another server would.
			_, err := e.set.Users.Session.Update().Where(session.UserID(userID(1))).
				SetRevokedAt(time.Now().UTC()).Save(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// Every lookup cached before now expires by now+ttl: a request sent later is refused.
			time.Sleep(ttl)
			r, hdr := rawPost(t, h, "Bearer "+token, `{ me { id } }`)
			wantUnauthorized(t, r, hdr)
		})

	})
}
