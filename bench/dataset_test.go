package bench

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/graph/account"
	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/testdb"
)

// The size of the data set: the figures in README are measured with these (and numEvents
// below). BENCH_SMALL=1 loads a tenth of it (a hundredth of the heavy user's events), with the
// same rows per user, for quicker profiling runs; its figures are not the README's.
var (
	numUsers = 10_000
	// heavyEvents are the events of the one heavy user of BenchmarkHeavyParent, beside numEvents.
	heavyEvents = 1_000_000
	numLogs     = 300_000
)

func init() {
	if os.Getenv("BENCH_SMALL") != "" {
		numUsers, numEvents, heavyEvents, numLogs = numUsers/10, numEvents/10, heavyEvents/100, numLogs/10
	}
}

// The shape of the data set.
const (
	// history is how far back events and log entries go; users were created over a year.
	history = 90 * 24 * time.Hour
	// Users 0, hotEvery, 2*hotEvery, ... are heavy users: together they own hotShare of the
	// events, about 2,000 each, while the others have about 80. users(first: 100) gets one.
	hotEvery = 100
	hotShare = 0.2
	// anonShare of the log entries name no user.
	anonShare = 0.2
	// sampleEvery: every sampleEvery-th event id is kept for node(id:).
	sampleEvery = 100
	seed        = 2026
)

// numEvents is the size of the events of the data set: 1,000,000, or BENCH_EVENTS (the
// analytics benchmarks' 10,000,000: BENCH_EVENTS=10000000).
var numEvents = func() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}()

// weighted is a value drawn with a relative weight.
type weighted struct {
	value  string
	weight int
}

var (
	eventNames = []weighted{
		{"page_view", 40}, {"click", 22}, {"login", 10}, {"search", 10},
		{"add_to_cart", 8}, {"checkout", 6}, {"signup", 4},
	}
	logLevels   = []weighted{{"DEBUG", 30}, {"INFO", 50}, {"WARN", 15}, {"ERROR", 5}}
	logMessages = []string{
		"request served", "user signed in", "cache miss", "slow query",
		"payment declined", "rate limited", "session expired", "email sent",
	}
	paths = []string{"/", "/pricing", "/docs", "/cart", "/checkout", "/account", "/search"}
)

// pick draws one value of ws.
func pick(r *rand.Rand, ws []weighted) string {
	total := 0
	for _, w := range ws {
		total += w.weight
	}
	n := r.IntN(total)
	for _, w := range ws {
		if n < w.weight {
			return w.value
		}
		n -= w.weight
	}
	return ws[len(ws)-1].value
}

// uuidV7 returns a UUID v7 for time t: the milliseconds of t, then random bits, so that ids
// sort by time as the application's own ids do.
func uuidV7(r *rand.Rand, t time.Time) uuid.UUID {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[:8], uint64(t.UnixMilli())<<16|uint64(r.Uint32()&0xffff))
	binary.BigEndian.PutUint64(u[8:], r.Uint64())
	u[6] = u[6]&0x0f | 0x70 // version 7
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}

// dataset is the loaded databases, the GraphQL endpoint over them, and ids to ask for.
type dataset struct {
	set    *database.Set
	srv    *httptest.Server
	client *http.Client
	token  string // the bearer token client sends
	count  *counter
	now    time.Time   // when the data set was generated; event times end here
	users  []uuid.UUID // every user, oldest first (users(first:) returns them in this order)
	events []uuid.UUID // a sample of the events
	// heavy holds heavyEvents events, light 10, for BenchmarkHeavyParent; both signed up
	// after every other user, so that no page of the other benchmarks shows them.
	heavy, light uuid.UUID
}

// shared is the one data set of a `go test -bench` run, loaded by the first benchmark that
// needs it and dropped by TestMain after the last.
var shared struct {
	once  sync.Once
	suite *suite
	data  *dataset
	err   error
}

