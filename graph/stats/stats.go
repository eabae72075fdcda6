// Package stats computes the aggregates of events (counts and unique users per time bucket and
// group, funnels) in one SQL statement each, on PostgreSQL and SQLite. The statements are
// built on a query of the access-ruled ent client and reshaped with Modify, so the access
// interceptor's predicates (a USER's own rows) are inside them like in any other query.
package stats

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	entsql "database/sql"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/analytics"
	"github.com/multidb/multidb/ent/analytics/event"
	"github.com/multidb/multidb/ent/logs"
	"github.com/multidb/multidb/ent/logs/logentry"
	"github.com/multidb/multidb/graph/apierror"
)

// Bucket is the width of a time bucket.
type Bucket string

// The buckets; weeks start on Monday (ISO 8601), as PostgreSQL's date_trunc has them.
const (
	Hour  Bucket = "HOUR"
	Day   Bucket = "DAY"
	Week  Bucket = "WEEK"
	Month Bucket = "MONTH"
)

// DefaultMaxBuckets is STATS_MAX_BUCKETS when it is not set.
const DefaultMaxBuckets = 1000

// MaxGroups is how many groupBy entries one query may have.
const MaxGroups = 3

// Group is one groupBy entry: a column (the event name, the log level), or a property of
// the row's JSON column at a path of object keys.
type Group struct {
	Column string
	Path   []string
}

// Table is what the statements need to know of the table they aggregate.
type Table struct {
	Name    string
	Columns []string
	Time    string // the instant of a row
	User    string // the owner, counted by uniqueUsers
	JSON    string // the column a property path reads
}

// The tables with stats.
var (
	EventTable = Table{Name: event.Table, Columns: event.Columns, Time: event.FieldOccurredAt, User: event.FieldUserID, JSON: event.FieldProperties}
	LogTable   = Table{Name: logentry.Table, Columns: logentry.Columns, Time: logentry.FieldCreatedAt, User: logentry.FieldUserID, JSON: logentry.FieldFields}
)

