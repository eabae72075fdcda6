package loader_test

import (
	"context"
	"strings"
	"testing"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/logs"
	"github.com/multidb/multidb/ent/logs/logentry"
	"github.com/multidb/multidb/internal/testdb"
)

// TestAllRowsReadsWhatAllReads reads log entries, some with a user and some without (a NULL
// uuid between two set ones, in both orders), with All and with AllRows, whose boxes serve
// every row: the nodes must be equal field for field, and the column a modifier appends must
// reach the caller once per row, in order.
func TestAllRowsReadsWhatAllReads(t *testing.T) {
	t.Parallel()
	for _, dialect := range testdb.Dialects(t) {
		t.Run(testdb.Name(dialect), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			set := testdb.OpenMigrated(t, dialect)
			user := uuid.New()
			for i, withUser := range []bool{true, false, true, false, false, true} {
				c := set.Logs.LogEntry.Create().SetMessage("m").SetFields(map[string]any{"i": float64(i)})
				if withUser {
					c.SetUserID(user)
				}
				if i%2 == 0 {
					c.SetRequestID("r")
				}
				if err := c.Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			query := func() *logs.LogEntryQuery {
				return set.Logs.LogEntry.Query().Order(logentry.ByCreatedAt(), logentry.ByID())
			}
			want, err := query().All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var (
				rank  sql.NullInt64
				ranks []int64
			)
			q := query()
			q.Modify(func(s *sql.Selector) {
				s.AppendSelectExprAs(sql.Expr("ROW_NUMBER() OVER (ORDER BY "+s.C(logentry.FieldCreatedAt)+", "+s.C(logentry.FieldID)+")"), "rank")
			})
			got, err := q.AllRows(ctx, []any{&rank}, func() error {
				ranks = append(ranks, rank.Int64)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) || len(ranks) != len(want) {
				t.Fatalf("AllRows read %d nodes and %d ranks, All %d nodes", len(got), len(ranks), len(want))
			}
			for i := range want {
				g, w := got[i], want[i]
				if g.ID != w.ID || g.Message != w.Message || g.Level != w.Level || !g.CreatedAt.Equal(w.CreatedAt) ||
					!equalPtr(g.UserID, w.UserID) || !equalPtr(g.RequestID, w.RequestID) || g.Fields["i"] != w.Fields["i"] {
					t.Errorf("row %d: AllRows read %+v, All %+v", i, g, w)
				}
				if ranks[i] != int64(i+1) {
					t.Errorf("row %d: the appended column read %d, want %d", i, ranks[i], i+1)
				}
			}

			// An appended column not passed among the extra ones is refused, not read into a
			// box that every node would share.
			q = query()
			q.Modify(func(s *sql.Selector) { s.AppendSelectExprAs(sql.Expr("1"), "one") })
			if _, err := q.AllRows(ctx, nil, nil); err == nil || !strings.Contains(err.Error(), `"one"`) {
				t.Errorf("AllRows with a column it was not given a place for: %v, want an error naming it", err)
			}
		})
	}
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
