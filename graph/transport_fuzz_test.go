package graph

import (
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// FuzzRequestParams feeds the transport's parsers untrusted bodies, query strings and Accept
// headers: they must never panic, must pick one of the two media types, and must never let an
// operation through without a document or a persisted query's hash.
func FuzzRequestParams(f *testing.F) {
	for _, s := range []string{
		`{"query":"{ __typename }"}`, `{"query":0}`, `{"query":null}`, `[]`, ``, `{"query":"x"} {}`,
		`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`,
		`query=%7B__typename%7D&variables=%7B%7D`, `variables=[1]`,
		`application/graphql-response+json, application/json;q=0.9`, `*/*;q=0`, `text/html`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(p *graphql.RawParams, err error) {
			if err == nil && p.Query == "" && p.Extensions["persistedQuery"] == nil {
				t.Fatalf("%q: accepted with no query", s)
			}
		}
		check(postParams([]byte(s)))
		check(getParams(s))
		if m := responseType(s); m != mediaJSON && m != mediaResponse {
			t.Fatalf("responseType(%q) = %q", s, m)
		}
	})
}
