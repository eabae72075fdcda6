package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/internal/auth"
)

const addrHeader = "X-Test-Client"

// from posts doc as a client at addr (see graph.WithClientAddressHeader).
func (e *env) from(t *testing.T, addr, doc string, vars map[string]any) response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": doc, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(addrHeader, addr)
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	return decode(t, res)
}

func codes(r response) string {
	var c []string
	for _, err := range r.Errors {
		c = append(c, err.code())
	}
	return strings.Join(c, ",")
}

// TestStrangersCannotLockTheOwnerOut fails log-ins on one account from other addresses: the
// owner still logs in from their own address, while guessing from many addresses stays
// bounded by the account's limit.
func TestStrangersCannotLockTheOwnerOut(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		h := e.with(t,
			graph.WithClientAddressHeader(addrHeader),
			graph.WithLoginLimits(auth.NewLimiter(5, time.Hour), auth.NewLimiter(20, time.Hour)),
			graph.WithAccountLoginLimit(auth.NewLimiter(30, time.Hour)),
		)
		const email, password = "owner@example.com", "the owner's password"
		if r := h.from(t, "10.0.0.1", signUpDoc, map[string]any{"email": email, "password": password, "name": "Owner"}); len(r.Errors) > 0 {
			t.Fatalf("signUp: %+v", r.Errors)
		}
		wrong := map[string]any{"email": email, "password": "a wrong guess!"}
		right := map[string]any{"email": email, "password": password}

		// Five failures from one stranger's address: that address is refused, the owner is not,
		// from their own address or from a new one.
		for range 5 {
			h.from(t, "10.9.0.1", logInDoc, wrong)
		}
		if r := h.from(t, "10.9.0.1", logInDoc, right); codes(r) != "TOO_MANY_REQUESTS" {
			t.Errorf("a sixth attempt from the stranger's address: %q, want TOO_MANY_REQUESTS", codes(r))
		}
		if r := h.from(t, "10.0.0.1", logInDoc, right); len(r.Errors) > 0 {
			t.Errorf("the owner from their address after a stranger's failures: %+v", r.Errors)
		}
		if r := h.from(t, "10.0.0.2", logInDoc, right); len(r.Errors) > 0 {
			t.Errorf("the owner from a new address after a stranger's failures: %+v", r.Errors)
		}

		// Guessing from many addresses: past the account's 30 failures, new addresses are
		// refused whatever they send, the right password too.
		guesses, refused := 0, 0
		for i := range 60 {
			r := h.from(t, fmt.Sprintf("10.8.%d.%d", i/200, i%200), logInDoc, wrong)
			switch codes(r) {
			case "UNAUTHENTICATED":
				guesses++
			case "TOO_MANY_REQUESTS":
				refused++
			default:
				t.Fatalf("guess %d: %+v", i, r.Errors)
			}
		}
		if guesses > 30-5 || refused == 0 {
			t.Errorf("%d guesses checked, %d refused, from 60 addresses; want at most the account's limit checked", guesses, refused)
		}
		if r := h.from(t, "10.7.0.1", logInDoc, right); codes(r) != "TOO_MANY_REQUESTS" {
			t.Errorf("a new address past the account's limit: %q", codes(r))
		}
		// The owner's addresses, where they logged in before, still work.
		for _, addr := range []string{"10.0.0.1", "10.0.0.2"} {
			if r := h.from(t, addr, logInDoc, right); len(r.Errors) > 0 {
				t.Errorf("the owner from %s during a distributed guess: %+v", addr, r.Errors)
			}
		}
	})
}

