package graph_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/analytics/event"
	"github.com/multidb/multidb/ent/users/session"
	"github.com/multidb/multidb/ent/users/user"
	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/graph/access"
	"github.com/multidb/multidb/graph/account"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/config"
	demo "github.com/multidb/multidb/internal/seed"
)

const (
	signUpDoc = `mutation($email: String!, $password: String!, $name: String!) {
		signUp(email: $email, password: $password, name: $name) { token expiresAt user { id email name role } } }`
	logInDoc = `mutation($email: String!, $password: String!) {
		logIn(email: $email, password: $password) { token expiresAt user { id email name role } } }`
	meDoc = `{ me { id email role } }`
)

type authPayload struct {
	Token     string
	ExpiresAt time.Time
	User      userNode
}

// signUp signs up through the API and fails the test if that fails.
func (e *env) signUp(t *testing.T, email, password, name string) authPayload {
	t.Helper()
	var data struct{ SignUp authPayload }
	e.query(t, signUpDoc, map[string]any{"email": email, "password": password, "name": name}, &data)
	return data.SignUp
}

// logIn logs in through the API and fails the test if that fails.
func (e *env) logIn(t *testing.T, email, password string) authPayload {
	t.Helper()
	var data struct{ LogIn authPayload }
	e.query(t, logInDoc, map[string]any{"email": email, "password": password}, &data)
	return data.LogIn
}

// session issues a session of an existing user directly, as a tool would, and returns its token.
func (e *env) session(t *testing.T, id uuid.UUID, expires time.Time) string {
	t.Helper()
	token, _, err := account.Issue(context.Background(), e.set.Users, id, expires)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// TestAuthentication signs up, logs in and out through the handler, and checks what a
// request without a valid session may do.
func TestAuthentication(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, smallFixture)
		anon := e.with(t, graph.WithLoginLimits(nil, nil))
		t.Run("sign up and log in", func(t *testing.T) { testSignUpLogIn(t, anon) })
		t.Run("anonymous callers", func(t *testing.T) { testAnonymous(t, anon) })
		t.Run("tokens that are no session", func(t *testing.T) { testBadTokens(t, anon) })
		t.Run("log out and revoke", func(t *testing.T) { testLogOut(t, anon) })
		t.Run("anonymous tracking", func(t *testing.T) { testAnonymousTracking(t, anon) })
	})
}

