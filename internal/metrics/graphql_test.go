package metrics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/multidb/multidb/internal/metrics"
)

const testSchema = `
type Query { hello: String, slow: String, fail: String }
type Mutation { save: Boolean }
`

// slowFor is how long the field slow takes, so that the latency histograms have a floor.
const slowFor = 30 * time.Millisecond

// testSchemaExec is a gqlgen executable schema without generated code: it answers the first
// field of the operation, lazily as gqlgen's generated code does, and fail answers with two
// errors, one coded and one not.
func testSchemaExec() graphql.ExecutableSchema {
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "test.graphqls", Input: testSchema})
	return &graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return schema },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) {
			return 1, true
		},
		ExecFunc: func(ctx context.Context) graphql.ResponseHandler {
			op := graphql.GetOperationContext(ctx).Operation
			field := op.SelectionSet[0].(*ast.Field).Name
			done := false
			return func(ctx context.Context) *graphql.Response {
				if done {
					return nil
				}
				done = true
				switch field {
				case "slow":
					time.Sleep(slowFor)
				case "fail":
					graphql.AddError(ctx, &gqlerror.Error{Message: "no such thing", Extensions: map[string]any{"code": "NOT_FOUND"}})
					graphql.AddError(ctx, &gqlerror.Error{Message: "uncoded"})
					return &graphql.Response{Data: json.RawMessage(`{"fail":null}`)}
				}
				return &graphql.Response{Data: json.RawMessage(fmt.Sprintf(`{%q:"x"}`, field))}
			}
		},
	}
}

// graphqlServer serves a GraphQL handler with m's extension installed, wrapped by m's
// middleware, as internal/server is meant to.
func graphqlServer(t *testing.T, m *metrics.Metrics) *httptest.Server {
	t.Helper()
	gql := handler.New(testSchemaExec())
	gql.AddTransport(transport.GET{})
	gql.AddTransport(transport.POST{})
	gql.Use(m.GraphQL())
	srv := httptest.NewServer(m.Middleware(gql))
	t.Cleanup(srv.Close)
	return srv
}

// post sends a GraphQL document and returns the HTTP status.
func post(t *testing.T, srv *httptest.Server, query string, variables map[string]any) int {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": variables})
	resp, err := srv.Client().Post(srv.URL+"/graphql", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Errors []json.RawMessage }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: decode response: %v", query, err)
	}
	return resp.StatusCode
}

func TestGraphQL(t *testing.T) {
	m := metrics.New()
	srv := graphqlServer(t, m)

	steps := []struct {
		query  string
		vars   map[string]any
		status int
	}{
		{`query Hello { hello }`, nil, 200},
		{`query Hello { hello }`, nil, 200},
		{`{ hello }`, nil, 200},
		{`query Slow { slow }`, nil, 200},
		{`mutation Save { save }`, nil, 200},
		{`query Fail { fail }`, nil, 200},
		{`query Broken {`, nil, 422},                                                // does not parse
		{`query Unknown { nope }`, nil, 422},                                        // does not validate
		{`query Vars($b: Boolean!) { hello @skip(if: $b) }`, map[string]any{}, 422}, // variable missing
	}
	for _, s := range steps {
		if got := post(t, srv, s.query, s.vars); got != s.status {
			t.Fatalf("%s: got status %d, want %d", s.query, got, s.status)
		}
	}
	// GET is another transport; the extension sees it the same way.
	resp, err := srv.Client().Get(srv.URL + "/graphql?query=" + "query%20Hello%20%7B%20hello%20%7D")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	e := scrape(t, m)

	httpCounts := []struct {
		op, status string
		want       float64
	}{
		{"Hello", "2xx", 3},
		{"anonymous", "2xx", 1},
		{"Slow", "2xx", 1},
		{"Save", "2xx", 1},
		{"Fail", "2xx", 1},
		{"anonymous", "4xx", 2}, // Broken and Unknown: no operation to name
		{"Vars", "4xx", 1},      // parsed, so named, though never executed
	}
	for _, c := range httpCounts {
		got := e.value(t, "multidb_http_requests_total", "operation", c.op, "status", c.status)
		assertEqual(t, fmt.Sprintf("http requests {%s,%s}", c.op, c.status), got, c.want)
		n, _ := e.histogram(t, "multidb_http_request_duration_seconds", "operation", c.op, "status", c.status)
		assertEqual(t, fmt.Sprintf("http duration samples {%s,%s}", c.op, c.status), float64(n), c.want)
	}

	ops := []struct {
		op, typ string
		want    float64
	}{
		{"Hello", "query", 3},
		{"anonymous", "query", 1},
		{"Slow", "query", 1},
		{"Save", "mutation", 1},
		{"Fail", "query", 1},
	}
	for _, c := range ops {
		got := e.value(t, "multidb_graphql_operations_total", "operation", c.op, "type", c.typ)
		assertEqual(t, fmt.Sprintf("operations {%s,%s}", c.op, c.typ), got, c.want)
		n, _ := e.histogram(t, "multidb_graphql_operation_duration_seconds", "operation", c.op, "type", c.typ)
		assertEqual(t, fmt.Sprintf("operation duration samples {%s,%s}", c.op, c.typ), float64(n), c.want)
	}
	if e.has("multidb_graphql_operations_total", "operation", "Vars") {
		t.Error("Vars counted as an executed operation; it failed validation")
	}
	// The latency is that of the execution, which gqlgen runs lazily after the interceptor.
	if _, sum := e.histogram(t, "multidb_graphql_operation_duration_seconds", "operation", "Slow"); sum < slowFor.Seconds() {
		t.Errorf("Slow took %.3fs by the operation histogram, want at least %.3fs", sum, slowFor.Seconds())
	}
	if _, sum := e.histogram(t, "multidb_http_request_duration_seconds", "operation", "Slow"); sum < slowFor.Seconds() {
		t.Errorf("Slow took %.3fs by the HTTP histogram, want at least %.3fs", sum, slowFor.Seconds())
	}

	errs := []struct {
		op, code string
		want     float64
	}{
		{"Fail", "NOT_FOUND", 1},
		{"Fail", "NONE", 1},
		{"anonymous", "GRAPHQL_PARSE_FAILED", 1},
		{"anonymous", "GRAPHQL_VALIDATION_FAILED", 1},
		{"Vars", "GRAPHQL_VALIDATION_FAILED", 1},
	}
	for _, c := range errs {
		got := e.value(t, "multidb_graphql_errors_total", "operation", c.op, "code", c.code)
		assertEqual(t, fmt.Sprintf("errors {%s,%s}", c.op, c.code), got, c.want)
	}
	if n := len(e["multidb_graphql_errors_total"].GetMetric()); n != len(errs) {
		t.Errorf("got %d error series, want %d (an error counted twice or under a wrong label?):\n%s",
			n, len(errs), e.dump("multidb_graphql_errors_total"))
	}
}

