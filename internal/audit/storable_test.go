package audit_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/multidb/multidb/ent/logs/auditentry"
	"github.com/multidb/multidb/internal/audit"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/testdb"
)

// TestValuesAreMadeStorable records entries whose values PostgreSQL's text and jsonb refuse
// (NUL, invalid UTF-8) or that are far too long, and finds them stored, cleaned and cut.
func TestValuesAreMadeStorable(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			t.Parallel()
			set := testdb.OpenMigrated(t, d)
			w := audit.New(set.Logs, audit.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			w.Record(audit.Entry{Operation: "logIn", Outcome: "UNAUTHENTICATED", Target: "a\x00b@example.com", RequestID: "nul"})
			w.Record(audit.Entry{Operation: "logIn", Outcome: "UNAUTHENTICATED", Target: "a\xffb@example.com", RequestID: "utf8"})
			w.Record(audit.Entry{Operation: "logIn\x00" + strings.Repeat("o", 500), Outcome: "UNAUTHENTICATED", Target: strings.Repeat("é", 200_000), RequestID: "long"})
			if err := w.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			rows, err := set.Logs.AuditEntry.Query().All(context.Background())
			if err != nil || len(rows) != 3 {
				t.Fatalf("stored %d entries (%v), want 3", len(rows), err)
			}
			for _, r := range rows {
				target, op := orEmpty(r.Target), r.Operation
				if strings.ContainsRune(target, 0) || !utf8.ValidString(target) || len(target) > audit.MaxTarget || len(op) > audit.MaxOperation {
					t.Errorf("%s: stored target %q (%d bytes), operation %q", orEmpty(r.RequestID), target, len(target), op)
				}
				if orEmpty(r.RequestID) == "long" && !strings.HasSuffix(target, audit.Truncated) {
					t.Errorf("a cut target does not end with %q: %q", audit.Truncated, target)
				}
			}
		})
	}
}

// refusing makes the logs database refuse, as PostgreSQL refuses NUL in jsonb (SQLSTATE
// 22P05), every INSERT that holds a value containing marker: the entries are storable by the
// writer's rules, the database still will not take them.
type refusing struct {
	dialect.Driver
	marker string
	tries  *atomic.Int64
}

func (d refusing) Exec(ctx context.Context, query string, args, v any) error {
	if strings.HasPrefix(query, "INSERT") && holds(args, d.marker) {
		d.tries.Add(1)
		return &pq.Error{Code: "22P05", Message: "unsupported Unicode escape sequence"}
	}
	return d.Driver.Exec(ctx, query, args, v)
}

func (d refusing) Query(ctx context.Context, query string, args, v any) error {
	if strings.HasPrefix(query, "INSERT") && holds(args, d.marker) {
		d.tries.Add(1)
		return &pq.Error{Code: "22P05", Message: "unsupported Unicode escape sequence"}
	}
	return d.Driver.Query(ctx, query, args, v)
}

// holds reports whether one of the statement's arguments holds marker; the fields of an
// entry are sent as JSON bytes.
func holds(args any, marker string) bool {
	list, _ := args.([]any)
	for _, a := range list {
		if strings.Contains(fmt.Sprintf("%s", a), marker) {
			return true
		}
	}
	return false
}

type unstorable struct{ n, dropped atomic.Int64 }

func (u *unstorable) AuditUnstorable(n int) { u.n.Add(int64(n)) }
func (u *unstorable) AuditDropped(n int)    { u.dropped.Add(int64(n)) }

// TestARefusedEntryIsSplitOut has the database refuse one entry of a batch for its data: the
// other entries of the batch and every later one are stored, the refused one is counted as
// unstorable and stored without its target, and it is tried a bounded number of times.
func TestARefusedEntryIsSplitOut(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			t.Parallel()
			var tries atomic.Int64
			set := testdb.OpenMigrated(t, d, database.WithDriverWrapper(func(name string, drv dialect.Driver) dialect.Driver {
				if name != "logs" {
					return drv
				}
				return refusing{Driver: drv, marker: "poison", tries: &tries}
			}))
			var counts unstorable
			w := audit.New(set.Logs, audit.Options{Batch: 16, Dropped: &counts, Unstorable: &counts, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			const n = 40
			for i := range n {
				target := fmt.Sprintf("user-%d", i)
				if i == 7 {
					target = "poison@example.com"
				}
				w.Record(audit.Entry{Actor: uuid.Must(uuid.NewV7()), Role: "USER", Operation: "logIn", Outcome: "UNAUTHENTICATED", Target: target, RequestID: fmt.Sprint(i)})
			}
			if err := w.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			stored, err := set.Logs.AuditEntry.Query().Count(ctx)
			if err != nil || stored != n {
				t.Errorf("stored %d entries (%v), want all %d, the refused one reduced", stored, err, n)
			}
			reduced, _ := set.Logs.AuditEntry.Query().Where(auditentry.RequestIDIsNil()).All(ctx)
			if len(reduced) != 1 || orEmpty(reduced[0].Target) != audit.UnstorableTarget {
				t.Errorf("reduced entries: %+v, want one with target %q", reduced, audit.UnstorableTarget)
			}
			if counts.n.Load() != 1 || counts.dropped.Load() != 0 {
				t.Errorf("unstorable %d, dropped %d; want 1 and 0", counts.n.Load(), counts.dropped.Load())
			}
			// The batch of 16 holding it is halved down to the entry: log2(16)+1 refusals.
			if got := tries.Load(); got > 5 {
				t.Errorf("the refused entry was tried %d times, want at most 5", got)
			}
		})
	}
}

// orEmpty reads an optional text field as the empty string when it is null.
func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