func testSignUpLogIn(t *testing.T, e *env) {
	ctx := context.Background()
	const password = "correct horse battery"
	p := e.signUp(t, "  Ada@Example.com", password, "Ada")
	if !strings.HasPrefix(p.Token, "mdb_") || p.User.Email != "ada@example.com" || p.User.Role != "USER" {
		t.Errorf("signUp: got %+v", p)
	}
	if d := time.Until(p.ExpiresAt); d < 719*time.Hour || d > 721*time.Hour {
		t.Errorf("session expires in %v, want the default 720h", d)
	}
	id := uuid.MustParse(p.User.ID)

	t.Run("only hashes are stored", func(t *testing.T) {
		s, err := e.set.Users.Session.Query().Where(session.UserID(id)).Only(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.TokenHash != auth.HashToken(p.Token) || strings.Contains(s.TokenHash, p.Token) {
			t.Errorf("stored %q for token %q, want its SHA-256 only", s.TokenHash, p.Token)
		}
		u, err := e.set.Users.User.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$") || strings.Contains(u.PasswordHash, password) {
			t.Errorf("stored password %q, want an argon2id hash", u.PasswordHash)
		}
	})

	t.Run("me", func(t *testing.T) {
		var data struct{ Me userNode }
		e.as(p.Token).query(t, meDoc, nil, &data)
		if data.Me.ID != p.User.ID || data.Me.Email != "ada@example.com" {
			t.Errorf("me: got %+v", data.Me)
		}
	})

	t.Run("log in, email in any case", func(t *testing.T) {
		again := e.logIn(t, "ADA@example.com", password)
		if again.Token == p.Token || again.User.ID != p.User.ID {
			t.Errorf("logIn: got %+v, want a new token for %s", again, p.User.ID)
		}
		var data struct{ Me userNode }
		e.as(again.Token).query(t, meDoc, nil, &data)
		if data.Me.ID != p.User.ID {
			t.Errorf("me with the new token: got %+v", data.Me)
		}
	})

	t.Run("failed log-ins say the same", func(t *testing.T) {
		cases := map[string][2]string{
			"wrong password":           {"ada@example.com", "wrong horse battery"},
			"unknown email":            {"nobody@example.com", password},
			"account with no password": {userEmail(2), password},
		}
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				r := e.wantError(t, logInDoc, map[string]any{"email": c[0], "password": c[1]}, "UNAUTHENTICATED", "logIn")
				if r.Errors[0].Message != "wrong email or password" {
					t.Errorf("got %q", r.Errors[0].Message)
				}
			})
		}
	})

	t.Run("refused sign-ups", func(t *testing.T) {
		before, _ := e.set.Users.User.Query().Count(ctx)
		cases := []struct{ name, email, password, message string }{
			{"short password", "bob@example.com", "short", "at least 10 characters"},
			{"one repeated character", "bob@example.com", "aaaaaaaaaaaa", "more than one distinct character"},
			{"email in use", "ADA@example.com", password, "email already in use"},
			{"not an email", "bob", password, "invalid email"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.wantError(t, signUpDoc, map[string]any{"email": c.email, "password": c.password, "name": "Bob"}, "BAD_USER_INPUT", "signUp")
				if !strings.Contains(r.Errors[0].Message, c.message) {
					t.Errorf("got %q, want it to say %q", r.Errors[0].Message, c.message)
				}
			})
		}
		if after, _ := e.set.Users.User.Query().Count(ctx); after != before {
			t.Errorf("users went from %d to %d", before, after)
		}
	})
}

func testAnonymous(t *testing.T, e *env) {
	id := userID(1)
	docs := map[string]string{
		"users":             `{ users { totalCount } }`,
		"events":            `{ events { totalCount } }`,
		"logEntries":        `{ logEntries { totalCount } }`,
		"node":              `{ node(id: "` + id.String() + `") { id } }`,
		"nodes":             `{ nodes(ids: ["` + id.String() + `"]) { id } }`,
		"me":                meDoc,
		"createUser":        `mutation { createUser(input: {email: "x@example.com", name: "X"}) { id } }`,
		"updateUser":        `mutation { updateUser(id: "` + id.String() + `", input: {name: "X"}) { id } }`,
		"deleteUser":        `mutation { deleteUser(id: "` + id.String() + `") { deletedID } }`,
		"trackEvent":        `mutation { trackEvent(input: {userID: "` + id.String() + `", name: "x"}) { id } }`,
		"createLogEntry":    `mutation { createLogEntry(input: {message: "x"}) { id } }`,
		"logOut":            `mutation { logOut }`,
		"revokeAllSessions": `mutation { revokeAllSessions }`,
	}
	for field, doc := range docs {
		t.Run(field, func(t *testing.T) {
			e.count.reset()
			e.wantError(t, doc, nil, "UNAUTHENTICATED", field)
			assertCounts(t, e, map[string]int{"users": 0, "analytics": 0, "logs": 0})
		})
	}
	t.Run("__typename", func(t *testing.T) {
		if r := e.do(t, `{ __typename }`, nil); len(r.Errors) > 0 || string(r.Data) != `{"__typename":"Query"}` {
			t.Errorf("got %s %+v", r.Data, r.Errors)
		}
	})
}

// rawPost sends doc with an Authorization header as given.
func rawPost(t *testing.T, e *env, authorization, doc string) (response, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL, strings.NewReader(`{"query": `+quote(doc)+`}`))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	return decode(t, res), res.Header
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// wantUnauthorized checks a request refused before GraphQL for its token.
func wantUnauthorized(t *testing.T, r response, h http.Header) {
	t.Helper()
	if r.status != http.StatusUnauthorized || len(r.Errors) != 1 || r.Errors[0].code() != "UNAUTHENTICATED" || r.Data != nil {
		t.Errorf("got status %d, data %s, errors %+v; want 401 UNAUTHENTICATED and no data", r.status, r.Data, r.Errors)
	}
	if !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate: %q", h.Get("WWW-Authenticate"))
	}
}

