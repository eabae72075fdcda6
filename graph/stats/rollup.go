package stats

import (
	"context"
	entsql "database/sql"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/multidb/multidb/ent/analytics"
	"github.com/multidb/multidb/ent/analytics/event"
	"github.com/multidb/multidb/graph/apierror"
)

// The rollup tables of PostgreSQL (migrate/analytics/postgres/…_event_rollups.sql): events per
// UTC hour and name, and per UTC hour, name and user. Triggers on events keep them current
// within each writing statement, so they hold every committed event, with no tail to add.
const (
	RollupCounts = "event_hour_counts"
	RollupUsers  = "event_hour_users"
)

// RollupRange says whether the rollups can answer s, and over which whole UTC hours
// [lo, hi): its groups are by name only, and every bucket boundary in its time zone falls on
// a UTC hour (no zone offset of the range has minutes, as India's +05:30 has). The rest of
// [from, to), under an hour at each end, is read from the events.
func RollupRange(s Spec) (lo, hi time.Time, ok bool) {
	for _, g := range s.Groups {
		if g.Column != event.FieldName {
			return lo, hi, false
		}
	}
	if s.Bucket != "" {
		for _, sp := range offsets(s.From, s.To, s.Loc) {
			if sp.offset%3600 != 0 {
				return lo, hi, false
			}
		}
	}
	lo, hi = s.From.Truncate(time.Hour), s.To.Truncate(time.Hour)
	if lo.Before(s.From) {
		lo = lo.Add(time.Hour)
	}
	return lo, hi, lo.Before(hi)
}

// EventsFromRollups answers s, as Events does, from the rollups for the hours [lo, hi) (see
// RollupRange) and from the events for the rest of [from, to), in one statement. q must
// select the events of an ADMIN (no owner predicate: the counts table has no users) with at
// most predicates on the name, which the rollups hold as the events do. Without uniques the
// statement reads the small counts table, and the answer's uniques are 0.
func EventsFromRollups(ctx context.Context, q *analytics.EventQuery, s Spec, lo, hi time.Time, uniques bool) ([]Row, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	var rows []statRow
	err := q.Modify(func(sel *sql.Selector) {
		d := sel.Dialect()
		if d != dialect.Postgres {
			sel.AddError(errors.New("the rollups are PostgreSQL tables"))
			return
		}
		src := rollupSource(d, s, lo, hi, uniques)
		cols := []string{event.FieldOccurredAt, event.FieldName, event.FieldUserID, "n"}
		count := sql.Expr(`CAST(SUM("n") AS bigint)`)
		reshapeOver(sel, EventTable, s, false, s.Max+1, src, cols, count, uniques)
	}).Scan(ctx, &rows)
	if err != nil {
		return nil, apierror.Database("analytics", err)
	}
	out, err := convert(rows, s, 1)
	if err != nil && !isInput(err) {
		return nil, apierror.Database("analytics", err)
	}
	return out[uuid.Nil], err
}

// rollupSource is the rows the statement groups, named and shaped like the events:
//
//	SELECT hour AS occurred_at, name, user_id, count AS n FROM event_hour_users
//	  WHERE hour >= lo AND hour < hi
//	UNION ALL
//	SELECT occurred_at, name, user_id, 1 AS n FROM events
//	  WHERE occurred_at >= from AND occurred_at < lo OR occurred_at >= hi AND occurred_at < to
//
// and without uniques event_hour_counts, with a null user.
func rollupSource(d string, s Spec, lo, hi time.Time, uniques bool) *sql.Selector {
	table := RollupCounts
	if uniques {
		table = RollupUsers
	}
	rt := sql.Dialect(d).Table(table)
	user := "CAST(NULL AS uuid)"
	if uniques {
		user = rt.C("user_id")
	}
	rolled := sql.Dialect(d).Select().From(rt)
	rolled.AppendSelectExprAs(sql.Expr(rt.C("hour")), event.FieldOccurredAt)
	rolled.AppendSelect(rt.C("name"))
	rolled.AppendSelectExprAs(sql.Expr(user), event.FieldUserID)
	rolled.AppendSelectExprAs(sql.Expr(rt.C("count")), "n")
	rolled.Where(sql.And(sql.GTE(rt.C("hour"), lo), sql.LT(rt.C("hour"), hi)))

	et := sql.Dialect(d).Table(event.Table)
	raw := sql.Dialect(d).Select(et.C(event.FieldOccurredAt), et.C(event.FieldName))
	if uniques {
		raw.AppendSelect(et.C(event.FieldUserID))
	} else {
		raw.AppendSelectExprAs(sql.Expr("CAST(NULL AS uuid)"), event.FieldUserID)
	}
	raw.AppendSelectExprAs(sql.Expr("1"), "n").From(et)
	at := et.C(event.FieldOccurredAt)
	raw.Where(sql.Or(
		sql.And(sql.GTE(at, s.From), sql.LT(at, lo)),
		sql.And(sql.GTE(at, hi), sql.LT(at, s.To)),
	))
	return rolled.UnionAll(raw)
}

