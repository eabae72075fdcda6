package bench

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/graph/account"
	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/testdb"
)

// The SQLite data set: a tenth of the default PostgreSQL one, of the same shape (one user in
// hotEvery owns hotShare of the events), in three SQLite files.
const (
	sqliteUsers  = 1_000
	sqliteEvents = 100_000
	sqliteLogs   = 30_000
)

// sqliteShared is the SQLite data set of a run, loaded by the first benchmark that needs it.
var sqliteShared struct {
	once sync.Once
	data *dataset
	err  error
}

// sqliteData returns the SQLite data set, loading it on first use.
func sqliteData(b *testing.B) *dataset {
	b.Helper()
	sqliteShared.once.Do(func() { sqliteShared.data, sqliteShared.err = loadSQLite(shared.suite) })
	if sqliteShared.err != nil {
		b.Fatalf("load the SQLite data set: %v", sqliteShared.err)
	}
	return sqliteShared.data
}

// BenchmarkStitchedQuerySQLite is BenchmarkStitchedQuery on the SQLite data set.
func BenchmarkStitchedQuerySQLite(b *testing.B) {
	d := sqliteData(b)
	for _, n := range []int{50, 100} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			body := request(b, stitchedQuery, map[string]any{"first": n})
			var out stitchedResult
			d.verify(b, body, &out)
			if got := len(out.Users.Edges); got != n {
				b.Fatalf("got %d users, want %d", got, n)
			}
			var want int
			err := d.set.Get("analytics").SQL.QueryRowContext(context.Background(),
				`SELECT count(*) FROM events WHERE user_id = ?`, d.users[0].String()).Scan(&want)
			if err != nil {
				b.Fatal(err)
			}
			first := out.Users.Edges[0].Node
			if first.Events.TotalCount != want || len(first.Events.Edges) != min(10, want) {
				b.Fatalf("user 0: got totalCount %d and %d events, want %d and %d", first.Events.TotalCount, len(first.Events.Edges), want, min(10, want))
			}
			for i, e := range out.Users.Edges {
				for _, ee := range e.Node.Events.Edges {
					if ee.Node.Name == "" || ee.Node.User == nil || ee.Node.User.Name != e.Node.Name {
						b.Fatalf("user %d: event without its name or user: %+v", i, ee.Node)
					}
				}
			}
			d.run(b, func() []byte { return body })
		})
	}
}

// loadSQLite creates and migrates three SQLite files with the shipped migration files, fills
// them in one transaction each, and starts the GraphQL endpoint over them.
func loadSQLite(s *suite) (d *dataset, err error) {
	defer stopped(&err)
	ctx := s.Context()
	start := time.Now()
	d = &dataset{count: newCounter(), now: start.UTC()}
	d.set = testdb.OpenMigrated(s, config.SQLite, database.WithDriverWrapper(d.count.wrap))

	r := rand.New(rand.NewPCG(seed, 10))
	const year = 365 * 24 * time.Hour
	created := func(i int) time.Time { return d.now.Add(-year + time.Duration(i)*(year/sqliteUsers)) }
	d.users = make([]uuid.UUID, sqliteUsers)
	for i := range d.users {
		d.users[i] = uuidV7(r, created(i))
	}
	owner := func() uuid.UUID {
		if r.Float64() < hotShare {
			return d.users[r.IntN(sqliteUsers/hotEvery)*hotEvery]
		}
		return d.users[r.IntN(sqliteUsers)]
	}
	fills := []struct {
		db, table string
		columns   []string
		n         int
		row       func(i int, v []any)
	}{
		{"users", "users", []string{"id", "email", "name", "role", "created_at", "updated_at"}, sqliteUsers, func(i int, v []any) {
			role := "USER"
			if i%100 == 7 {
				role = "ADMIN"
			}
			v[0], v[1], v[2], v[3] = d.users[i].String(), fmt.Sprintf("user%05d@bench.example", i), fmt.Sprintf("Bench User %d", i), role
			v[4], v[5] = created(i).UTC(), created(i).UTC()
		}},
		{"analytics", "events", []string{"id", "user_id", "name", "properties", "occurred_at"}, sqliteEvents, func(i int, v []any) {
			step := history / sqliteEvents
			at := d.now.Add(-history + time.Duration(i)*step + time.Duration(r.Int64N(int64(step)))).UTC()
			v[0], v[1], v[2] = uuidV7(r, at).String(), owner().String(), pick(r, eventNames)
			v[3] = `{"path":"` + paths[r.IntN(len(paths))] + `","value":` + strconv.Itoa(r.IntN(1000)) + `}`
			v[4] = at
		}},
		{"logs", "log_entries", []string{"id", "level", "message", "fields", "user_id", "request_id", "created_at"}, sqliteLogs, func(i int, v []any) {
			step := history / sqliteLogs
			at := d.now.Add(-history + time.Duration(i)*step + time.Duration(r.Int64N(int64(step)))).UTC()
			v[0], v[1], v[2] = uuidV7(r, at).String(), pick(r, logLevels), logMessages[r.IntN(len(logMessages))]
			v[3] = `{"status":` + strconv.Itoa(200+100*r.IntN(4)) + `}`
			v[4] = nil
			if r.Float64() >= anonShare {
				v[4] = d.users[r.IntN(sqliteUsers)].String()
			}
			v[5], v[6] = strconv.FormatUint(r.Uint64(), 16), at
		}},
	}
	for _, f := range fills {
		if err := insertRows(ctx, d.set.Get(f.db).SQL, f.table, f.columns, f.n, f.row); err != nil {
			return nil, fmt.Errorf("%s: %w", f.db, err)
		}
	}
	loaded := time.Now()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d.srv = httptest.NewServer(graph.NewHandler(d.set, graph.WithLogger(logger)))
	s.Cleanup(d.srv.Close)
	token, _, err := account.Issue(ctx, d.set.Users, d.users[7], time.Now().Add(24*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("issue a session: %w", err)
	}
	d.token = token
	d.client = d.srv.Client()
	d.client.Transport = bearer{token: token, next: d.client.Transport}
	fmt.Printf("bench: SQLite data set of %d users, %d events, %d log entries loaded in %s\n",
		sqliteUsers, sqliteEvents, sqliteLogs, loaded.Sub(start).Round(time.Millisecond))
	return d, nil
}

// insertRows inserts n rows into the columns of table in one transaction, with one prepared
// INSERT, then runs ANALYZE for the planner.
func insertRows(ctx context.Context, db *sql.DB, table string, columns []string, n int, row func(i int, vals []any)) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ")
	stmt, err := tx.PrepareContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table, strings.Join(columns, ", "), marks))
	if err != nil {
		return err
	}
	defer stmt.Close()
	vals := make([]any, len(columns))
	for i := range n {
		row(i, vals)
		if _, err := stmt.ExecContext(ctx, vals...); err != nil {
			return fmt.Errorf("%s: row %d: %w", table, i, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "ANALYZE")
	return err
}
