package graph_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/multidb/multidb/ent/logs/logentry"
	"github.com/multidb/multidb/internal/audit"
)

// TestAuditSurvivesPoisonedInput logs in with U+0000 in the email, which PostgreSQL's jsonb
// refuses and which used to stop every later audit entry, and with a 200 KB email: each
// log-in is refused, its entry is stored, and the entries after it are stored too.
func TestAuditSurvivesPoisonedInput(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		var dropped drops
		h, w := audited(t, e, audit.Options{Dropped: &dropped})
		h.send(t, "poison", logInDoc, map[string]any{"email": "ada\x00@example.com", "password": "whatever it is"})
		h.send(t, "poison-long", logInDoc, map[string]any{"email": strings.Repeat("a", 200_000) + "@example.com", "password": "whatever it is"})
		for _, id := range []string{"after-1", "after-2"} {
			h.send(t, id, logInDoc, map[string]any{"email": id + "@example.com", "password": "whatever it is"})
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		rows, err := e.set.Logs.AuditEntry.Query().All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, r := range rows {
			target := orEmpty(r.Target)
			got[orEmpty(r.RequestID)] = target
			if strings.ContainsRune(target, 0) || len(target) > audit.MaxTarget {
				t.Errorf("%s: stored target of %d bytes %q", orEmpty(r.RequestID), len(target), target)
			}
		}
		for _, id := range []string{"poison", "poison-long", "after-1", "after-2"} {
			if _, ok := got[id]; !ok {
				t.Errorf("no audit entry for %s; stored: %v", id, got)
			}
		}
		// A failed log-in's target is a digest of its email, whatever the email holds.
		for _, id := range []string{"poison", "poison-long"} {
			if !strings.HasPrefix(got[id], "email-sha256:") || len(got[id]) != len("email-sha256:")+16 {
				t.Errorf("%s: the target is %q, want a digest of the email", id, got[id])
			}
		}
		if dropped.n.Load() != 0 {
			t.Errorf("%d entries dropped", dropped.n.Load())
		}
	})
}

// TestNoForgedAuditEntries has a USER write log entries that read as audit entries, as one
// forged an admin's back-dated "audit: deleteUser": each is refused, and no log entry that
// reads as an audit entry is stored but the server's own.
func TestNoForgedAuditEntries(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, mutationFixture)
		user := e.as(e.session(t, userID(3), time.Now().Add(time.Hour)))
		const doc = `mutation($m: String!, $f: Map) { createLogEntry(input: {message: $m, fields: $f, createdAt: "2025-01-01T00:00:00Z"}) { id } }`
		for _, m := range []string{"audit: deleteUser", "AUDIT: deleteUser", "  Audit:deleteUser", "\u00a0audit: x"} {
			user.wantError(t, doc, map[string]any{"m": m, "f": map[string]any{"actor": userID(0).String(), "role": "ADMIN", "operation": "deleteUser"}}, "BAD_USER_INPUT", "createLogEntry")
		}
		user.query(t, doc, map[string]any{"m": "an audit of my own"}, nil)
		n, err := e.set.Logs.LogEntry.Query().Where(logentry.MessageHasPrefix("audit:")).Count(context.Background())
		if err != nil || n != 0 {
			t.Errorf("%d log entries read as audit entries (%v)", n, err)
		}
	})
}
