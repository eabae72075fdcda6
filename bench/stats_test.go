package bench

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"
)

const statsByNameDayQuery = `query Stats($from: Time!, $to: Time!) {
  eventStats(from: $from, to: $to, bucket: DAY, groupBy: [{by: NAME}]) { start keys count }
}`

const statsByNameDayUniquesQuery = `query Stats($from: Time!, $to: Time!) {
  eventStats(from: $from, to: $to, bucket: DAY, groupBy: [{by: NAME}]) { start keys count uniqueUsers }
}`

// statsByNameDayRawQuery asks the same as statsByNameDayQuery with a where that selects every
// event but is not on the name, so that it is answered from the events, not the rollups.
const statsByNameDayRawQuery = `query Stats($from: Time!, $to: Time!) {
  eventStats(from: $from, to: $to, bucket: DAY, groupBy: [{by: NAME}], where: {idNEQ: "00000000-0000-0000-0000-000000000000"}) { start keys count }
}`

const statsWeeklyUniquesQuery = `query Weekly($from: Time!, $to: Time!) {
  eventStats(from: $from, to: $to, bucket: WEEK, timezone: "Europe/Berlin") { start count uniqueUsers }
}`

const funnelQuery = `query Funnel($from: Time!, $to: Time!) {
  funnel(steps: ["signup", "add_to_cart", "checkout"], within: "24h", from: $from, to: $to) { name users conversion }
}`

type statsOut struct {
	EventStats []struct {
		Count, UniqueUsers int
	}
}

// statsRange is the benchmarks' range: the last days of the data set, whole seconds.
func (d *dataset) statsRange(days int) (time.Time, time.Time) {
	to := d.now.Add(time.Second).Truncate(time.Second)
	return to.Add(-time.Duration(days) * 24 * time.Hour), to
}

