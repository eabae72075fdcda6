package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/testdb"
)

// TestBinaryWithTheComposeEnvironment builds the real binary and runs it with exactly the
// environment compose gives the migrate and api services, except that each database URL points
// at a fresh database on the local PostgreSQL instead of the compose service: migrate, then
// serve, then a stitched query, then SIGTERM.
func TestBinaryWithTheComposeEnvironment(t *testing.T) {
	testdb.RequirePostgres(t, true)
	p := loadCompose(t)
	bin := filepath.Join(t.TempDir(), "multidb")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/multidb")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	local, hosts := map[string]string{}, map[string]string{}
	for _, db := range databases() {
		local[db.envVar] = testdb.URL(t, config.Postgres, db.name)
		hosts[db.envVar] = db.service
	}
	workdir := t.TempDir() // no .env files: the environment alone configures the binary
	environ := func(name string, extra ...string) []string {
		env := []string{"PATH=" + os.Getenv("PATH")}
		for k, v := range service(t, p, name).Environment {
			if v == nil {
				continue
			}
			if u, ok := local[k]; ok {
				// Compose's host names do not resolve here: swap in the local database, after
				// checking that compose points the variable at the right service.
				if cu, err := url.Parse(*v); err != nil || cu.Hostname() != hosts[k] {
					t.Errorf("%s: %s=%s does not point at service %s", name, k, *v, hosts[k])
				}
				env = append(env, k+"="+u)
				continue
			}
			env = append(env, k+"="+*v)
		}
		return append(env, extra...)
	}

	migrate := exec.Command(bin, service(t, p, "migrate").Command...)
	migrate.Dir, migrate.Env = workdir, environ("migrate")
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("migrate service: %v\n%s", err, out)
	} else {
		// Every database ships at least its initial migration.
		for _, db := range databases() {
			if !strings.Contains(string(out), db.name+": applied ") {
				t.Errorf("migrate service applied nothing to %s:\n%s", db.name, out)
			}
		}
	}

	port := freePort(t)
	var logs bytes.Buffer
	api := exec.Command(bin, service(t, p, "api").Command...)
	api.Dir, api.Env = workdir, environ("api", "PORT="+port)
	api.Stdout, api.Stderr = &logs, &logs
	if err := api.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- api.Wait() }()
	t.Cleanup(func() {
		if api.ProcessState == nil {
			api.Process.Kill()
			<-exited
		}
	})
	base := "http://127.0.0.1:" + port
	waitReady(t, base, exited, &logs)

	// Only signUp and logIn are open to anonymous callers: sign up, then act as that user.
	signUp := post(t, base, "", `mutation { signUp(email: "ops@example.com", password: "deploy-check-password", name: "Ops") { token user { id } } }`)["signUp"].(map[string]any)
	token, id := signUp["token"].(string), signUp["user"].(map[string]any)["id"].(string)
	post(t, base, token, fmt.Sprintf(`mutation { trackEvent(input: {userID: %q, name: "deploy.check"}) { id } }`, id))
	got := post(t, base, token, `query Stitched { users(first: 5) { edges { node { email events(first: 5) { totalCount edges { node { name user { name } } } } } } } }`)
	b, _ := json.Marshal(got)
	want := `{"users":{"edges":[{"node":{"email":"ops@example.com","events":{"edges":[{"node":{"name":"deploy.check","user":{"name":"Ops"}}}],"totalCount":1}}}]}}`
	if string(b) != want {
		t.Errorf("stitched query:\n got %s\nwant %s", b, want)
	}

	// The query shows in /metrics: by operation name, and as SQL by database; every
	// database's pool is reported, whether the query used it or not.
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	scraped, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	series := []string{
		`multidb_http_requests_total\{operation="Stitched",status="2xx"\} 1`,
		`multidb_graphql_operations_total\{operation="Stitched",type="query"\} 1`,
		`multidb_sql_statements_total\{database="analytics"\} [1-9]`,
		`multidb_sql_statements_total\{database="users"\} [1-9]`,
		`multidb_audit_dropped_total 0`,
	}
	for _, db := range databases() {
		series = append(series, `multidb_db_pool_max_open_connections\{database="`+regexp.QuoteMeta(db.name)+`"\} [1-9]`)
	}
	for _, re := range series {
		if !regexp.MustCompile(`(?m)^` + re).Match(scraped) {
			t.Errorf("/metrics lacks a line matching %s", re)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepLines(string(scraped), "multidb_"))
	}

	if err := api.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("api exited with %v after SIGTERM, want 0\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("api did not stop within 20s of SIGTERM\n%s", logs.String())
	}
	// Staging logs JSON, one object per line, for collectors.
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("staging log line is not JSON: %s", line)
			break
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func waitReady(t *testing.T, base string, exited <-chan error, logs *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("api exited before it was ready: %v\n%s", err, logs.String())
		default:
		}
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("api not ready within 20s\n%s", logs.String())
}

func grepLines(s, sub string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// post sends a GraphQL document, with a bearer token unless it is empty, and returns its
// data, failing the test on any error.
func post(t *testing.T, base, token, query string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Data   map[string]any    `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Errors) > 0 {
		t.Fatalf("%s\n-> %s", query, raw)
	}
	return out.Data
}
