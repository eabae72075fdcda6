package graph_test

import "testing"

// FuzzWhere sends arbitrary strings through the where-inputs of every database, top-level and
// stitched: whatever they hold (quotes, SQL, LIKE wildcards, invalid UTF-8, huge lists), the
// answer is data or BAD_USER_INPUT, never INTERNAL, and the values never reach SQL as text.
func FuzzWhere(f *testing.F) {
	e := fuzzEnv(f) // PostgreSQL when it answers: it refuses more input than SQLite
	for _, s := range []string{"", "%", "_", "' OR 1=1 --", `"; DROP TABLE users; --`, "\\", "\x00", "a\x00b", "\xff\xfe", "\xed\xa0\x80", "page.view", "ERROR", "User 001"} {
		f.Add(s, s)
	}
	const doc = `query($s: String!, $t: String!) {
		users(first: 2, where: {or: [{nameContains: $s}, {emailHasPrefix: $t}, {nameEqualFold: $s}]}) {
			totalCount
			edges { node { events(first: 1, where: {nameContainsFold: $t, nameNotIn: [$s, $t]}) { totalCount } } }
		}
		events(first: 1, where: {nameHasSuffix: $s, not: {name: $t}}) { totalCount }
		logEntries(first: 1, where: {messageContains: $s, requestIDGTE: $t}) { totalCount }
	}`
	f.Fuzz(func(t *testing.T, s, u string) {
		r := e.do(t, doc, map[string]any{"s": s, "t": u})
		for _, err := range r.Errors {
			if err.code() != "BAD_USER_INPUT" {
				t.Fatalf("s %q, t %q: got %s %q", s, u, err.code(), err.Message)
			}
		}
	})
}