// eventsBetween counts the events of [from, to) with SQL, to check the answers against.
func (d *dataset) eventsBetween(b *testing.B, from, to time.Time) int {
	b.Helper()
	var n int
	err := d.set.Get("analytics").SQL.QueryRowContext(context.Background(),
		`SELECT count(*) FROM events WHERE occurred_at >= $1 AND occurred_at < $2`, from, to).Scan(&n)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func benchStats(b *testing.B, doc string, days int) {
	d := data(b)
	from, to := d.statsRange(days)
	body := request(b, doc, map[string]any{"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339)})
	var out statsOut
	d.verify(b, body, &out)
	sum := 0
	for _, s := range out.EventStats {
		sum += s.Count
	}
	if want := d.eventsBetween(b, from, to); sum != want || want == 0 {
		b.Fatalf("the buckets hold %d events, want %d", sum, want)
	}
	d.run(b, func() []byte { return body })
}

// BenchmarkStatsByNameDay counts events by name and day over 90 days: a dashboard's chart.
// The range ends on the second the data set was made, so the last, partial hour is read from
// the events and the rest from the rollups.
func BenchmarkStatsByNameDay(b *testing.B) { benchStats(b, statsByNameDayQuery, 90) }

// BenchmarkStatsByNameDayUniques adds the unique users of each day and name: exact, from the
// rollup of (hour, name, user).
func BenchmarkStatsByNameDayUniques(b *testing.B) { benchStats(b, statsByNameDayUniquesQuery, 90) }

// BenchmarkStatsByNameDayRaw is BenchmarkStatsByNameDay answered from the events, as a USER's
// question or one with a where on more than the name is: the cost without the rollups.
// Past 5,000,000 events it nears the 15 s request timeout on a busy machine (README), and
// is skipped rather than left to fail now and then.
func BenchmarkStatsByNameDayRaw(b *testing.B) {
	if numEvents > 5_000_000 {
		b.Skipf("%d events: counting them all nears the request timeout; measure it with the default BENCH_EVENTS", numEvents)
	}
	benchStats(b, statsByNameDayRawQuery, 90)
}

// BenchmarkStatsWeeklyUniques counts unique users per week in Europe/Berlin over 90 days.
func BenchmarkStatsWeeklyUniques(b *testing.B) { benchStats(b, statsWeeklyUniquesQuery, 90) }

// BenchmarkFunnel3Steps is a 3-step funnel over 30 days, within a day.
func BenchmarkFunnel3Steps(b *testing.B) {
	d := data(b)
	from, to := d.statsRange(30)
	body := request(b, funnelQuery, map[string]any{"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339)})
	var out struct {
		Funnel []struct{ Users int }
	}
	d.verify(b, body, &out)
	if len(out.Funnel) != 3 || out.Funnel[0].Users == 0 || out.Funnel[2].Users > out.Funnel[1].Users || out.Funnel[1].Users > out.Funnel[0].Users {
		b.Fatalf("funnel: %+v", out.Funnel)
	}
	d.run(b, func() []byte { return body })
}

// ingestBatch is the events per transaction of BenchmarkRollupIngest: a full trackEvents.
const ingestBatch = 1000

// ingestName is the name of the events BenchmarkRollupIngest writes, which no other
// benchmark asks for by name.
const ingestName = "bench_ingest"

// BenchmarkRollupIngest writes ingestBatch events per transaction, with the rollup triggers
// on, and checks after each commit that the rollups hold every event written so far: they
// are current at commit, never behind. Its events are of the last 5 minutes but for one in
// 20, a late event of the last 90 days. It reports events/s over the wall time, which
// includes the check after each commit, and the time of one insert and commit.
// Sub-benchmarks: a multi-row INSERT, COPY, 4 writers at once with multi-row INSERTs on the
// same hours, and for comparison a multi-row INSERT with the triggers off
// (session_replication_role), whose events are deleted the same way afterwards.
func BenchmarkRollupIngest(b *testing.B) {
	d := data(b)
	ctx := context.Background()
	pool := d.set.Get("analytics").SQL
	// The events written with the triggers off go again the same way, leaving the rollups
	// as they were.
	b.Cleanup(func() {
		tx, err := pool.BeginTx(context.Background(), nil)
		if err != nil {
			return
		}
		defer tx.Rollback()
		if _, err := tx.Exec(`SET LOCAL session_replication_role = replica`); err != nil {
			return
		}
		if _, err := tx.Exec(`DELETE FROM events WHERE name = $1`, ingestName+"_plain"); err == nil {
			tx.Commit()
		}
	})
	rolled := func(b *testing.B) int64 {
		var n int64
		err := pool.QueryRowContext(ctx, `SELECT COALESCE(sum(count), 0) FROM event_hour_counts WHERE name = $1`, ingestName).Scan(&n)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	type writeFn func(ctx context.Context, tx *sql.Tx, rows [][]any) error
	insert := func(triggers bool) writeFn {
		var q strings.Builder
		q.WriteString("INSERT INTO events (id, user_id, name, properties, occurred_at) VALUES ")
		for i := range ingestBatch {
			if i > 0 {
				q.WriteString(", ")
			}
			fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d)", 5*i+1, 5*i+2, 5*i+3, 5*i+4, 5*i+5)
		}
		stmt := q.String()
		return func(ctx context.Context, tx *sql.Tx, rows [][]any) error {
			args := make([]any, 0, 5*len(rows))
			for _, r := range rows {
				args = append(args, r...)
			}
			if !triggers {
				// The same table and indexes, with its triggers off for this transaction.
				if _, err := tx.ExecContext(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
					return err
				}
				for i := 2; i < len(args); i += 5 {
					args[i] = ingestName + "_plain"
				}
			}
			_, err := tx.ExecContext(ctx, stmt, args...)
			return err
		}
	}
	copyIn := func(ctx context.Context, tx *sql.Tx, rows [][]any) error {
		stmt, err := tx.PrepareContext(ctx, pq.CopyIn("events", "id", "user_id", "name", "properties", "occurred_at"))
		if err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := stmt.ExecContext(ctx, r...); err != nil {
				return err
			}
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			return err
		}
		return stmt.Close()
	}
	for _, c := range []struct {
		name    string
		write   writeFn
		writers int
		rollups bool
	}{
		{"insert", insert(true), 1, true},
		{"copy", copyIn, 1, true},
		{"insert-4-writers", insert(true), 4, true},
		{"insert-no-triggers", insert(false), 1, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			start := rolled(b)
			var (
				mu      sync.Mutex
				busy    time.Duration // the writers' inserts and commits, summed
				written int64
				stale   int // commits after which the rollups missed events
				next    = 0
			)
			work := func(w int) error {
				r := rand.New(rand.NewPCG(seed, uint64(100+w)))
				rows := make([][]any, ingestBatch)
				for {
					mu.Lock()
					if next >= b.N {
						mu.Unlock()
						return nil
					}
					next++
					mu.Unlock()
					now := time.Now()
					for i := range rows {
						at := now.Add(-time.Duration(r.Int64N(int64(5 * time.Minute))))
						if r.IntN(20) == 0 {
							at = now.Add(-time.Duration(r.Int64N(int64(history))))
						}
						rows[i] = []any{uuidV7(r, at).String(), d.user(r).String(), ingestName, `{"path":"/"}`, at}
					}
					t0 := time.Now()
					tx, err := pool.BeginTx(ctx, nil)
					if err != nil {
						return err
					}
					if err := c.write(ctx, tx, rows); err != nil {
						tx.Rollback()
						return err
					}
					if err := tx.Commit(); err != nil {
						return err
					}
					took := time.Since(t0)
					mu.Lock()
					busy += took
					written += ingestBatch
					done := written
					mu.Unlock()
					// The rollups hold at least every event of the commits done so far.
					if c.rollups {
						if got := rolled(b) - start; got < done {
							mu.Lock()
							stale++
							mu.Unlock()
						}
					}
				}
			}
			b.ResetTimer()
			wall := time.Now()
			errs := make(chan error, c.writers)
			for w := range c.writers {
				go func() { errs <- work(w) }()
			}
			for range c.writers {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
			elapsed := time.Since(wall)
			b.StopTimer()
			if c.rollups {
				if got := rolled(b) - start; got != written || stale > 0 {
					b.Fatalf("the rollups gained %d events of %d written; %d commits found them behind", got, written, stale)
				}
			}
			b.ReportMetric(float64(written)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(busy.Microseconds())/float64(b.N), "µs-per-commit")
		})
	}
}
