package graph_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/testdb"
)

var update = flag.Bool("update", false, "rewrite the expected JSON files under testdata/")

// env is one test's databases and the GraphQL endpoint over them.
type env struct {
	set   *database.Set
	srv   *httptest.Server
	count *counter
	logs  *lockedBuffer
	token string // sent as a bearer token when set (see as)
}

// forEachDialect runs fn on fresh migrated databases of every available dialect. Tests and
// dialects run in parallel: creating PostgreSQL databases is most of their time.
func forEachDialect(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	t.Parallel()
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, d))
		})
	}
}

func newEnv(t testing.TB, dialect string) *env {
	t.Helper()
	e := &env{count: newCounter(), logs: &lockedBuffer{}}
	e.set = testdb.OpenMigrated(t, dialect, database.WithDriverWrapper(e.count.wrap))
	log := slog.New(slog.NewTextHandler(e.logs, nil))
	// No session cache: the statement counts of the tests include every request's session
	// lookup (TestSessionCache tests the cache).
	e.srv = httptest.NewServer(graph.NewHandler(e.set, graph.WithLogger(log), graph.WithViewer(testAdmin), graph.WithSessionCache(0, 0)))
	t.Cleanup(e.srv.Close)
	return e
}

// testAdmin is the viewer of the requests of env.do that carry no token: an ADMIN, who sees
// every row, so that the tests of queries and mutations see the whole fixture.
var testAdmin = auth.Viewer{UserID: uuid.MustParse("0193a5a0-0000-7000-8000-0000000000ad"), Role: auth.RoleAdmin}

// as returns e sending token as its bearer token: the requests of that session's user.
func (e *env) as(token string) *env {
	c := *e
	c.token = token
	return &c
}

// with returns e served by a handler of its own, built with opts, on the same databases.
// Unlike newEnv's, its requests without a token are anonymous.
func (e *env) with(t testing.TB, opts ...graph.Option) *env {
	t.Helper()
	c := *e
	log := slog.New(slog.NewTextHandler(e.logs, nil))
	c.srv = httptest.NewServer(graph.NewHandler(e.set, append([]graph.Option{graph.WithLogger(log), graph.WithSessionCache(0, 0)}, opts...)...))
	t.Cleanup(c.srv.Close)
	return &c
}

// gqlError is one entry of a response's errors.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (e gqlError) code() string { s, _ := e.Extensions["code"].(string); return s }

func (e gqlError) path() string {
	parts := make([]string, len(e.Path))
	for i, p := range e.Path {
		parts[i] = fmt.Sprint(p)
	}
	return strings.Join(parts, ".")
}

// response is a GraphQL response as the client sees it.
type response struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	status int
}

// do sends a GraphQL document by POST and returns the decoded response.
func (e *env) do(t *testing.T, doc string, vars map[string]any) response {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	return decode(t, res)
}

func decode(t *testing.T, res *http.Response) response {
	t.Helper()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("decode response (status %d): %v\n%s", res.StatusCode, err, raw)
	}
	r.status = res.StatusCode
	return r
}

// query sends doc, fails the test on any error, and decodes data into out.
func (e *env) query(t *testing.T, doc string, vars map[string]any, out any) {
	t.Helper()
	r := e.do(t, doc, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v\nlogs:\n%s", r.Errors, e.logs)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatalf("decode data: %v\n%s", err, r.Data)
		}
	}
}

// wantError sends doc and checks that it fails with code, on path when path is not empty.
func (e *env) wantError(t *testing.T, doc string, vars map[string]any, code, path string) response {
	t.Helper()
	r := e.do(t, doc, vars)
	if len(r.Errors) == 0 {
		t.Fatalf("got no error, want %s; data: %s", code, r.Data)
	}
	got := r.Errors[0]
	if got.code() != code {
		t.Errorf("got code %q (%q), want %q", got.code(), got.Message, code)
	}
	if path != "" && got.path() != path {
		t.Errorf("got path %q, want %q", got.path(), path)
	}
	return r
}

// readFile returns a file under testdata/.
func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// matchJSON compares got with testdata/name, ignoring formatting; -update rewrites the file.
func matchJSON(t *testing.T, got json.RawMessage, name string) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got, "", "  "); err != nil {
		t.Fatalf("indent: %v", err)
	}
	pretty.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("response differs from %s (run with -update to accept)\ngot:\n%s", path, pretty.String())
	}
}

// epoch is the time the fixtures start at; fixed, so that expected files stay valid.
var epoch = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// fixtureID returns a deterministic UUID v7: kind keeps the tables apart, and ids grow with n
// as real v7 ids grow with time.
func fixtureID(kind, n int) uuid.UUID {
	var u uuid.UUID
	ms := uint64(epoch.UnixMilli()) + uint64(kind)<<32 + uint64(n)
	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (40 - 8*i))
	}
	u[6] = 0x70 // version 7
	u[8] = 0x80 // RFC 4122 variant
	u[15] = byte(kind)
	return u
}

// lockedBuffer collects the handler's log; requests log from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// graphTables counts the tables of the graph in each database, from the registry: what an
// admin's node lookup asks, one statement each.
func graphTables() map[string]int {
	out := map[string]int{}
	for _, spec := range database.Registry {
		for _, t := range spec.Types {
			if t.Nodes != nil {
				out[spec.Name]++
			}
		}
	}
	return out
}
