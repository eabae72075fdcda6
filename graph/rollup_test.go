package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/multidb/multidb/graph/stats"
	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/testdb"
)

// rollupQuestions are eventStats questions that PostgreSQL answers from its rollups for an
// ADMIN (rolls), with edges off the hour, which it reads from the events, and a few that
// it must answer from the events alone.
var rollupQuestions = []struct {
	statsQuestion
	rolls bool
}{
	{statsQuestion{name: "days in Berlin by name, ragged edges", from: "2026-03-26T00:17:00Z", to: "2026-04-02T13:45:30Z", bucket: "DAY", tz: "Europe/Berlin", groups: []string{"NAME"}}, true},
	{statsQuestion{name: "hours in Berlin over the spring change, ragged", from: "2026-03-28T20:59:59Z", to: "2026-03-29T06:00:01Z", bucket: "HOUR", tz: "Europe/Berlin"}, true},
	{statsQuestion{name: "hours in Berlin over the autumn change", from: "2026-10-24T22:00:00Z", to: "2026-10-25T05:00:00Z", bucket: "HOUR", tz: "Europe/Berlin", groups: []string{"NAME"}}, true},
	{statsQuestion{name: "days in Berlin over the autumn change", from: "2026-10-20T00:00:00Z", to: "2026-10-30T00:00:00Z", bucket: "DAY", tz: "Europe/Berlin"}, true},
	{statsQuestion{name: "weeks in New York, views", from: "2026-03-20T00:00:00Z", to: "2026-04-10T00:00:00Z", bucket: "WEEK", tz: "America/New_York", onlyName: "view"}, true},
	{statsQuestion{name: "months by name", from: "2026-03-01T00:00:00Z", to: "2026-11-01T00:00:00Z", bucket: "MONTH", groups: []string{"NAME"}}, true},
	{statsQuestion{name: "one total, ragged", from: "2026-03-27T12:00:01Z", to: "2026-03-30T12:30:00Z"}, true},
	{statsQuestion{name: "no whole hour", from: "2026-03-29T00:10:00Z", to: "2026-03-29T01:50:00Z", groups: []string{"NAME"}}, false},
	{statsQuestion{name: "half-hour zone", from: "2026-03-26T00:00:00Z", to: "2026-03-28T00:00:00Z", bucket: "DAY", tz: "Asia/Kolkata", groups: []string{"NAME"}}, false},
	{statsQuestion{name: "by path", from: "2026-03-26T00:00:00Z", to: "2026-03-30T00:00:00Z", bucket: "DAY", groups: []string{"path"}}, false},
}

const eventCountsDoc = `query($where: EventWhereInput, $from: Time!, $to: Time!, $groupBy: [EventGroup!], $bucket: StatsBucket, $tz: String) {
  eventStats(where: $where, from: $from, to: $to, groupBy: $groupBy, bucket: $bucket, timezone: $tz) { start end keys count }
}`

// rollupEvents are more events for the hours of statsEvents: n of them, from rng.
func rollupEvents(rng *rand.Rand, n int) []rawEvent {
	names := []string{"signup", "view", "checkout"}
	start := time.Date(2026, 3, 26, 0, 0, 0, 0, time.UTC)
	out := make([]rawEvent, n)
	for i := range out {
		out[i] = rawEvent{
			user: userID(rng.IntN(5)),
			name: names[rng.IntN(len(names))],
			at:   start.Add(time.Duration(rng.Int64N(int64(8*24*time.Hour/time.Microsecond))) * time.Microsecond),
		}
		if rng.IntN(2) == 0 {
			out[i].props = map[string]any{"path": "/copy"}
		}
	}
	return out
}

