package graph_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multidb/multidb/ent/logs/auditentry"
	"github.com/multidb/multidb/ent/logs/logentry"
	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/internal/audit"
	"github.com/multidb/multidb/internal/requestid"
)

// drops counts the entries an audit writer drops.
type drops struct{ n atomic.Int64 }

func (d *drops) AuditDropped(n int) { d.n.Add(int64(n)) }

// TestAudit checks that every mutation leaves an audit entry in the logs database, and that
// a logs database that is down neither fails nor slows the mutations.
func TestAudit(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, mutationFixture)
		t.Run("every mutation is recorded", func(t *testing.T) { testAuditEntries(t, e) })
		t.Run("the logs database down", func(t *testing.T) { testAuditLogsDown(t, e) })
	})
}

// audited serves e with an audit writer, behind the request-id middleware as in serve.
func audited(t *testing.T, e *env, o audit.Options) (*env, *audit.Writer) {
	t.Helper()
	o.Logger = slog.New(slog.NewTextHandler(e.logs, nil))
	w := audit.New(e.set.Logs, o)
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	h := graph.NewHandler(e.set, graph.WithLogger(o.Logger), graph.WithAudit(w), graph.WithLoginLimits(nil, nil))
	c := *e
	c.srv = httptest.NewServer(requestid.Middleware(h))
	t.Cleanup(c.srv.Close)
	return &c, w
}

// send posts doc with a request id and, when set, e's token.
func (e *env) send(t *testing.T, reqID, doc string, vars map[string]any) response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": doc, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(requestid.Header, reqID)
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

func testAuditEntries(t *testing.T, e *env) {
	ctx := context.Background()
	h, w := audited(t, e, audit.Options{})
	user3 := h.as(e.session(t, userID(3), time.Now().Add(time.Hour)))
	user3.send(t, "audit-ok", updateUser, map[string]any{"id": userID(3), "input": map[string]any{"name": "Renamed"}})
	user3.send(t, "audit-not-found", updateUser, map[string]any{"id": userID(4), "input": map[string]any{"name": "Nope"}})
	user3.send(t, "audit-query", `{ me { id } }`, nil)
	h.send(t, "audit-anonymous", deleteUser, map[string]any{"id": userID(4)})
	h.send(t, "audit-login", logInDoc, map[string]any{"email": "nobody@example.com", "password": "whatever it is"})
	var signedUp struct{ SignUp authPayload }
	r := h.send(t, "audit-signup", signUpDoc, map[string]any{"email": "audited@example.com", "password": "audited password", "name": "Audited"})
	if err := json.Unmarshal(r.Data, &signedUp); err != nil || len(r.Errors) > 0 {
		t.Fatalf("signUp: %s %+v", r.Data, r.Errors)
	}
	newID := signedUp.SignUp.User.ID
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}

	rows, err := e.set.Logs.AuditEntry.Query().Where(auditentry.RequestIDHasPrefix("audit-")).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byReq := map[string]map[string]any{}
	for _, r := range rows {
		actor := "anonymous"
		if r.ActorID != nil {
			actor = r.ActorID.String()
		}
		byReq[orEmpty(r.RequestID)] = map[string]any{"operation": r.Operation, "outcome": r.Outcome, "actor": actor, "role": orEmpty(r.Role), "target": orEmpty(r.Target)}
	}
	// A failed log-in names its email by a digest: audit entries hold no address.
	sum := sha256.Sum256([]byte("nobody@example.com"))
	want := map[string]map[string]any{
		"audit-ok":        {"operation": "updateUser", "outcome": "ok", "actor": userID(3).String(), "role": "USER", "target": userID(3).String()},
		"audit-not-found": {"operation": "updateUser", "outcome": "NOT_FOUND", "actor": userID(3).String(), "role": "USER", "target": userID(4).String()},
		"audit-anonymous": {"operation": "deleteUser", "outcome": "UNAUTHENTICATED", "actor": "anonymous", "role": "", "target": userID(4).String()},
		"audit-login":     {"operation": "logIn", "outcome": "UNAUTHENTICATED", "actor": "anonymous", "role": "", "target": "email-sha256:" + hex.EncodeToString(sum[:8])},
		"audit-signup":    {"operation": "signUp", "outcome": "ok", "actor": newID, "role": "USER", "target": newID},
	}
	if len(byReq) != len(want) {
		t.Errorf("got audit entries for %d requests, want %d (queries are not audited): %v", len(byReq), len(want), byReq)
	}
	for req, fields := range want {
		got, _ := json.Marshal(byReq[req])
		exp, _ := json.Marshal(fields)
		if string(got) != string(exp) {
			t.Errorf("%s: got %s, want %s", req, got, exp)
		}
	}
	// Nothing of the audit trail reads as a log entry a user could have written.
	if n, err := e.set.Logs.LogEntry.Query().Where(logentry.RequestIDHasPrefix("audit-")).Count(ctx); err != nil || n != 0 {
		t.Errorf("got %d log entries of the audited requests (%v), want 0", n, err)
	}
}

func testAuditLogsDown(t *testing.T, e *env) {
	ctx := context.Background()
	var dropped drops
	// The writer waits 2s after a failed write: a mutation that waited on it would take that long.
	h, w := audited(t, e, audit.Options{Buffer: 2, Batch: 1, MinBackoff: 2 * time.Second, Dropped: &dropped})
	user := h.as(e.session(t, userID(4), time.Now().Add(time.Hour)))
	before, _ := e.set.Logs.AuditEntry.Query().Count(ctx)

	e.count.breakDB("logs", "down")
	const n = 8
	var slowest time.Duration
	for i := range n {
		start := time.Now()
		r := user.send(t, "down", updateUser, map[string]any{"id": userID(4), "input": map[string]any{"name": "Down " + string(rune('A'+i))}})
		slowest = max(slowest, time.Since(start))
		if len(r.Errors) > 0 {
			t.Fatalf("mutation %d with the logs database down: %+v", i, r.Errors)
		}
	}
	if slowest > time.Second {
		t.Errorf("the slowest mutation took %v with the logs database down", slowest)
	}
	if dropped.n.Load() == 0 {
		t.Error("no entry dropped with a buffer of 2 and the logs database down")
	}

	// Back up: what was kept is written, and stored plus dropped accounts for every mutation.
	e.count.heal()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	after, _ := e.set.Logs.AuditEntry.Query().Count(ctx)
	if stored := after - before; int64(stored)+dropped.n.Load() != n || stored == 0 {
		t.Errorf("stored %d, dropped %d; want %d in all, some stored", stored, dropped.n.Load(), n)
	}
}