// pathKey is one key of a property path: plain identifiers only, so that a path is never SQL.
var pathKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,63}$`)

// ParsePath splits "utm.source" into its keys and checks them. A leading "properties." is
// allowed, as the field is named in the graph.
func ParsePath(p string) ([]string, error) {
	p = strings.TrimPrefix(p, "properties.")
	keys := strings.Split(p, ".")
	if len(keys) > 5 {
		return nil, apierror.BadInput("a property path has at most 5 keys, %q has %d", p, len(keys))
	}
	for _, k := range keys {
		if !pathKey.MatchString(k) {
			return nil, apierror.BadInput("property path %q: each key must be a letter or _ followed by up to 63 letters, digits, _ or -", p)
		}
	}
	return keys, nil
}

// Location validates an IANA time zone name; empty is UTC.
func Location(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	// "Local" is the server's zone, which a client cannot know.
	if name == "Local" {
		return nil, apierror.BadInput("timezone %q is not an IANA time zone name such as Europe/Berlin", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, apierror.BadInput("timezone %q is not an IANA time zone name such as Europe/Berlin", name)
	}
	return loc, nil
}

// Spec is one eventStats question.
type Spec struct {
	From, To time.Time
	Bucket   Bucket // "" for no time bucket
	Loc      *time.Location
	Groups   []Group
	Max      int // STATS_MAX_BUCKETS
}

// Row is one bucket of the answer.
type Row struct {
	Start, End *time.Time // nil without a time bucket
	Keys       []*string  // one per group, nil where the event has no such property
	Count      int
	Unique     int
}

// Truncate is the start of the bucket that holds t, in loc: the local wall time truncated,
// then read back in loc. The SQL computes the same local wall time; both read it back here.
func Truncate(t time.Time, b Bucket, loc *time.Location) time.Time {
	l := t.In(loc)
	y, m, d := l.Date()
	switch b {
	case Hour:
		return wall(y, m, d, l.Hour(), loc)
	case Day:
		return wall(y, m, d, 0, loc)
	case Week:
		wd := (int(l.Weekday()) + 6) % 7 // days since Monday
		return wall(y, m, d-wd, 0, loc)
	case Month:
		return wall(y, m, 1, 0, loc)
	}
	return t
}

// Next is the start of the bucket after the one starting at start.
func Next(start time.Time, b Bucket, loc *time.Location) time.Time {
	l := start.In(loc)
	y, m, d := l.Date()
	switch b {
	case Hour:
		// The next local hour in absolute time: the clock may skip one (spring), or repeat one
		// (autumn), which is then one bucket of two hours.
		for h := time.Hour; ; h += time.Hour {
			if next := Truncate(start.Add(h), b, loc); next.After(start) {
				return next
			}
		}
	case Day:
		return wall(y, m, d+1, 0, loc)
	case Week:
		return wall(y, m, d+7, 0, loc)
	case Month:
		return wall(y, m+1, 1, 0, loc)
	}
	return start
}

// wall is the instant of a local wall time. At an autumn change the repeated hour is read as
// Go reads it; both engines go through here, so they agree.
func wall(y int, m time.Month, d, h int, loc *time.Location) time.Time {
	return time.Date(y, m, d, h, 0, 0, 0, loc)
}

// Count is how many time buckets [from, to) spans; 1 without a bucket. It stops at max+1.
func Count(from, to time.Time, b Bucket, loc *time.Location, max int) int {
	if b == "" {
		return 1
	}
	n := 0
	for s := Truncate(from, b, loc); s.Before(to) && n <= max; s = Next(s, b, loc) {
		n++
	}
	return n
}

// Check refuses a question whose answer could pass the cap before it reaches the database.
func (s Spec) Check() error {
	if !s.From.Before(s.To) {
		return apierror.BadInput("`from` must be before `to`")
	}
	if len(s.Groups) > MaxGroups {
		return apierror.BadInput("groupBy takes at most %d entries", MaxGroups)
	}
	if n := Count(s.From, s.To, s.Bucket, s.Loc, s.Max); n > s.Max {
		return apierror.BadInput("%s buckets from %s to %s are more than STATS_MAX_BUCKETS (%d): use a wider bucket or a shorter range",
			s.Bucket, s.From.Format(time.RFC3339), s.To.Format(time.RFC3339), s.Max)
	}
	return nil
}

// statRow is what the statement returns per bucket.
type statRow struct {
	B  entsql.NullString `sql:"b"`
	K0 entsql.NullString `sql:"k0"`
	K1 entsql.NullString `sql:"k1"`
	K2 entsql.NullString `sql:"k2"`
	N  int64             `sql:"n"`
	U  int64             `sql:"u"`
	// User is the user of the bucket, grouped by for User.eventStats.
	User uuid.UUID `sql:"user_id"`
}

// wallLayout is how the statements write a bucket's local start.
const wallLayout = "2006-01-02 15:04:05"

// Events answers s over the rows q reads (q carries the caller's where and the access rules),
// in one statement. More than s.Max buckets (the groups multiply them) is a BAD_USER_INPUT.
func Events(ctx context.Context, q *analytics.EventQuery, s Spec) ([]Row, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	rows, err := events(ctx, q, s, nil)
	if err != nil {
		return nil, err
	}
	return rows[uuid.Nil], nil // ungrouped by user: every row has the zero user
}

// EventsByUser answers s for each user of ids, in one statement: the rows of User.eventStats
// of a list of users. The caller refuses the answer of a user with more than s.Max buckets.
func EventsByUser(ctx context.Context, q *analytics.EventQuery, s Spec, ids []uuid.UUID) (map[uuid.UUID][]Row, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	q.Where(event.UserIDIn(ids...))
	return events(ctx, q, s, ids)
}

// Logs answers s over the log entries q reads, in one statement, as Events does.
func Logs(ctx context.Context, q *logs.LogEntryQuery, s Spec) ([]Row, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	q.Where(logentry.CreatedAtGTE(s.From), logentry.CreatedAtLT(s.To))
	var rows []statRow
	err := q.Modify(func(sel *sql.Selector) { reshapeStats(sel, LogTable, s, false, s.Max+1) }).Scan(ctx, &rows)
	if err != nil {
		return nil, apierror.Database("logs", err)
	}
	out, err := convert(rows, s, 1)
	if err != nil {
		return nil, apierror.Database("logs", err)
	}
	return out[uuid.Nil], nil
}

// events runs the statement; with ids, grouped by user too.
func events(ctx context.Context, q *analytics.EventQuery, s Spec, ids []uuid.UUID) (map[uuid.UUID][]Row, error) {
	q.Where(event.OccurredAtGTE(s.From), event.OccurredAtLT(s.To))
	var rows []statRow
	err := q.Modify(func(sel *sql.Selector) { reshapeStats(sel, EventTable, s, ids != nil, s.Max*max(len(ids), 1)+1) }).Scan(ctx, &rows)
	if err != nil {
		return nil, apierror.Database("analytics", err)
	}
	out, err := convert(rows, s, max(len(ids), 1))
	if err != nil && !isInput(err) {
		return nil, apierror.Database("analytics", err)
	}
	return out, err
}

func isInput(err error) bool { return apierror.CodeOf(err) == apierror.BadUserInput }

// convert reads the rows of the statement, for parents parents (users, or 1).
func convert(rows []statRow, s Spec, parents int) (map[uuid.UUID][]Row, error) {
	if len(rows) > s.Max*parents {
		return nil, apierror.BadInput("the answer has more than STATS_MAX_BUCKETS (%d) buckets: narrow where, groupBy or the range", s.Max)
	}
	out := map[uuid.UUID][]Row{}
	for _, r := range rows {
		row := Row{Count: int(r.N), Unique: int(r.U)}
		if s.Bucket != "" {
			local, err := time.ParseInLocation(wallLayout, r.B.String, time.UTC)
			if err != nil {
				return nil, fmt.Errorf("bucket %q: %w", r.B.String, err)
			}
			start := wall(local.Year(), local.Month(), local.Day(), local.Hour(), s.Loc)
			end := Next(start, s.Bucket, s.Loc)
			row.Start, row.End = &start, &end
		}
		for _, k := range []entsql.NullString{r.K0, r.K1, r.K2}[:len(s.Groups)] {
			if k.Valid {
				v := k.String
				row.Keys = append(row.Keys, &v)
			} else {
				row.Keys = append(row.Keys, nil)
			}
		}
		out[r.User] = append(out[r.User], row)
	}
	return out, nil
}

// reshapeStats turns the query's "SELECT … FROM events" into
//
//	SELECT b, k0…, COUNT(*) AS n, COUNT(DISTINCT user_id) AS u
//	FROM (SELECT events.*, <bucket> AS b, <key> AS k0… FROM events) AS events
//	WHERE <rules, where, range> GROUP BY b, k0… ORDER BY b, k0… LIMIT max+1
//
// ent applies the predicates (the access rules' among them) after the modifiers, to this
// statement: the derived table keeps the table's name and columns, so that they resolve
// there, before the grouping; both engines push them down to the table and its indexes.
// The keys are computed inside so that the grouping is by plain columns: PostgreSQL would
// not match two copies of an expression with separate parameters.
func reshapeStats(sel *sql.Selector, tab Table, s Spec, byUser bool, limit int) {
	d := sel.Dialect()
	reshapeOver(sel, tab, s, byUser, limit, sql.Dialect(d).Table(tab.Name), tab.Columns, sql.Expr("COUNT(*)"), true)
}

// reshapeOver is reshapeStats over src, a table or a derived table with the columns cols,
// named like tab's: count is the expression of a bucket's count, and without uniques the
// statement counts no users (u is 0).
func reshapeOver(sel *sql.Selector, tab Table, s Spec, byUser bool, limit int, src sql.TableView, cols []string, count sql.Querier, uniques bool) {
	d := sel.Dialect()
	t := sql.Dialect(d).Table(tab.Name)
	if sub, ok := src.(*sql.Selector); ok {
		src = sub.As(tab.Name)
	}
	inner := sql.Dialect(d).Select(t.Columns(cols...)...).From(src)
	var keys []string
	if s.Bucket != "" {
		inner.AppendSelectExprAs(bucketExpr(d, t.C(tab.Time), s), "b")
		keys = append(keys, "b")
	}
	for i, g := range s.Groups {
		name := fmt.Sprintf("k%d", i)
		if g.Column != "" {
			inner.AppendSelectAs(t.C(g.Column), name)
		} else {
			inner.AppendSelectExprAs(propertyExpr(d, t.C(tab.JSON), g.Path), name)
		}
		keys = append(keys, name)
	}
	inner.As(tab.Name)
	if byUser {
		keys = append([]string{tab.User}, keys...)
	}
	// Named like the table, so that out.C (and the predicates ent adds) name the derived
	// table's columns, whatever table the derived table reads.
	out := sql.Dialect(d).Select().From(inner).As(tab.Name)
	for _, k := range keys {
		if k == "b" && d == dialect.Postgres {
			// GROUP BY b below is the inner column (PostgreSQL prefers input columns there).
			out.AppendSelectExprAs(sql.Expr(pgWall), "b")
		} else {
			out.AppendSelect(k)
		}
	}
	out.AppendSelectExprAs(count, "n")
	if uniques {
		out.AppendSelectExprAs(sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("COUNT(DISTINCT ").Ident(out.C(tab.User)).WriteString(")")
		}), "u")
	} else {
		out.AppendSelectExprAs(sql.Expr("0"), "u")
	}
	if len(keys) > 0 {
		out.GroupBy(keys...)
		out.OrderBy(keys...)
	}
	out.Limit(limit)
	*sel = *out
}

// pgWall writes PostgreSQL's bucket, a timestamp without time zone, in wallLayout.
const pgWall = `to_char("b", 'YYYY-MM-DD HH24:MI:SS')`

// bucketExpr is the local wall time of the start of col's bucket: as text in wallLayout on
// SQLite, as a timestamp on PostgreSQL (see pgWall).
func bucketExpr(d string, col string, s Spec) sql.Querier {
	if d == dialect.Postgres {
		unit := map[Bucket]string{Hour: "hour", Day: "day", Week: "week", Month: "month"}[s.Bucket]
		// A timestamp, written as text by the outer statement (pgWall) once per bucket: to_char
		// on every row took a third of the statement's time.
		return sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("date_trunc('" + unit + "', ").Ident(col).WriteString(" AT TIME ZONE ").
				Arg(s.Loc.String()).WriteString(")")
		})
	}
	// SQLite has no time zones: the local time is the Unix time plus the zone's offset at that
	// instant, which Go lists for the range (one CASE arm per change of offset).
	format := map[Bucket]string{Hour: "%Y-%m-%d %H:00:00", Day: "%Y-%m-%d 00:00:00", Week: "%Y-%m-%d 00:00:00", Month: "%Y-%m-01 00:00:00"}[s.Bucket]
	spans := offsets(s.From, s.To, s.Loc)
	return sql.ExprFunc(func(b *sql.Builder) {
		b.WriteString("strftime(").Arg(format).WriteString(", ")
		epoch := func() {
			b.WriteString("(")
			sqliteMillis(b, col)
			b.WriteString(" / 1000)")
		}
		epoch()
		b.WriteString(" + ")
		if len(spans) == 1 {
			b.Arg(spans[0].offset)
		} else {
			b.WriteString("CASE")
			for _, sp := range spans[:len(spans)-1] {
				b.WriteString(" WHEN ")
				epoch()
				b.WriteString(" < ").Arg(sp.end).WriteString(" THEN ").Arg(sp.offset)
			}
			b.WriteString(" ELSE ").Arg(spans[len(spans)-1].offset).WriteString(" END")
		}
		b.WriteString(", 'unixepoch'")
		if s.Bucket == Week {
			// Back to the Monday on or before the day.
			b.WriteString(", '-6 days', 'weekday 1'")
		}
		b.WriteString(")")
	})
}

// span is a stretch of time with one UTC offset, up to end (Unix seconds).
type span struct {
	end    int64
	offset int
}

// offsets lists the UTC offsets of loc over [from, to).
func offsets(from, to time.Time, loc *time.Location) []span {
	var out []span
	t := from
	for {
		_, off := t.In(loc).Zone()
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(to) {
			return append(out, span{end: to.Unix(), offset: off})
		}
		out = append(out, span{end: end.Unix(), offset: off})
		t = end
	}
}

// propertyExpr is the text of the property at path, or NULL: strings as they are, other JSON
// values as JSON text (true, 42).
func propertyExpr(d string, col string, path []string) sql.Querier {
	if d == dialect.Postgres {
		return sql.ExprFunc(func(b *sql.Builder) {
			b.Ident(col).WriteString(" #>> CAST(").Arg("{" + strings.Join(path, ",") + "}").WriteString(" AS text[])")
		})
	}
	p := `$."` + strings.Join(path, `"."`) + `"`
	return sql.ExprFunc(func(b *sql.Builder) {
		// json_extract gives SQLite's 1 and 0 for JSON booleans; PostgreSQL gives true and false.
		b.WriteString("CASE json_type(").Ident(col).Comma().Arg(p).WriteString(") WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(json_extract(").
			Ident(col).Comma().Arg(p).WriteString(") AS TEXT) END")
	})
}
