package stats

import (
	"context"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/multidb/multidb/ent/analytics"
	"github.com/multidb/multidb/ent/analytics/event"
	"github.com/multidb/multidb/graph/apierror"
	schema "github.com/multidb/multidb/schema/analytics"
)

// The bounds of a funnel.
const (
	MinSteps  = 2
	MaxSteps  = 10
	MaxWithin = 366 * 24 * time.Hour
)

// FunnelSpec is one funnel question.
type FunnelSpec struct {
	Steps    []string
	Within   time.Duration
	From, To time.Time
}

// ParseWithin reads a funnel's window: a Go duration such as "30m", "24h" or "168h".
func ParseWithin(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > MaxWithin {
		return 0, apierror.BadInput("within %q must be a duration such as \"30m\" or \"24h\", above 0 and at most %s", s, MaxWithin)
	}
	return d, nil
}

// Check refuses a funnel out of bounds before it reaches the database.
func (f FunnelSpec) Check() error {
	if len(f.Steps) < MinSteps || len(f.Steps) > MaxSteps {
		return apierror.BadInput("a funnel has %d to %d steps, not %d", MinSteps, MaxSteps, len(f.Steps))
	}
	for _, s := range f.Steps {
		if err := schema.ValidateEventName(s); err != nil {
			return apierror.BadInput("step %s", err)
		}
	}
	if !f.From.Before(f.To) {
		return apierror.BadInput("`from` must be before `to`")
	}
	return nil
}

// Funnel counts, per step, the users who reached it: a user enters at their first event of
// step 1 in [from, to); each next step is their earliest event of that name after the
// previous step's, no later than `within` after the entry. One statement:
//
//	WITH e AS (SELECT user_id, name, <time> AS t FROM events WHERE <rules, where, range, names>),
//	     s0 AS (SELECT user_id, MIN(t) AS t0, MIN(t) AS t FROM e WHERE name = $1 GROUP BY user_id),
//	     s1 AS (SELECT p.user_id, p.t0, MIN(e.t) AS t FROM s0 p JOIN e ON … GROUP BY p.user_id, p.t0),
//	     …
//	SELECT COUNT(*) AS c0, (SELECT COUNT(*) FROM s1) AS c1, … FROM s0
func Funnel(ctx context.Context, q *analytics.EventQuery, f FunnelSpec) ([]int, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	q.Where(event.OccurredAtGTE(f.From), event.OccurredAtLT(f.To), event.NameIn(f.Steps...))
	var out []funnelRow
	err := q.Modify(func(sel *sql.Selector) { reshapeFunnel(sel, f) }).Scan(ctx, &out)
	if err != nil {
		return nil, apierror.Database("analytics", err)
	}
	if len(out) != 1 {
		return nil, apierror.Database("analytics", fmt.Errorf("funnel: %d rows", len(out)))
	}
	counts := make([]int, len(f.Steps))
	for i := range counts {
		counts[i] = int(out[0].counts()[i])
	}
	return counts, nil
}

// funnelRow holds c0…c9, the users at each step.
type funnelRow struct {
	C0 int64 `sql:"c0"`
	C1 int64 `sql:"c1"`
	C2 int64 `sql:"c2"`
	C3 int64 `sql:"c3"`
	C4 int64 `sql:"c4"`
	C5 int64 `sql:"c5"`
	C6 int64 `sql:"c6"`
	C7 int64 `sql:"c7"`
	C8 int64 `sql:"c8"`
	C9 int64 `sql:"c9"`
}

func (r funnelRow) counts() [MaxSteps]int64 {
	return [MaxSteps]int64{r.C0, r.C1, r.C2, r.C3, r.C4, r.C5, r.C6, r.C7, r.C8, r.C9}
}