// TestOperationNameCap sends more distinct operation names than MaxOperations: the names past
// the cap share the label "other", and a name seen before the cap keeps its own.
func TestOperationNameCap(t *testing.T) {
	m := metrics.New()
	srv := graphqlServer(t, m)
	const extra = 5
	for i := range metrics.MaxOperations + extra {
		post(t, srv, fmt.Sprintf("query Op%d { hello }", i), nil)
	}
	post(t, srv, "query Op0 { hello }", nil)
	post(t, srv, "{ hello }", nil) // anonymous is not a name and is never capped

	e := scrape(t, m)
	names := e.labelValues("multidb_graphql_operations_total", "operation")
	if want := metrics.MaxOperations + 2; len(names) != want {
		t.Errorf("got %d operation label values, want %d (%d names, other, anonymous)", len(names), want, metrics.MaxOperations)
	}
	assertEqual(t, "operations {other}", e.value(t, "multidb_graphql_operations_total", "operation", "other"), extra)
	assertEqual(t, "operations {Op0}", e.value(t, "multidb_graphql_operations_total", "operation", "Op0"), 2)
	assertEqual(t, "operations {anonymous}", e.value(t, "multidb_graphql_operations_total", "operation", "anonymous"), 1)
	assertEqual(t, "http requests {other}", e.value(t, "multidb_http_requests_total", "operation", "other"), extra)
	if n := len(e.labelValues("multidb_http_requests_total", "operation")); n != metrics.MaxOperations+2 {
		t.Errorf("got %d HTTP operation label values, want %d", n, metrics.MaxOperations+2)
	}
}

// TestMiddlewareWithoutGraphQL covers requests that never reach an operation, and a panic.
func TestMiddlewareWithoutGraphQL(t *testing.T) {
	m := metrics.New()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()
	for _, p := range []string{"/ok", "/down", "/missing", "/panic"} {
		resp, err := srv.Client().Get(srv.URL + p)
		if err == nil {
			resp.Body.Close()
		}
	}
	e := scrape(t, m)
	for status, want := range map[string]float64{"2xx": 1, "4xx": 1, "5xx": 2} {
		assertEqual(t, "requests "+status, e.value(t, "multidb_http_requests_total", "operation", "anonymous", "status", status), want)
	}
}

// TestLongOperationNames sends operation names of 100 KB, as an attacker did to grow a
// scrape to megabytes: each is counted as "other", and the scrape stays small.
func TestLongOperationNames(t *testing.T) {
	m := metrics.New()
	srv := graphqlServer(t, m)
	for i := range 3 {
		post(t, srv, fmt.Sprintf("query %s%d { hello }", strings.Repeat("A", 100_000), i), nil)
	}
	post(t, srv, "query "+strings.Repeat("B", metrics.MaxOperationName)+" { hello }", nil)
	e := scrape(t, m)
	assertEqual(t, "operations {other}", e.value(t, "multidb_graphql_operations_total", "operation", "other"), 3)
	for _, name := range e.labelValues("multidb_graphql_operations_total", "operation") {
		if len(name) > metrics.MaxOperationName {
			t.Errorf("a label value of %d bytes", len(name))
		}
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if n := rec.Body.Len(); n > 256<<10 {
		t.Errorf("the scrape is %d KiB after three long operation names", n>>10)
	}
}
