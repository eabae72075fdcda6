package graph_test

import "testing"

// FuzzArguments sends arbitrary IDs and cursors: whatever they hold, the answer is data or
// BAD_USER_INPUT, never INTERNAL.
func FuzzArguments(f *testing.F) {
	e := fuzzEnv(f) // PostgreSQL when it answers: it refuses more input than SQLite
	for _, s := range []string{"", "42", userID(1).String(), "zzzz", "gqFp2SQwMTljNzk2ZC1kNjA2LTcwMDAtODAwMC0wMDAwMDAwMDAwMDE", "3wAAAAA", "kw"} {
		f.Add(s, s)
	}
	const doc = `query($id: ID!, $after: Cursor) {
		node(id: $id) { id }
		users(first: 1, after: $after) { edges { node { events(first: 1, after: $after) { totalCount } } } }
	}`
	f.Fuzz(func(t *testing.T, id, cursor string) {
		r := e.do(t, doc, map[string]any{"id": id, "after": cursor})
		for _, err := range r.Errors {
			if err.code() != "BAD_USER_INPUT" {
				t.Fatalf("id %q, cursor %q: got %s %q", id, cursor, err.code(), err.Message)
			}
		}
	})
}