// TestEmailChangesShareSignUpsBudget checks emails through aliased updateUser calls, each
// alias counted: past the address's budget they are refused as signUp is.
func TestEmailChangesShareSignUpsBudget(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, mutationFixture)
		h := e.with(t, graph.WithClientAddressHeader(addrHeader), graph.WithLoginLimits(nil, auth.NewLimiter(8, time.Hour)))
		user := h.as(e.session(t, userID(3), time.Now().Add(time.Hour)))
		var b strings.Builder
		b.WriteString("mutation($id: ID!) {")
		for i := range 5 {
			fmt.Fprintf(&b, " u%d: updateUser(id: $id, input: {email: \"probe%d@example.com\"}) { id }", i, i)
		}
		b.WriteString(" }")
		var allowed, refused int
		for range 3 {
			r := user.from(t, "10.1.0.1", b.String(), map[string]any{"id": userID(3)})
			for _, err := range r.Errors {
				if err.code() == "TOO_MANY_REQUESTS" {
					refused++
				}
			}
			allowed += 5 - len(r.Errors)
		}
		if refused == 0 || allowed > 8 {
			t.Errorf("15 aliased email changes: %d went through, %d refused; want at most the budget of 8", allowed, refused)
		}
		if r := h.from(t, "10.1.0.1", signUpDoc, map[string]any{"email": "late@example.com", "password": "long enough password", "name": "Late"}); codes(r) != "TOO_MANY_REQUESTS" {
			t.Errorf("signUp after the address spent its budget on email changes: %q", codes(r))
		}
		// A name change is no email check and is not counted.
		if r := user.from(t, "10.1.0.1", updateUser, map[string]any{"id": userID(3), "input": map[string]any{"name": "Renamed"}}); len(r.Errors) > 0 {
			t.Errorf("a name change: %+v", r.Errors)
		}
	})
}

// TestPasswordHashing checks that a refused createUser hashes nothing, and that past the
// gate's hashes running and waiting, sign-ups are refused with TOO_MANY_REQUESTS rather than
// queued: the gate never runs more hashes at once than it allows.
func TestPasswordHashing(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, mutationFixture)
		gate := auth.NewHashGate(1, 1, 50*time.Millisecond)
		h := e.with(t, graph.WithPasswordHashes(gate), graph.WithLoginLimits(nil, nil))
		user := h.as(e.session(t, userID(3), time.Now().Add(time.Hour)))
		var b strings.Builder
		b.WriteString("mutation {")
		for i := range 5 {
			fmt.Fprintf(&b, " c%d: createUser(input: {email: \"c%d@example.com\", name: \"C\"}, password: \"a long password %d\") { id }", i, i, i)
		}
		b.WriteString(" }")
		r := user.do(t, b.String(), nil)
		if codes(r) != "FORBIDDEN,FORBIDDEN,FORBIDDEN,FORBIDDEN,FORBIDDEN" {
			t.Errorf("createUser as a USER: %q", codes(r))
		}
		if n := gate.Runs(); n != 0 {
			t.Errorf("refused createUser calls ran %d hashes", n)
		}

		const n = 12
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[string]int{}
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				r := h.do(t, signUpDoc, map[string]any{"email": fmt.Sprintf("burst%d@example.com", i), "password": "a long password", "name": "Burst"})
				mu.Lock()
				got[codes(r)]++
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		if gate.Peak() > 1 {
			t.Errorf("%d hashes ran at once with a gate of 1", gate.Peak())
		}
		if got["TOO_MANY_REQUESTS"] == 0 || got[""] == 0 || got[""]+got["TOO_MANY_REQUESTS"] != n {
			t.Errorf("%d simultaneous sign-ups through a gate of 1 and a queue of 1: %v; want some through, the rest TOO_MANY_REQUESTS", n, got)
		}
	})
}

// TestAliasesCountOneByOne sends aliased logIns in one request: each counts against the
// limits, as separate requests would.
func TestAliasesCountOneByOne(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		h := e.with(t, graph.WithClientAddressHeader(addrHeader), graph.WithLoginLimits(auth.NewLimiter(3, time.Hour), nil))
		var b strings.Builder
		b.WriteString("mutation {")
		for i := range 5 {
			fmt.Fprintf(&b, " a%d: logIn(email: \"aliased@example.com\", password: \"guess number %d\") { token }", i, i)
		}
		b.WriteString(" }")
		r := h.from(t, "10.2.0.1", b.String(), nil)
		got := map[string]int{}
		for _, err := range r.Errors {
			got[err.code()]++
		}
		if got["UNAUTHENTICATED"] != 3 || got["TOO_MANY_REQUESTS"] != 2 {
			t.Errorf("5 aliased logIns with a limit of 3: %v", got)
		}
	})
}
