package graph_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/graph/limit"
)

// TestCostPerRequest runs the attacks on the cost of one request against the real handler:
// a mutation of many root fields or of one mutation aliased many times, a where of thousands
// of predicates, large or costly documents from callers who are not signed in, and
// suggestions that rebuild a hidden schema.
func TestCostPerRequest(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, mutationFixture)
		h := e.with(t, graph.WithLoginLimits(nil, nil))
		user := h.as(e.session(t, userID(3), time.Now().Add(time.Hour)))

		t.Run("root fields of a mutation", func(t *testing.T) {
			var b strings.Builder
			b.WriteString("mutation {")
			for i := range limit.Defaults.RootFields + 1 {
				fmt.Fprintf(&b, " r%d: trackEvent(input: {name: \"e\", userID: %q}) { id }", i, userID(3))
			}
			b.WriteString(" }")
			e.count.reset()
			user.wantError(t, b.String(), nil, "GRAPHQL_VALIDATION_FAILED", "")
			if n := e.count.counts()["analytics"]; n != 0 {
				t.Errorf("%d statements to analytics for a refused mutation", n)
			}
		})
		t.Run("one mutation aliased", func(t *testing.T) {
			var b strings.Builder
			b.WriteString("mutation {")
			for i := range limit.Defaults.SameMutation + 1 {
				fmt.Fprintf(&b, " a%d: logIn(email: \"x%d@example.com\", password: \"not the password\") { token }", i, i)
			}
			b.WriteString(" }")
			h.wantError(t, b.String(), nil, "GRAPHQL_VALIDATION_FAILED", "")
		})
		t.Run("where of many predicates", func(t *testing.T) {
			or := make([]any, 20_000)
			for i := range or {
				or[i] = map[string]any{"name": fmt.Sprintf("n%d", i)}
			}
			doc := `query($w: UserWhereInput) { users(where: $w) { totalCount } }`
			e.count.reset()
			user.wantError(t, doc, map[string]any{"w": map[string]any{"or": or}}, "BAD_USER_INPUT", "users")
			many := map[string]any{}
			and := make([]any, limit.Defaults.WherePredicates+1)
			for i := range and {
				and[i] = map[string]any{"nameNEQ": fmt.Sprint(i)}
			}
			many["and"] = and
			user.wantError(t, doc, map[string]any{"w": many}, "BAD_USER_INPUT", "users")
			// Only the sessions of the two requests are looked up.
			if d := e.count.dump(); strings.Count(d, "users: ") != strings.Count(d, "token_hash") {
				t.Errorf("statements to users for a refused where:\n%s", d)
			}
			// A where within the bounds still runs.
			var ok struct{ Users struct{ TotalCount int } }
			user.query(t, doc, map[string]any{"w": map[string]any{"or": or[:10]}}, &ok)
		})
		t.Run("anonymous budgets", func(t *testing.T) {
			long := "{ __typename }\n#" + strings.Repeat("x", limit.Defaults.AnonymousDocument)
			h.wantError(t, long, nil, "GRAPHQL_VALIDATION_FAILED", "")
			user.query(t, long, nil, nil)
			costly := `{ users(first: 500) { edges { node { id } } } }`
			h.wantError(t, costly, nil, "COMPLEXITY_LIMIT_EXCEEDED", "")
			user.query(t, costly, nil, nil)
		})
		t.Run("no suggestions without introspection", func(t *testing.T) {
			closed := e.with(t, graph.WithIntrospection(false))
			for _, doc := range []string{
				`{ user { id } }`,
				`{ users(frist: 1) { totalCount } }`,
				`query($w: UserWhereInpt) { users(where: $w) { totalCount } }`,
				`{ users(orderBy: {field: EMIAL}) { totalCount } }`,
				`{ me }`,
			} {
				r := closed.do(t, doc, nil)
				if len(r.Errors) == 0 {
					t.Errorf("%s: no error", doc)
				}
				for _, err := range r.Errors {
					if strings.Contains(err.Message, "Did you mean") || strings.Contains(err.Message, "{ ... }") {
						t.Errorf("%s: the error suggests: %q", doc, err.Message)
					}
				}
			}
			// With introspection on the schema is public anyway, and suggestions help.
			r := e.do(t, `{ user { id } }`, nil)
			if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "Did you mean") {
				t.Errorf("with introspection on: %+v", r.Errors)
			}
		})
	})
}

// TestDocumentCacheIsBoundedInBytes sends unique large documents, as signed-in callers may,
// and checks that the live heap stays within the cache's bound (with room for the garbage
// collector), where a cache bounded in entries held each document.
//
// It is not parallel: the heap it measures must not be the other tests'.
func TestDocumentCacheIsBoundedInBytes(t *testing.T) {
	e := newEnv(t, "sqlite3")
	const budget = 8 << 20
	h := e.with(t, graph.WithViewer(testAdmin), graph.WithDocumentCacheBytes(budget))
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	const docs, size = 1000, 40 << 10
	pad := strings.Repeat("x", size)
	for i := range docs {
		doc := fmt.Sprintf("{ __typename }\n# %d %s", i, pad)
		r := h.do(t, doc, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("document %d: %+v", i, r.Errors)
		}
	}
	// 1,000 documents of 40 KiB are 40 MiB of source alone; the cache holds 8 MiB of weight
	// (each document weighs 8 times its length), about 25 of them.
	grew := int64(heap()) - int64(before)
	t.Logf("live heap grew by %.1f MiB after %d unique documents of %d KiB", float64(grew)/(1<<20), docs, size>>10)
	if grew > 16<<20 {
		t.Errorf("the live heap grew by %d MiB after %d unique documents of %d KiB", grew>>20, docs, size>>10)
	}
}

// TestDocumentCacheEvicts checks the cache's own bound: what it holds never weighs more
// than its budget, and documents too large for it are not held at all.
func TestDocumentCacheEvicts(t *testing.T) {
	c := limit.NewDocumentCache(1 << 20)
	for i := range 10_000 {
		c.Add(t.Context(), fmt.Sprintf("{ a%d }", i)+strings.Repeat(" ", i%2000), nil)
		if c.Bytes() > 1<<20 {
			t.Fatalf("after %d documents the cache holds %d bytes, over its bound", i+1, c.Bytes())
		}
	}
	big := strings.Repeat(" ", 1<<20)
	c.Add(t.Context(), big, nil)
	if _, ok := c.Get(t.Context(), big); ok {
		t.Error("a document larger than a sixteenth of the bound was cached")
	}
	if c.Len() == 0 {
		t.Error("the cache holds nothing")
	}
}