// reshapeFunnel builds the statement of Funnel on sel. ent applies the query's predicates
// (the access rules', the where, the range) after the modifiers, to the outer statement;
// funnelPrefix moves them into the CTE e when the statement is written. The outer statement
// reads s0 under the table's name so that the predicates' column references are those of e.
func reshapeFunnel(sel *sql.Selector, f FunnelSpec) {
	d := sel.Dialect()
	out := sql.Dialect(d).Select().From(sql.Table("s0").As(event.Table))
	out.AppendSelectExprAs(sql.Expr("COUNT(*)"), "c0")
	for i := 1; i < len(f.Steps); i++ {
		out.AppendSelectExprAs(sql.Expr(fmt.Sprintf("(SELECT COUNT(*) FROM s%d)", i)), fmt.Sprintf("c%d", i))
	}
	*sel = *out
	sel.Prefix(&funnelPrefix{top: sel, f: f})
}

// funnelPrefix writes the WITH clause of a funnel, taking the predicates of top.
type funnelPrefix struct {
	sql.Builder
	top   *sql.Selector
	f     FunnelSpec
	p     *sql.Predicate // taken from top once: a second writing must not lose the rules
	taken bool
}

// Query moves top's predicates into e, then writes the CTEs. It runs when top is written,
// after ent has applied the predicates, and before top's own WHERE, which it clears.
func (w *funnelPrefix) Query() (string, []any) {
	f := w.f
	d := w.top.Dialect()
	b := sql.Dialect(d)
	t := b.Table(event.Table)
	base := b.Select(t.Columns(event.Columns...)...).From(t)
	var within any
	if d == dialect.Postgres {
		base.AppendSelectAs(t.C(event.FieldOccurredAt), "t")
		within = f.Within.Microseconds()
	} else {
		// Integer milliseconds: SQLite keeps times as text, whose order is not the instants'.
		base.AppendSelectExprAs(sql.ExprFunc(func(b *sql.Builder) { sqliteMillis(b, t.C(event.FieldOccurredAt)) }), "t")
		within = f.Within.Milliseconds()
	}
	base.As(event.Table)
	e := b.Select(event.FieldUserID, event.FieldName, "t").From(base)
	if !w.taken {
		w.p, w.taken = w.top.P(), true
		w.top.SetP(nil)
	}
	if w.p == nil {
		// The range and the step names are always predicates: none means a change in ent.
		e.Where(sql.False())
	} else {
		e.Where(w.p)
	}
	with := b.With("e").As(e)

	// Each step's users: u, their entry time t0 and the time t they reached the step.
	s0 := b.Select().From(sql.Table("e"))
	s0.SelectExpr(sql.Expr("user_id AS u, MIN(t) AS t0, MIN(t) AS t")).
		Where(sql.EQ("name", f.Steps[0])).GroupBy("user_id")
	with.With("s0").As(s0)
	for i := 1; i < len(f.Steps); i++ {
		prev := fmt.Sprintf("s%d", i-1)
		step := f.Steps[i]
		si := b.Select().From(sql.Table(prev).As("p"))
		si.SelectExpr(sql.Expr("p.u AS u, p.t0 AS t0, MIN(x.t) AS t"))
		si.Join(sql.Table("e").As("x")).OnP(sql.P(func(pb *sql.Builder) {
			pb.WriteString("x.user_id = p.u AND x.name = ").Arg(step).WriteString(" AND x.t > p.t AND x.t <= p.t0 + ")
			if d == dialect.Postgres {
				pb.WriteString("CAST(").Arg(within).WriteString(" AS bigint) * INTERVAL '1 microsecond'")
			} else {
				pb.Arg(within)
			}
		}))
		si.GroupBy("u", "t0")
		with.With(fmt.Sprintf("s%d", i)).As(si)
	}
	with.SetDialect(d)
	with.SetTotal(w.Total())
	query, args := with.Query()
	if d == dialect.Postgres {
		// Inlined into each step rather than materialized once (PostgreSQL's choice for a CTE
		// read more than once): each step then finds its users' next events through the
		// (user_id, occurred_at) index instead of scanning every step event of the range.
		query = strings.Replace(query, `WITH "e" AS (`, `WITH "e" AS NOT MATERIALIZED (`, 1)
	}
	return query, args
}