func testBadTokens(t *testing.T, e *env) {
	unknown, _, _ := auth.NewToken()
	valid := e.session(t, userID(1), time.Now().Add(time.Hour))
	expired := e.session(t, userID(1), time.Now().Add(-time.Second))
	cases := map[string]string{
		"not bearer":    "Basic " + valid,
		"malformed":     "Bearer mdb_short",
		"unknown token": "Bearer " + unknown,
		"expired":       "Bearer " + expired,
	}
	for name, header := range cases {
		t.Run(name, func(t *testing.T) {
			e.count.reset()
			// Even logIn is refused: a client that sends a token means to act as its user.
			r, h := rawPost(t, e, header, `{ users { totalCount } }`)
			wantUnauthorized(t, r, h)
			assertCounts(t, e, map[string]int{"analytics": 0, "logs": 0})
		})
	}
	t.Run("valid", func(t *testing.T) {
		r, _ := rawPost(t, e, "Bearer "+valid, `{ users { totalCount } }`)
		if len(r.Errors) > 0 || string(r.Data) != `{"users":{"totalCount":1}}` {
			t.Errorf("got %s %+v", r.Data, r.Errors)
		}
	})
	t.Run("checking a session is one statement", func(t *testing.T) {
		e.count.reset()
		rawPost(t, e, "Bearer "+valid, `{ events(first: 1) { totalCount } }`)
		assertCounts(t, e, map[string]int{"users": 1, "analytics": 1})
	})
}

func testLogOut(t *testing.T, e *env) {
	const password = "grace hopper 1906"
	first := e.signUp(t, "grace@example.com", password, "Grace")
	second := e.logIn(t, "grace@example.com", password)
	other := e.signUp(t, "alan@example.com", password, "Alan")

	var out struct{ LogOut bool }
	e.as(first.Token).query(t, `mutation { logOut }`, nil, &out)
	if !out.LogOut {
		t.Error("logOut returned false")
	}
	r, h := rawPost(t, e, "Bearer "+first.Token, meDoc)
	wantUnauthorized(t, r, h)
	if r := e.as(second.Token).do(t, meDoc, nil); len(r.Errors) > 0 {
		t.Fatalf("another session of the user ended with logOut: %+v", r.Errors)
	}

	third := e.logIn(t, "grace@example.com", password)
	var revoked struct{ RevokeAllSessions int }
	e.as(second.Token).query(t, `mutation { revokeAllSessions }`, nil, &revoked)
	if revoked.RevokeAllSessions != 2 {
		t.Errorf("revokeAllSessions: %d, want 2 (the live sessions of the user)", revoked.RevokeAllSessions)
	}
	for _, token := range []string{second.Token, third.Token} {
		r, h := rawPost(t, e, "Bearer "+token, meDoc)
		wantUnauthorized(t, r, h)
	}
	if r := e.as(other.Token).do(t, meDoc, nil); len(r.Errors) > 0 {
		t.Errorf("another user's session ended: %+v", r.Errors)
	}
}