// copyEvents stores evs with COPY, as a bulk loader would: the triggers see COPY's rows too.
func copyEvents(t *testing.T, e *env, evs []rawEvent) {
	t.Helper()
	ctx := context.Background()
	tx, err := e.set.Get("analytics").SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn("events", "id", "user_id", "name", "properties", "occurred_at"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		var props any
		if ev.props != nil {
			b, _ := json.Marshal(ev.props)
			props = string(b)
		}
		if _, err := stmt.ExecContext(ctx, uuid.Must(uuid.NewV7()).String(), ev.user.String(), ev.name, props, ev.at); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := stmt.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// rollupDiff lists the rows where the rollups differ from counts over the events: none when
// they are consistent.
func rollupDiff(t *testing.T, e *env) string {
	t.Helper()
	const recount = `
WITH want AS (SELECT date_trunc('hour', occurred_at, 'UTC') AS hour, name, %[1]s count(*) AS count FROM events GROUP BY 1, 2 %[2]s),
     got AS (SELECT hour, name, %[1]s count FROM %[3]s)
SELECT 'missing ' || w::text FROM (SELECT * FROM want EXCEPT ALL SELECT * FROM got) w
UNION ALL SELECT 'extra ' || g::text FROM (SELECT * FROM got EXCEPT ALL SELECT * FROM want) g`
	var out []string
	for _, q := range []string{
		fmt.Sprintf(recount, "", "", stats.RollupCounts),
		fmt.Sprintf(recount, "user_id,", ", 3", stats.RollupUsers),
	} {
		rows, err := e.set.Get("analytics").SQL.QueryContext(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("… %d more", len(out)-10))
	}
	return strings.Join(out, "\n")
}

// TestRollupsMatchBruteForce checks eventStats against counts in Go while events arrive in
// every way they can (multi-row inserts, COPY, concurrent writers, late events) and leave
// (deleteUser), for an ADMIN, whom PostgreSQL answers from the rollups, and for a USER, who
// sees their own events only. On SQLite the same questions are answered from the events.
func TestRollupsMatchBruteForce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		pg := e.set.Get("analytics").Dialect() == dialect.Postgres
		seed(t, e, fixture{users: 5, events: func(int) int { return 0 }, logs: func(int) int { return 0 }})
		evs := statsEvents()
		insertEvents(t, e, evs)
		h := e.with(t)
		admin := h.as(e.session(t, userID(0), time.Now().Add(time.Hour)))
		user1 := h.as(e.session(t, userID(1), time.Now().Add(time.Hour)))
		check := func(t *testing.T) {
			if pg {
				if d := rollupDiff(t, e); d != "" {
					t.Fatalf("the rollups differ from the events:\n%s", d)
				}
			}
			for _, q := range rollupQuestions {
				e.count.reset()
				compareStats(t, "admin: "+q.name, gotStats(t, admin, q.statsQuestion), bruteStats(t, q.statsQuestion, evs, nil))
				if rolled := strings.Contains(e.count.dump(), stats.RollupUsers); rolled != (pg && q.rolls) {
					t.Errorf("admin: %s: read the rollups %v, want %v:\n%s", q.name, rolled, pg && q.rolls, e.count.dump())
				}
				if n := e.count.counts()["analytics"]; n != 1 {
					t.Errorf("admin: %s: %d statements to analytics, want 1", q.name, n)
				}
				// Counts alone read the small table of counts per hour and name.
				e.count.reset()
				var data struct{ EventStats []statsBucket }
				admin.query(t, eventCountsDoc, q.vars(), &data)
				want := bruteStats(t, q.statsQuestion, evs, nil)
				total, wantTotal := 0, 0
				for _, b := range data.EventStats {
					total += b.Count
				}
				for _, w := range want {
					wantTotal += w[0]
				}
				if total != wantTotal || len(data.EventStats) != len(want) {
					t.Errorf("admin counts: %s: %d events in %d buckets, want %d in %d", q.name, total, len(data.EventStats), wantTotal, len(want))
				}
				if rolled := strings.Contains(e.count.dump(), stats.RollupCounts); rolled != (pg && q.rolls) {
					t.Errorf("admin counts: %s: read the counts table %v, want %v", q.name, rolled, pg && q.rolls)
				}
				// A USER's numbers are their own, from the events.
				e.count.reset()
				me := userID(1)
				compareStats(t, "user 1: "+q.name, gotStats(t, user1, q.statsQuestion), bruteStats(t, q.statsQuestion, evs, &me))
				if strings.Contains(e.count.dump(), "event_hour_") {
					t.Errorf("user 1: %s: read the rollups, which count every user's events", q.name)
				}
			}
		}
		t.Run("as inserted", check)

		rng := rand.New(rand.NewPCG(16, 16))
		more := rollupEvents(rng, 300)
		insertEvents(t, e, more) // multi-row INSERTs of 200
		evs = append(evs, more...)
		if pg {
			copied := rollupEvents(rng, 500)
			copyEvents(t, e, copied)
			evs = append(evs, copied...)
		}
		// Writers at the same time, on the same hours: the upserts in key order never
		// deadlock, and none is lost.
		var wg sync.WaitGroup
		var mu sync.Mutex
		for w := range 4 {
			batch := rollupEvents(rand.New(rand.NewPCG(17, uint64(w))), 400)
			wg.Go(func() {
				for i := 0; i < len(batch); i += 50 {
					insertEvents(t, e, batch[i:i+50])
				}
				mu.Lock()
				evs = append(evs, batch...)
				mu.Unlock()
			})
		}
		wg.Wait()
		// Late events: occurredAt days in the past, arriving now.
		late := []rawEvent{
			{user: userID(1), name: "checkout", props: map[string]any{"path": "/late"}, at: time.Date(2026, 3, 27, 10, 0, 0, 0, time.UTC)},
			{user: userID(2), name: "signup", at: time.Date(2026, 3, 29, 1, 59, 59, 0, time.UTC)},
			{user: userID(3), name: "view", at: time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)},
		}
		insertEvents(t, e, late)
		evs = append(evs, late...)
		t.Run("after more events", check)

		// deleteUser removes user 3's events; the rollups follow.
		var del struct {
			DeleteUser struct{ Removed []struct{ Database string } }
		}
		e.query(t, deleteUser, map[string]any{"id": userID(3)}, &del)
		kept := evs[:0]
		for _, ev := range evs {
			if ev.user != userID(3) {
				kept = append(kept, ev)
			}
		}
		evs = kept
		t.Run("after deleteUser", check)
	})
}

