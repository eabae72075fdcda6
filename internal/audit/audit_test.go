package audit_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/logs/auditentry"
	"github.com/multidb/multidb/internal/audit"
	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/testdb"
)

// logsDriver counts the INSERTs into the logs database and can make them fail or hang.
type logsDriver struct {
	dialect.Driver
	inserts *atomic.Int64
	mode    *atomic.Value // "", "fail" or "hang"
}

var errDown = errors.New("logs database down")

func (d logsDriver) Exec(ctx context.Context, query string, args, v any) error {
	if err := d.check(ctx, query); err != nil {
		return err
	}
	return d.Driver.Exec(ctx, query, args, v)
}

func (d logsDriver) Query(ctx context.Context, query string, args, v any) error {
	if err := d.check(ctx, query); err != nil {
		return err
	}
	return d.Driver.Query(ctx, query, args, v)
}

func (d logsDriver) check(ctx context.Context, query string) error {
	if !strings.HasPrefix(query, "INSERT") {
		return nil
	}
	switch d.mode.Load() {
	case "fail":
		return errDown
	case "hang":
		<-ctx.Done()
		return ctx.Err()
	}
	d.inserts.Add(1)
	return nil
}

type fixture struct {
	set     *database.Set
	inserts atomic.Int64
	mode    atomic.Value
	dropped atomic.Int64
}

func (f *fixture) AuditDropped(n int) { f.dropped.Add(int64(n)) }

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{}
	f.mode.Store("")
	f.set = testdb.OpenMigrated(t, config.SQLite, database.WithDriverWrapper(func(name string, d dialect.Driver) dialect.Driver {
		if name != "logs" {
			return d
		}
		return logsDriver{Driver: d, inserts: &f.inserts, mode: &f.mode}
	}))
	return f
}

func (f *fixture) writer(o audit.Options) *audit.Writer {
	o.Dropped = f
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return audit.New(f.set.Logs, o)
}

func (f *fixture) stored(t *testing.T) int {
	t.Helper()
	n, err := f.set.Logs.AuditEntry.Query().Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func entry(i int) audit.Entry {
	return audit.Entry{Actor: uuid.Must(uuid.NewV7()), Role: "USER", Operation: "updateUser", Outcome: audit.OutcomeOK, RequestID: "req-" + strings.Repeat("x", i%3)}
}

func TestEntriesAreStoredInBatches(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	w := f.writer(audit.Options{Batch: 100})
	const n = 500
	for i := range n {
		if !w.Record(entry(i)) {
			t.Fatalf("entry %d dropped with room in the buffer", i)
		}
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.stored(t); got != n {
		t.Errorf("stored %d entries, want %d", got, n)
	}
	if ins := f.inserts.Load(); ins >= n/4 {
		t.Errorf("%d INSERTs for %d entries: not batched", ins, n)
	}
	if err := w.Close(context.Background()); !errors.Is(err, audit.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if w.Record(entry(0)) || f.dropped.Load() != 1 {
		t.Errorf("Record after Close: kept, or not counted as dropped (%d)", f.dropped.Load())
	}
}

func TestWhatIsStored(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	w := f.writer(audit.Options{})
	actor := uuid.Must(uuid.NewV7())
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	w.Record(audit.Entry{Time: at, Actor: actor, Role: "ADMIN", Operation: "deleteUser", Outcome: audit.OutcomeOK, Target: "u-1", RequestID: "req-1"})
	w.Record(audit.Entry{Time: at, Operation: "logIn", Outcome: "UNAUTHENTICATED", Target: "ada@example.com", RequestID: "req-2"})
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows, err := f.set.Logs.AuditEntry.Query().Order(auditentry.ByRequestID()).All(context.Background())
	if err != nil || len(rows) != 2 {
		t.Fatalf("got %d rows (%v), want 2", len(rows), err)
	}
	ok, failed := rows[0], rows[1]
	if ok.Operation != "deleteUser" || ok.ActorID == nil || *ok.ActorID != actor || orEmpty(ok.Role) != "ADMIN" ||
		ok.Outcome != "ok" || orEmpty(ok.Target) != "u-1" || orEmpty(ok.RequestID) != "req-1" || !ok.CreatedAt.Equal(at) {
		t.Errorf("success stored as %+v", ok)
	}
	if failed.ActorID != nil || failed.Operation != "logIn" || failed.Outcome != "UNAUTHENTICATED" {
		t.Errorf("failure stored as %+v", failed)
	}
	// The audit trail is a table of its own: nothing of it reads as a log entry.
	if n, err := f.set.Logs.LogEntry.Query().Count(context.Background()); err != nil || n != 0 {
		t.Errorf("got %d log entries (%v), want 0", n, err)
	}
}

func TestFailedWritesAreRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mode.Store("fail")
	w := f.writer(audit.Options{MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	for i := range 5 {
		w.Record(entry(i))
	}
	time.Sleep(100 * time.Millisecond) // a few failed attempts
	f.mode.Store("")
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.stored(t); got != 5 || f.dropped.Load() != 0 {
		t.Errorf("stored %d, dropped %d; want 5 and 0 once the database is back", got, f.dropped.Load())
	}
}

// TestRecordNeverWaits fills the buffer while every INSERT hangs: Record returns at once and
// counts what it drops, and Close gives up when its context ends, counting the rest.
func TestRecordNeverWaits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mode.Store("hang")
	w := f.writer(audit.Options{Buffer: 10, Batch: 5, Timeout: time.Hour})
	const n = 1000
	var slowest time.Duration
	var wg sync.WaitGroup
	var mu sync.Mutex
	for g := range 4 {
		wg.Go(func() {
			for i := range n / 4 {
				start := time.Now()
				w.Record(entry(g*n + i))
				mu.Lock()
				slowest = max(slowest, time.Since(start))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// A Record that waited would wait for ever: the INSERTs hang until Close gives up.
	if slowest > 500*time.Millisecond {
		t.Errorf("the slowest Record took %v with the database hanging", slowest)
	}
	if d := f.dropped.Load(); d < n-10-5 {
		t.Errorf("dropped %d of %d with a buffer of 10 and a batch of 5", d, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := w.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close: %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v after its context ended", d)
	}
	if d := f.dropped.Load(); d != n {
		t.Errorf("dropped %d in all, want every one of the %d entries counted", d, n)
	}
}