func testAnonymousTracking(t *testing.T, e *env) {
	ctx := context.Background()
	on := e.with(t, graph.WithAnonymousTracking(true))
	anon := access.AnonymousUser.String()
	var data struct{ TrackEvent struct{ UserID string } }
	on.query(t, trackEvent, map[string]any{"input": map[string]any{"userID": anon, "name": "landing.view"}}, &data)
	if data.TrackEvent.UserID != anon {
		t.Errorf("got %+v", data.TrackEvent)
	}
	on.query(t, trackMany, map[string]any{"inputs": []any{
		map[string]any{"userID": anon, "name": "landing.view"}, map[string]any{"userID": anon, "name": "landing.click"},
	}}, nil)
	// An anonymous caller's retry with ids gets its stored events back, once.
	ids := []string{uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()}
	retry := map[string]any{"ids": ids, "inputs": []any{
		map[string]any{"userID": anon, "name": "landing.retry"}, map[string]any{"userID": anon, "name": "landing.retry"},
	}}
	for range 2 {
		var got struct{ TrackEvents []struct{ ID string } }
		on.query(t, `mutation($inputs: [CreateEventInput!]!, $ids: [ID!]) { trackEvents(inputs: $inputs, ids: $ids) { id } }`, retry, &got)
		if len(got.TrackEvents) != 2 || got.TrackEvents[0].ID != ids[0] || got.TrackEvents[1].ID != ids[1] {
			t.Errorf("anonymous trackEvents with ids: %+v, want %v", got.TrackEvents, ids)
		}
	}
	if n, _ := e.set.Analytics.Event.Query().Where(event.Name("landing.retry")).Count(ctx); n != 2 {
		t.Errorf("an anonymous retry stored %d events, want 2", n)
	}
	// Ids of a user's events are not an anonymous caller's to replay.
	var theirs []string
	for _, ev := range e.set.Analytics.Event.Query().Where(event.UserID(userID(1))).Limit(1).AllX(ctx) {
		theirs = append(theirs, ev.ID.String())
	}
	if len(theirs) != 1 {
		t.Fatalf("the fixture has %d events of user 1, want one to replay", len(theirs))
	}
	on.wantError(t, `mutation($inputs: [CreateEventInput!]!, $ids: [ID!]) { trackEvents(inputs: $inputs, ids: $ids) { id name } }`,
		map[string]any{"ids": theirs, "inputs": []any{map[string]any{"userID": anon, "name": "landing.view"}}}, "BAD_USER_INPUT", "trackEvents")
	// An anonymous caller cannot speak for a user, nor read anything.
	on.wantError(t, trackEvent, map[string]any{"input": map[string]any{"userID": userID(1), "name": "forged"}}, "UNAUTHENTICATED", "trackEvent")
	on.wantError(t, `{ events { totalCount } }`, nil, "UNAUTHENTICATED", "events")
	if n, _ := e.set.Analytics.Event.Query().Where(event.Name("forged")).Count(ctx); n != 0 {
		t.Error("an anonymous caller recorded an event of a user")
	}
	// Off (the default), anonymous tracking is refused.
	e.wantError(t, trackEvent, map[string]any{"input": map[string]any{"userID": anon, "name": "landing.view"}}, "UNAUTHENTICATED", "trackEvent")

	// Anonymous events are an admin's to see: no user's.
	count := `{ events(where: {userID: "` + anon + `"}) { totalCount } }`
	admin := e.session(t, userID(0), time.Now().Add(time.Hour))
	user1 := e.session(t, userID(1), time.Now().Add(time.Hour))
	for token, want := range map[string]string{admin: `{"events":{"totalCount":5}}`, user1: `{"events":{"totalCount":0}}`} {
		if r := e.as(token).do(t, count, nil); string(r.Data) != want {
			t.Errorf("got %s %+v, want %s", r.Data, r.Errors, want)
		}
	}
	if u, _ := e.set.Users.User.Query().Where(user.ID(access.AnonymousUser)).Count(ctx); u != 0 {
		t.Error("the anonymous user exists as an account")
	}
}

// TestDemoAccounts logs in with the demo credentials `make seed ENV=development` creates (and
// the README lists); production seeds create no account.
func TestDemoAccounts(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := demo.Run(ctx, e.set, demo.Seeders, config.Development, []string{"users"}, io.Discard); err != nil {
			t.Fatal(err)
		}
		h := e.with(t)
		admins := 0
		for _, u := range demo.DemoUsers {
			if u.Password == "" {
				h.wantError(t, logInDoc, map[string]any{"email": u.Email, "password": "admin-demo-password"}, "UNAUTHENTICATED", "logIn")
				continue
			}
			p := h.logIn(t, u.Email, u.Password)
			if p.User.ID != u.ID.String() || p.User.Role != string(u.Role) {
				t.Errorf("%s: logged in as %+v", u.Email, p.User)
			}
			if u.Role == user.RoleADMIN {
				admins++
			}
		}
		if admins != 1 {
			t.Errorf("%d demo admins can log in, want 1", admins)
		}
	})
}
