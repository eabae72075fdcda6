//go:build live

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/users/user"
	"github.com/multidb/multidb/graph/account"
	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/testdb"
)

// envInt reads a positive integer setting of the load test.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestLiveLoad (make bench-live) runs the server as the real binary (`multidb serve`, built
// for the run) in a child process on fresh PostgreSQL databases, opens LIVE_SUBSCRIBERS events
// subscriptions over loopback WebSockets (LIVE_PER_USER, 5, per connection, one connection
// per user) and ingests LIVE_RATE events/s through trackEvents for LIVE_DURATION seconds,
// spread over the users. It reports delivery latency (from the event's occurredAt, set when
// it is sent, to its arrival), missed and duplicated deliveries (both must be 0), statements
// per second on analytics (from the server's /metrics), and the server's RSS (its VmRSS and
// peak VmHWM from /proc), apart from the clients', which run in this process.
func TestLiveLoad(t *testing.T) {
	testdb.RequirePostgres(t, false)
	subscribers := envInt("LIVE_SUBSCRIBERS", 1000)
	rate := envInt("LIVE_RATE", 1000)
	duration := time.Duration(envInt("LIVE_DURATION", 20)) * time.Second
	// Each user holds LIVE_PER_USER subscriptions on one connection and receives its share of
	// the events, as users tail their own rows.
	perConn := min(envInt("LIVE_PER_USER", 5), 50)

	cfg := testdb.Config(t, config.Postgres)
	srv := startServer(t, cfg)
	set := testdb.Open(t, cfg)
	ctx := context.Background()

	admin := set.Users.User.Create().SetEmail("load-admin@example.com").SetName("Load").SetRole(user.RoleADMIN).SaveX(ctx)
	adminToken, _, err := account.Issue(ctx, set.Users, admin.ID, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	nUsers := (subscribers + perConn - 1) / perConn
	type sub struct {
		user uuid.UUID
		mu   sync.Mutex
		got  map[string]int
	}
	var (
		subs      []*sub
		latMu     sync.Mutex
		latencies []time.Duration
		ended     atomic.Int64 // subscriptions ended by an error (SLOW_CONSUMER)
		wg        sync.WaitGroup
	)
	userIDs := make([]uuid.UUID, nUsers)
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	for u := range nUsers {
		usr := set.Users.User.Create().SetEmail(fmt.Sprintf("load%05d@example.com", u)).SetName("Load").SaveX(ctx)
		userIDs[u] = usr.ID
		token, _, err := account.Issue(ctx, set.Users, usr.ID, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		conn, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(srv.url, "http"), &coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseNow()
		conn.SetReadLimit(1 << 20)
		send := func(v any) {
			b, _ := json.Marshal(v)
			if err := conn.Write(ctx, coderws.MessageText, b); err != nil {
				t.Fatal(err)
			}
		}
		send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
		if _, _, err := conn.Read(ctx); err != nil {
			t.Fatal(err)
		}
		mine := map[string]*sub{}
		for i := 0; i < perConn && len(subs) < subscribers; i++ {
			s := &sub{user: usr.ID, got: map[string]int{}}
			id := strconv.Itoa(len(subs))
			subs = append(subs, s)
			mine[id] = s
			send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{
				"query": `subscription { events { cursor node { id occurredAt } } }`}})
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, b, err := conn.Read(readCtx)
				if err != nil {
					return
				}
				now := time.Now()
				var m struct {
					ID      string
					Type    string
					Payload struct {
						Errors []json.RawMessage
						Data   struct {
							Events struct {
								Node struct {
									ID         string
									OccurredAt time.Time
								}
							}
						}
					}
				}
				if json.Unmarshal(b, &m) != nil || m.Type != "next" || mine[m.ID] == nil {
					continue
				}
				if len(m.Payload.Errors) > 0 {
					ended.Add(1)
					continue
				}
				n := m.Payload.Data.Events.Node
				s := mine[m.ID]
				s.mu.Lock()
				s.got[n.ID]++
				s.mu.Unlock()
				latMu.Lock()
				latencies = append(latencies, now.Sub(n.OccurredAt))
				latMu.Unlock()
			}
		}()
	}
	time.Sleep(2 * time.Second) // the subscriptions start; rows written earlier are not new to them

	sent := map[uuid.UUID][]string{}
	const tick = 100 * time.Millisecond
	batch := max(1, rate/10)
	stmts0 := srv.statements(t, "analytics")
	start := time.Now()
	doc := `mutation($in: [CreateEventInput!]!, $ids: [ID!]) { trackEvents(inputs: $in, ids: $ids) { id } }`
	for next := start; time.Since(start) < duration; next = next.Add(tick) {
		time.Sleep(time.Until(next))
		ins := make([]map[string]any, batch)
		ids := make([]string, batch)
		for i := range ins {
			u := userIDs[(int(time.Since(start)/tick)*batch+i)%nUsers]
			id := uuid.Must(uuid.NewV7())
			ids[i] = id.String()
			ins[i] = map[string]any{"userID": u, "name": "load", "occurredAt": time.Now().UTC().Format(time.RFC3339Nano)}
			sent[u] = append(sent[u], id.String())
		}
		body, _ := json.Marshal(map[string]any{"query": doc, "variables": map[string]any{"in": ins, "ids": ids}})
		req, err := http.NewRequest(http.MethodPost, srv.url, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+adminToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || bytes.Contains(out, []byte(`"errors"`)) {
			t.Fatalf("trackEvents: %d %.500s", res.StatusCode, out)
		}
	}
	elapsed := time.Since(start)
	stmts := srv.statements(t, "analytics") - stmts0
	serverRSS, serverPeak := procMemory(srv.cmd.Process.Pid)
	goroutines, heap, stacks := srv.metric(t, "go_goroutines"), srv.metric(t, "go_memstats_heap_inuse_bytes"), srv.metric(t, "go_memstats_stack_inuse_bytes")
	time.Sleep(5 * time.Second) // the last rows settle and arrive
	stopReading()
	wg.Wait()

	missed, dup := 0, 0
	for _, s := range subs {
		s.mu.Lock()
		for _, id := range sent[s.user] {
			switch n := s.got[id]; {
			case n == 0:
				missed++
			case n > 1:
				dup += n - 1
			}
		}
		s.mu.Unlock()
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[int(p*float64(len(latencies)-1))]
	}
	clientRSS, _ := procMemory(os.Getpid())
	t.Logf("subscribers %d, %d events/s for %s: %d deliveries, latency p50 %s p99 %s, missed %d, duplicated %d, ended by an error %d, analytics statements %.1f/s (ingestion included), server RSS %d MB (peak %d MB; heap in use %d MB, stacks %d MB, %d goroutines), clients' RSS %d MB",
		len(subs), rate, duration, len(latencies), pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), missed, dup, ended.Load(), float64(stmts)/elapsed.Seconds(), serverRSS>>20, serverPeak>>20, int64(heap)>>20, int64(stacks)>>20, int(goroutines), clientRSS>>20)
	if missed != 0 || dup != 0 {
		t.Errorf("missed %d, duplicated %d: want 0 and 0", missed, dup)
	}
	if len(latencies) == 0 {
		t.Error("nothing was delivered")
	}
}

