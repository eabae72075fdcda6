package faults_test

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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/faultproxy"
	"github.com/multidb/multidb/internal/seed"
	"github.com/multidb/multidb/internal/testdb"
)

var binary string // built once by TestMain

func TestMain(m *testing.M) {
	if url := os.Getenv(childMigrateEnv); url != "" {
		os.Exit(childMigrate(url, os.Getenv(childDirEnv)))
	}
	dir, err := os.MkdirTemp("", "multidb-faults")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "multidb")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/multidb")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// stack is the real binary serving three PostgreSQL databases, each behind its own proxy.
type stack struct {
	t       *testing.T
	dir     string
	env     []string
	proxies map[string]*faultproxy.Proxy
	direct  map[string]string // database URLs without the proxy, for checks
	base    string
	cmd     *exec.Cmd
	logs    *syncBuffer
	exited  chan error
	token   string // the demo admin's session, sent as a bearer token
}

// newStack creates, migrates and seeds (development demo data) three fresh databases and puts a
// proxy in front of each. extra adds environment variables.
func newStack(t *testing.T, extra ...string) *stack {
	t.Helper()
	testdb.RequirePostgres(t, true)
	s := &stack{t: t, dir: t.TempDir(), proxies: map[string]*faultproxy.Proxy{}, direct: map[string]string{}}
	s.env = []string{"PATH=" + os.Getenv("PATH"), "ENV=development", "PLAYGROUND=false", "SHUTDOWN_GRACE=10s", "SHUTDOWN_DELAY=200ms"}
	for _, name := range database.Names() {
		direct := testdb.URL(t, config.Postgres, name)
		u, err := url.Parse(direct)
		if err != nil {
			t.Fatal(err)
		}
		p, err := faultproxy.Start(u.Host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		u.Host = p.Addr()
		s.proxies[name], s.direct[name] = p, direct
		s.env = append(s.env, config.EnvVar(name)+"="+u.String())
	}
	s.env = append(s.env, extra...)
	s.run("migrate")
	s.run("seed")
	return s
}

// run runs a multidb command to completion and returns its output.
func (s *stack) run(args ...string) string {
	s.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir, cmd.Env = s.dir, s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("multidb %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// serve starts `multidb serve` and waits until it listens.
func (s *stack) serve() {
	s.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.t.Fatal(err)
	}
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	s.base = "http://127.0.0.1:" + port
	s.logs = &syncBuffer{}
	s.cmd = exec.Command(binary, "serve")
	s.cmd.Dir, s.cmd.Env = s.dir, append(s.env, "PORT="+port)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.exited = make(chan error, 1)
	go func() { s.exited <- s.cmd.Wait() }()
	s.t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			s.t.Fatalf("serve exited: %v\n%s", err, s.logs)
		default:
		}
		if resp, err := http.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			if s.token == "" {
				s.login()
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("serve did not listen within 20s\n%s", s.logs)
}

// stop sends SIGTERM and waits for a clean exit.
func (s *stack) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case err := <-s.exited:
		if err != nil {
			s.t.Errorf("serve exited with %v after SIGTERM, want 0\n%s", err, s.logs)
		}
	case <-time.After(30 * time.Second):
		s.t.Fatalf("serve still running 30s after SIGTERM\n%s", s.logs)
	}
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type response struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	Status int             `json:"-"`
}

// graphql posts a document with a timeout.
func (s *stack) graphql(ctx context.Context, query string, vars map[string]any) (response, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		return response{}, fmt.Errorf("status %d: %s", resp.StatusCode, raw)
	}
	r.Status = resp.StatusCode
	return r, nil
}

// login makes the stack's following requests as the demo admin, who may see everything.
func (s *stack) login() {
	s.t.Helper()
	admin := seed.DemoUsers[0]
	r := s.mustQuery(`mutation($email: String!, $password: String!) { logIn(email: $email, password: $password) { token } }`,
		map[string]any{"email": admin.Email, "password": admin.Password})
	var d struct{ LogIn struct{ Token string } }
	if err := json.Unmarshal(r.Data, &d); err != nil || len(r.Errors) > 0 || d.LogIn.Token == "" {
		s.t.Fatalf("log in as %s: %+v %s", admin.Email, r.Errors, r.Data)
	}
	s.token = d.LogIn.Token
}

func (s *stack) mustQuery(query string, vars map[string]any) response {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r, err := s.graphql(ctx, query, vars)
	if err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
	return r
}

func (s *stack) readyz() (int, string) {
	s.t.Helper()
	resp, err := http.Get(s.base + "/readyz")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually retries check until it returns "" or the time is up, and fails with its last word.
func eventually(t *testing.T, within time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		if last = check(); last == "" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not within %v: %s", within, last)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