// RebuildChunk is how much of the range one transaction of RebuildRollups recomputes: the
// writers of events wait for it, so it is kept short.
const RebuildChunk = 24 * time.Hour

// RebuildLockTimeout bounds RebuildRollups' wait for the writers in flight to commit.
const RebuildLockTimeout = 30 * time.Second

// RebuildStatementTimeout bounds each statement of RebuildRollups: a day of events.
const RebuildStatementTimeout = 10 * time.Minute

// RebuildResult is what RebuildRollups did.
type RebuildResult struct {
	From, To time.Time // the whole UTC hours rebuilt
	Chunks   int       // transactions
	Events   int64     // events counted
	Counts   int64     // rows written to event_hour_counts
	Users    int64     // rows written to event_hour_users
}

// RebuildRollups recomputes the rollups of the UTC hours that [from, to) touches from the
// events, a day per transaction: it locks events against writes (SHARE ROW EXCLUSIVE mode:
// readers go on, writers and another rebuild wait for the commit, and the transaction waits
// for the writers in flight), replaces
// the day's rollup rows with counts of its events, and commits. No write is counted twice or
// missed: the triggers of a writer before the lock are in its committed rows, and a writer
// after it runs its triggers on the rebuilt rows.
func RebuildRollups(ctx context.Context, db *entsql.DB, from, to time.Time) (RebuildResult, error) {
	res := RebuildResult{From: from.UTC().Truncate(time.Hour), To: to.UTC().Truncate(time.Hour)}
	if res.To.Before(to) {
		res.To = res.To.Add(time.Hour)
	}
	if !res.From.Before(res.To) {
		return res, fmt.Errorf("rebuild: --from must be before --to")
	}
	for lo := res.From; lo.Before(res.To); lo = lo.Add(RebuildChunk) {
		hi := lo.Add(RebuildChunk)
		if hi.After(res.To) {
			hi = res.To
		}
		if err := rebuildChunk(ctx, db, lo, hi, &res); err != nil {
			return res, fmt.Errorf("rebuild %s to %s: %w", lo.Format(time.RFC3339), hi.Format(time.RFC3339), err)
		}
		res.Chunks++
	}
	return res, nil
}

func rebuildChunk(ctx context.Context, db *entsql.DB, lo, hi time.Time, res *RebuildResult) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	stmts := []string{
		fmt.Sprintf("SET LOCAL lock_timeout = '%dms'", RebuildLockTimeout.Milliseconds()),
		fmt.Sprintf("SET LOCAL statement_timeout = '%dms'", RebuildStatementTimeout.Milliseconds()),
		"LOCK TABLE " + pq.QuoteIdentifier(event.Table) + " IN SHARE ROW EXCLUSIVE MODE",
		`DELETE FROM ` + RollupCounts + ` WHERE hour >= $1 AND hour < $2`,
		`DELETE FROM ` + RollupUsers + ` WHERE hour >= $1 AND hour < $2`,
	}
	for i, q := range stmts {
		var args []any
		if i >= 3 {
			args = []any{lo, hi}
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO `+RollupCounts+` (hour, name, count)
		SELECT date_trunc('hour', occurred_at, 'UTC'), name, count(*) FROM events
		WHERE occurred_at >= $1 AND occurred_at < $2 GROUP BY 1, 2`, lo, hi)
	if err != nil {
		return err
	}
	counts, _ := r.RowsAffected()
	r, err = tx.ExecContext(ctx, `INSERT INTO `+RollupUsers+` (hour, name, user_id, count)
		SELECT date_trunc('hour', occurred_at, 'UTC'), name, user_id, count(*) FROM events
		WHERE occurred_at >= $1 AND occurred_at < $2 GROUP BY 1, 2, 3`, lo, hi)
	if err != nil {
		return err
	}
	users, _ := r.RowsAffected()
	var events int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(count), 0) FROM `+RollupCounts+` WHERE hour >= $1 AND hour < $2`, lo, hi).Scan(&events); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	res.Counts += counts
	res.Users += users
	res.Events += events
	return nil
}