// TestRollupRebuild checks that a rebuild gives the rollups the triggers kept, repairs
// damaged ones, and counts each event once while writers insert during it.
func TestRollupRebuild(t *testing.T) {
	t.Parallel()
	testdb.RequirePostgres(t, true)
	e := newEnv(t, config.Postgres)
	seed(t, e, fixture{users: 5, events: func(int) int { return 0 }, logs: func(int) int { return 0 }})
	insertEvents(t, e, statsEvents())
	ctx := context.Background()
	db := e.set.Get("analytics").SQL
	snapshot := func() string {
		var s string
		err := db.QueryRowContext(ctx, `SELECT (SELECT string_agg(hour::text || name || count, ',' ORDER BY hour, name) FROM event_hour_counts) ||
			(SELECT string_agg(hour::text || name || user_id || count, ',' ORDER BY hour, name, user_id) FROM event_hour_users)`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	incremental := snapshot()
	from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	res, err := stats.RebuildRollups(ctx, db, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if got := snapshot(); got != incremental {
		t.Fatalf("rebuilt rollups differ from the incremental ones:\n%s\n%s", got, incremental)
	}
	if res.Events != int64(len(statsEvents())) || res.Chunks != int(to.Sub(from)/stats.RebuildChunk) {
		t.Errorf("rebuild: %+v, want %d events in %d chunks", res, len(statsEvents()), int(to.Sub(from)/stats.RebuildChunk))
	}

	// Damage: a lost hour, a wrong count, a row of no event.
	for _, q := range []string{
		`DELETE FROM event_hour_counts WHERE hour = (SELECT min(hour) FROM event_hour_counts)`,
		`UPDATE event_hour_users SET count = count + 5 WHERE hour = (SELECT max(hour) FROM event_hour_users)`,
		`INSERT INTO event_hour_users VALUES ('2026-03-27T05:00:00Z', 'ghost', '` + userID(4).String() + `', 3)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if rollupDiff(t, e) == "" {
		t.Fatal("the damage left the rollups consistent: a useless check")
	}
	// Rebuild while four writers insert into the same days.
	var wg sync.WaitGroup
	for w := range 4 {
		batch := rollupEvents(rand.New(rand.NewPCG(18, uint64(w))), 300)
		wg.Go(func() {
			for i := 0; i < len(batch); i += 30 {
				insertEvents(t, e, batch[i:i+30])
			}
		})
	}
	if _, err := stats.RebuildRollups(ctx, db, from, to); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if d := rollupDiff(t, e); d != "" {
		t.Fatalf("after a rebuild during writes, the rollups differ from the events:\n%s", d)
	}
	// Two rebuilds of the same days at once: the second waits for each of the first's days.
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := stats.RebuildRollups(ctx, db, from, to)
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("one of two rebuilds at once: %v", err)
		}
	}
	if d := rollupDiff(t, e); d != "" {
		t.Fatalf("after two rebuilds at once, the rollups differ from the events:\n%s", d)
	}
	if _, err := stats.RebuildRollups(ctx, db, to, from); err == nil {
		t.Error("a rebuild from after to: no error")
	}
}

// TestRollupsFollowUpdates: UPDATEs of events move their counts from the old hour, name and
// user to the new ones, remove the groups they empty, and leave the rollups as they were when
// they change nothing the rollups hold.
func TestRollupsFollowUpdates(t *testing.T) {
	t.Parallel()
	testdb.RequirePostgres(t, true)
	e := newEnv(t, config.Postgres)
	seed(t, e, fixture{users: 5, events: func(int) int { return 0 }, logs: func(int) int { return 0 }})
	insertEvents(t, e, statsEvents())
	insertEvents(t, e, rollupEvents(rand.New(rand.NewPCG(19, 19)), 300))
	ctx := context.Background()
	db := e.set.Get("analytics").SQL
	groups := func() (n int) {
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM event_hour_users`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := groups()
	for _, c := range []struct{ name, update string }{
		{"later by three hours", `UPDATE events SET occurred_at = occurred_at + interval '3 hours' WHERE user_id = '` + userID(1).String() + `'`},
		{"renamed", `UPDATE events SET name = 'renamed' WHERE name = 'checkout'`},
		{"to another user", `UPDATE events SET user_id = '` + userID(4).String() + `' WHERE user_id = '` + userID(2).String() + `'`},
		{"nothing the rollups hold", `UPDATE events SET properties = '{"path": "/updated"}'`},
		{"no row", `UPDATE events SET name = 'none' WHERE false`},
	} {
		if _, err := db.ExecContext(ctx, c.update); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if d := rollupDiff(t, e); d != "" {
			t.Fatalf("after an UPDATE %s, the rollups differ from the events:\n%s", c.name, d)
		}
	}
	var empty int
	if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM event_hour_users WHERE count <= 0) + (SELECT count(*) FROM event_hour_counts WHERE count <= 0)`).Scan(&empty); err != nil {
		t.Fatal(err)
	}
	if empty != 0 {
		t.Errorf("%d groups of no event are left in the rollups", empty)
	}
	// Some of user 2's groups shared their hour and name with one of user 4's and merged
	// into it: the groups are fewer, unless the emptied ones were kept.
	if after := groups(); after >= before {
		t.Errorf("%d user groups after moving user 2's events to user 4, %d before: the emptied ones were kept", after, before)
	}
}

// TestRollupsOnlyForNamePredicates: a where on the name alone reads the rollups; one on
// anything else (even nested in and/or/not) reads the events, and the totals agree.
func TestRollupsOnlyForNamePredicates(t *testing.T) {
	t.Parallel()
	testdb.RequirePostgres(t, true)
	e := newEnv(t, config.Postgres)
	seed(t, e, fixture{users: 5, events: func(int) int { return 0 }, logs: func(int) int { return 0 }})
	evs := statsEvents()
	insertEvents(t, e, evs)
	views := 0
	for _, ev := range evs {
		if ev.name == "view" && !ev.at.Before(time.Date(2026, 3, 26, 0, 0, 0, 0, time.UTC)) && ev.at.Before(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
			views++
		}
	}
	nobody := uuid.Nil.String()
	for _, c := range []struct {
		where map[string]any
		rolls bool
	}{
		{map[string]any{"name": "view"}, true},
		{map[string]any{"nameIn": []string{"view"}}, true},
		{map[string]any{"and": []any{map[string]any{"nameNEQ": "signup"}, map[string]any{"not": map[string]any{"name": "checkout"}}}}, true},
		{map[string]any{"or": []any{map[string]any{"name": "view"}, map[string]any{"nameHasPrefix": "zz"}}}, true},
		{map[string]any{"name": "view", "userIDNEQ": nobody}, false},
		{map[string]any{"and": []any{map[string]any{"name": "view"}, map[string]any{"idNEQ": nobody}}}, false},
		{map[string]any{"not": map[string]any{"userID": nobody}, "name": "view"}, false},
		{map[string]any{"name": "view", "occurredAtGTE": "2026-01-01T00:00:00Z"}, false},
	} {
		e.count.reset()
		var data struct{ EventStats []statsBucket }
		e.query(t, eventCountsDoc, map[string]any{"from": "2026-03-26T00:00:00Z", "to": "2026-11-01T00:00:00Z", "where": c.where}, &data)
		if len(data.EventStats) != 1 || data.EventStats[0].Count != views {
			t.Errorf("where %v: got %+v, want one bucket of %d", c.where, data.EventStats, views)
		}
		if rolled := strings.Contains(e.count.dump(), stats.RollupCounts); rolled != c.rolls {
			t.Errorf("where %v: read the rollups %v, want %v", c.where, rolled, c.rolls)
		}
	}
}