// server is `multidb serve` running in a child process.
type server struct {
	url  string // of /graphql
	base string
	cmd  *exec.Cmd
}

// startServer builds the binary, migrates the databases of cfg with it and serves them on a
// free loopback port, until t ends.
func startServer(t *testing.T, cfg *config.Config) *server {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "multidb")
	build := exec.Command("go", "build", "-o", bin, "../cmd/multidb")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := append(os.Environ(), "ENV=test", "LISTEN_ADDR="+addr, "METRICS_PUBLIC=true", "PLAYGROUND=false")
	for _, db := range cfg.Databases {
		env = append(env, db.EnvVar+"="+db.DSN)
	}
	dir := t.TempDir() // no .env file of the repository applies
	migrate := exec.Command(bin, "migrate", "up")
	migrate.Env, migrate.Dir = env, dir
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve")
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, dir, &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	s := &server{url: "http://" + addr + "/graphql", base: "http://" + addr, cmd: cmd}
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(s.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not become ready: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// statements reads the server's count of statements sent to db from /metrics.
func (s *server) statements(t *testing.T, db string) int {
	t.Helper()
	return int(s.metric(t, `multidb_sql_statements_total{database="`+db+`"}`))
}

// metric reads one sample of the server's /metrics, by its name and labels as written there.
func (s *server) metric(t *testing.T, sample string) float64 {
	t.Helper()
	res, err := http.Get(s.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", sample)
	return 0
}

// procMemory is the resident set of process pid and its peak, in bytes, from /proc.
func procMemory(pid int) (rss, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		key, v, ok := strings.Cut(line, ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if key == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	return rss, peak
}