func TestMain(m *testing.M) {
	shared.suite = newSuite()
	// An interrupted run still drops its databases: they hold some 400 MB.
	interrupt := make(chan os.Signal, 1)
	signal.Notify(interrupt, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-interrupt
		shared.suite.close()
		os.Exit(130)
	}()
	code := m.Run()
	signal.Stop(interrupt)
	if err := shared.suite.close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// data returns the shared data set, loading it on first use. Without PostgreSQL it skips b,
// or fails it when CI=true.
func data(b *testing.B) *dataset {
	b.Helper()
	testdb.RequirePostgres(b, true)
	shared.once.Do(func() { shared.data, shared.err = load(shared.suite) })
	if shared.err != nil {
		b.Fatalf("load the data set: %v", shared.err)
	}
	return shared.data
}

// load creates and migrates three PostgreSQL databases with the shipped migration files,
// bulk-loads them with COPY, and starts the GraphQL endpoint over them.
func load(s *suite) (d *dataset, err error) {
	defer stopped(&err)
	ctx := s.Context()
	start := time.Now()
	d = &dataset{count: newCounter(), now: start.UTC()}
	d.set = testdb.OpenMigrated(s, config.Postgres, database.WithDriverWrapper(d.count.wrap))
	migrated := time.Now()

	d.users = make([]uuid.UUID, numUsers)
	r := rand.New(rand.NewPCG(seed, 0))
	for i := range d.users {
		d.users[i] = uuidV7(r, d.userCreated(i))
	}
	d.events = make([]uuid.UUID, 0, numEvents/sampleEvery)
	d.heavy = uuidV7(r, d.now.Add(time.Hour))
	d.light = uuidV7(r, d.now.Add(2*time.Hour))

	loads := []struct {
		db   string
		fill func(context.Context, *sql.Tx) error
	}{
		{"users", func(ctx context.Context, tx *sql.Tx) error {
			if err := d.loadUsers(ctx, tx); err != nil {
				return err
			}
			for i, id := range []uuid.UUID{d.heavy, d.light} {
				_, err := tx.ExecContext(ctx, `INSERT INTO users (id, email, name, role, created_at, updated_at)
					VALUES ($1, $2, $3, 'USER', $4, $4)`, id, fmt.Sprintf("parent%d@bench.example", i), fmt.Sprintf("Bench Parent %d", i), d.now)
				if err != nil {
					return err
				}
			}
			return nil
		}},
		{"analytics", func(ctx context.Context, tx *sql.Tx) error {
			if err := d.loadEvents(ctx, tx); err != nil {
				return err
			}
			return d.loadParents(ctx, tx)
		}},
		{"logs", d.loadLogs},
	}
	took := make([]string, len(loads))
	errs := make([]error, len(loads))
	var wg sync.WaitGroup
	for i, l := range loads {
		wg.Go(func() {
			copied, vacuumed, err := bulkLoad(ctx, d.set.Get(l.db), l.fill)
			took[i] = fmt.Sprintf("%s %s + %s", l.db, copied.Round(time.Millisecond), vacuumed.Round(time.Millisecond))
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	loaded := time.Now()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d.srv = httptest.NewServer(graph.NewHandler(d.set, graph.WithLogger(logger)))
	s.Cleanup(d.srv.Close)
	// The graph serves signed-in callers only: the benchmarks run as an admin (user 7), who
	// sees every row, with a session issued as logIn would.
	token, _, err := account.Issue(ctx, d.set.Users, d.users[7], time.Now().Add(24*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("issue a session: %w", err)
	}
	d.token = token
	d.client = d.srv.Client()
	d.client.Transport = bearer{token: token, next: d.client.Transport}
	fmt.Printf("bench: data set of %d users, %d events, %d log entries loaded in %s: databases created and migrated in %s, then COPY + VACUUM ANALYZE, the databases in parallel, in %s (%s)\n",
		numUsers, numEvents, numLogs, loaded.Sub(start).Round(time.Millisecond),
		migrated.Sub(start).Round(time.Millisecond), loaded.Sub(migrated).Round(time.Millisecond), strings.Join(took, ", "))
	return d, nil
}

// bearer sends a session token with every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// bulkLoad runs fill in one transaction on a connection of its own (no statement timeout, and
// not through the counted driver), then VACUUM ANALYZE: fresh statistics, and a visibility map
// that lets the planner use index-only scans, as autovacuum would leave a live database. It
// returns how long each of the two took.
func bulkLoad(ctx context.Context, db *database.DB, fill func(context.Context, *sql.Tx) error) (copied, vacuumed time.Duration, err error) {
	start := time.Now()
	pool, err := sql.Open(db.Config.Driver, db.Config.DSN)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", db.Name, err)
	}
	defer pool.Close()
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", db.Name, err)
	}
	defer tx.Rollback()
	if err := fill(ctx, tx); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", db.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("%s: commit: %w", db.Name, err)
	}
	copied = time.Since(start)
	if _, err := pool.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
		return 0, 0, fmt.Errorf("%s: vacuum analyze: %w", db.Name, err)
	}
	return copied, time.Since(start) - copied, nil
}

// copyRows sends n rows to the columns of table with COPY ... FROM STDIN; row fills the
// values of row i into vals, one per column.
func copyRows(ctx context.Context, tx *sql.Tx, table string, columns []string, n int, row func(i int, vals []any)) error {
	quoted := make([]string, len(columns))
	for i, c := range columns {
		quoted[i] = pq.QuoteIdentifier(c)
	}
	copyStmt := fmt.Sprintf("COPY %s (%s) FROM STDIN", pq.QuoteIdentifier(table), strings.Join(quoted, ", "))
	stmt, err := tx.PrepareContext(ctx, copyStmt)
	if err != nil {
		return fmt.Errorf("%s: %w", copyStmt, err)
	}
	defer stmt.Close()
	vals := make([]any, len(columns))
	for i := range n {
		row(i, vals)
		if _, err := stmt.ExecContext(ctx, vals...); err != nil {
			return fmt.Errorf("%s: row %d: %w", copyStmt, i, err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil { // flushes the rows and ends the COPY
		return fmt.Errorf("%s: %w", copyStmt, err)
	}
	return nil
}

// userCreated is when user i signed up: the users joined, one after the other, over the
// year before the data set was made.
func (d *dataset) userCreated(i int) time.Time {
	const year = 365 * 24 * time.Hour
	return d.now.Add(-year + time.Duration(i)*(year/time.Duration(numUsers)))
}

// loadUsers writes d.users: distinct emails, one admin in a hundred.
func (d *dataset) loadUsers(ctx context.Context, tx *sql.Tx) error {
	return copyRows(ctx, tx, "users", []string{"id", "email", "name", "role", "created_at", "updated_at"}, numUsers,
		func(i int, v []any) {
			created := d.userCreated(i)
			role := "USER"
			if i%100 == 7 {
				role = "ADMIN"
			}
			v[0] = d.users[i].String()
			v[1] = fmt.Sprintf("user%05d@bench.example", i)
			v[2] = fmt.Sprintf("Bench User %d", i)
			v[3] = role
			v[4] = created
			v[5] = created
		})
}

// user draws the owner of an event: a heavy user hotShare of the time, else anyone.
func (d *dataset) user(r *rand.Rand) uuid.UUID {
	if r.Float64() < hotShare {
		return d.users[r.IntN(numUsers/hotEvery)*hotEvery]
	}
	return d.users[r.IntN(numUsers)]
}

// loadEvents writes numEvents events in time order over the last 90 days, with small JSON
// properties, and keeps a sample of their ids.
func (d *dataset) loadEvents(ctx context.Context, tx *sql.Tx) error {
	r := rand.New(rand.NewPCG(seed, 1))
	start := d.now.Add(-history)
	step := history / time.Duration(numEvents)
	var props []byte
	return copyRows(ctx, tx, "events", []string{"id", "user_id", "name", "properties", "occurred_at"}, numEvents,
		func(i int, v []any) {
			at := start.Add(time.Duration(i)*step + time.Duration(r.Int64N(int64(step))))
			id := uuidV7(r, at)
			if i%sampleEvery == 0 {
				d.events = append(d.events, id)
			}
			props = append(props[:0], `{"path":"`...)
			props = append(props, paths[r.IntN(len(paths))]...)
			props = append(props, `","value":`...)
			props = strconv.AppendInt(props, int64(r.IntN(1000)), 10)
			props = append(props, `,"mobile":`...)
			props = strconv.AppendBool(props, r.IntN(3) == 0)
			props = append(props, '}')
			v[0] = id.String()
			v[1] = d.user(r).String()
			v[2] = pick(r, eventNames)
			v[3] = string(props)
			v[4] = at
		})
}

// loadParents writes the events of the heavy and the light user, heavyEvents and 10, one a
// second back from now; the database makes the rows.
func (d *dataset) loadParents(ctx context.Context, tx *sql.Tx) error {
	for _, p := range []struct {
		id uuid.UUID
		n  int
	}{{d.heavy, heavyEvents}, {d.light, 10}} {
		_, err := tx.ExecContext(ctx, `INSERT INTO events (id, user_id, name, properties, occurred_at)
			SELECT gen_random_uuid(), $1, 'heavy', '{}', $2::timestamptz - make_interval(secs => i)
			FROM generate_series(1, $3) AS i`, p.id, d.now, p.n)
		if err != nil {
			return fmt.Errorf("events of a %d-event user: %w", p.n, err)
		}
	}
	return nil
}

// loadLogs writes numLogs log entries in time order over the last 90 days, anonShare of them
// naming no user.
func (d *dataset) loadLogs(ctx context.Context, tx *sql.Tx) error {
	r := rand.New(rand.NewPCG(seed, 2))
	start := d.now.Add(-history)
	step := history / time.Duration(numLogs)
	return copyRows(ctx, tx, "log_entries", []string{"id", "level", "message", "fields", "user_id", "request_id", "created_at"}, numLogs,
		func(i int, v []any) {
			at := start.Add(time.Duration(i)*step + time.Duration(r.Int64N(int64(step))))
			v[0] = uuidV7(r, at).String()
			v[1] = pick(r, logLevels)
			v[2] = logMessages[r.IntN(len(logMessages))]
			v[3] = `{"status":` + strconv.Itoa(200+100*r.IntN(4)) + `,"duration_ms":` + strconv.Itoa(r.IntN(500)) + `}`
			v[4] = nil
			if r.Float64() >= anonShare {
				v[4] = d.users[r.IntN(numUsers)].String()
			}
			v[5] = strconv.FormatUint(r.Uint64(), 16)
			v[6] = at
		})
}
