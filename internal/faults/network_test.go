package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// readyzState is /readyz's word on each database, by name, and how long it took to answer.
func (s *stack) readyzStates(t *testing.T) (map[string]string, int, time.Duration) {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("readyz: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		Databases []struct{ Name, State string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("readyz: %v", err)
	}
	out := map[string]string{}
	for _, d := range body.Databases {
		out[d.Name] = d.State
	}
	return out, resp.StatusCode, time.Since(start)
}

// TestBlackholedDatabaseUnderLoad: the logs database goes silent (the network drops every
// packet; connections are accepted and never answered) for longer than the request timeout,
// under load. Every request still ends within REQUEST_TIMEOUT + 2s, the ones that need logs
// with an error naming logs, the others whole; /readyz answers within a second and names logs.
func TestBlackholedDatabaseUnderLoad(t *testing.T) {
	const requestTimeout = 2 * time.Second
	const blackhole = 6 * time.Second
	s := newStack(t, "REQUEST_TIMEOUT=2s", "READY_INTERVAL=250ms", "READY_TIMEOUT=1s")
	s.serve()
	if r := s.mustQuery(stitched, nil); len(r.Errors) > 0 {
		t.Fatalf("all up: %+v", r.Errors)
	}

	type result struct {
		took    time.Duration
		query   string
		err     error
		codes   []string
		status  int
		hasData bool
	}
	queries := map[string]string{
		"stitched":  stitched,
		"logs":      `{ logEntries(first: 3) { edges { node { message } } } }`,
		"users":     `{ users(first: 3) { edges { node { email } } } }`,
		"analytics": `{ events(first: 3) { totalCount } }`,
	}
	names := []string{"stitched", "logs", "users", "analytics"}
	var mu sync.Mutex
	var results []result
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := names[(w+i)%len(names)]
				// The client waits far longer than the server should: a hang shows as a long took.
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				start := time.Now()
				r, err := s.graphql(ctx, queries[name], nil)
				took := time.Since(start)
				cancel()
				res := result{took: took, query: name, err: err, status: r.Status, hasData: len(r.Data) > 0 && string(r.Data) != "null"}
				for _, e := range r.Errors {
					res.codes = append(res.codes, fmt.Sprintf("%v@%v", e.Extensions["code"], e.Extensions["database"]))
				}
				mu.Lock()
				results = append(results, res)
				mu.Unlock()
			}
		})
	}

	time.Sleep(500 * time.Millisecond)
	s.proxies["logs"].Blackhole()
	holeStart := time.Now()
	var readyzMax time.Duration
	named := time.Duration(-1)
	var seen []string
	for time.Since(holeStart) < blackhole {
		states, code, took := s.readyzStates(t)
		readyzMax = max(readyzMax, took)
		seen = append(seen, fmt.Sprintf("%d%v", code, states))
		if named < 0 && code == http.StatusServiceUnavailable && states["logs"] == "unreachable" && states["users"] == "up" && states["analytics"] == "up" {
			named = time.Since(holeStart)
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.proxies["logs"].Restore()
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	if readyzMax > time.Second {
		t.Errorf("readyz took up to %v during the blackhole, want within 1s", readyzMax)
	}
	if named < 0 {
		t.Errorf("readyz never named logs unreachable (with users and analytics up) during the blackhole: %v", seen)
	}
	var worst time.Duration
	perQuery := map[string]int{}
	codes := map[string]int{}
	for _, r := range results {
		worst = max(worst, r.took)
		perQuery[r.query]++
		if r.err != nil {
			t.Errorf("%s: %v after %v", r.query, r.err, r.took)
			continue
		}
		if r.took > requestTimeout+2*time.Second {
			t.Errorf("%s took %v, want within REQUEST_TIMEOUT + 2s = %v", r.query, r.took, requestTimeout+2*time.Second)
		}
		for _, c := range r.codes {
			codes[c]++
			switch c {
			case "TIMEOUT@logs", "DATABASE_UNAVAILABLE@logs", "DATABASE_BUSY@logs":
			default:
				t.Errorf("%s: error %s, want only errors naming logs", r.query, c)
			}
		}
		if (r.query == "users" || r.query == "analytics") && len(r.codes) > 0 {
			t.Errorf("%s query, which needs no logs, failed: %v", r.query, r.codes)
		}
		if r.status != http.StatusOK {
			t.Errorf("%s: HTTP %d", r.query, r.status)
		}
	}
	if t.Failed() {
		for _, l := range strings.Split(s.logs.String(), "\n") {
			if strings.Contains(l, "timed out") {
				t.Log(l)
				break
			}
		}
	}
	if codes["TIMEOUT@logs"]+codes["DATABASE_UNAVAILABLE@logs"] == 0 {
		t.Error("no request met the blackhole: the test did not test it")
	}
	durations := make([]time.Duration, 0, len(results))
	for _, r := range results {
		durations = append(durations, r.took)
	}
	sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
	t.Logf("%d requests (%v); slowest %v, p99 %v; errors %v; readyz slowest %v, named logs %v after the blackhole began",
		len(results), perQuery, worst, durations[len(durations)*99/100], codes, readyzMax, named)

	// The pool recovers by itself once the network does.
	eventually(t, 10*time.Second, func() string {
		if r := s.mustQuery(queries["logs"], nil); len(r.Errors) > 0 {
			return fmt.Sprintf("logs after the blackhole: %+v", r.Errors)
		}
		if states, code, _ := s.readyzStates(t); code != http.StatusOK {
			return fmt.Sprintf("readyz after the blackhole: %d %v", code, states)
		}
		return ""
	})
	s.stop()
}

// TestRefusingDatabase: a server in crash recovery (57P03), at its connection limit (53300) or
// shut down by its administrator (57P01) is DATABASE_UNAVAILABLE naming it, never INTERNAL, and
// /readyz says it refuses; the users database refusing fails a signed-in request with HTTP 503.
func TestRefusingDatabase(t *testing.T) {
	// No session cache: the signed-in request must check its session on the refusing database.
	s := newStack(t, "READY_INTERVAL=200ms", "READY_TIMEOUT=500ms", "SESSION_CACHE_TTL=0")
	s.serve()
	for _, code := range []string{"57P03", "53300", "57P01"} {
		s.proxies["analytics"].Refuse(code)
		r := s.mustQuery(stitched, nil)
		if why := unavailable(r, "analytics"); why != "" {
			t.Errorf("analytics refusing with %s: %s", code, why)
		}
		eventually(t, 5*time.Second, func() string {
			if states, status, _ := s.readyzStates(t); status != http.StatusServiceUnavailable || states["analytics"] != "refusing" || states["users"] != "up" {
				return fmt.Sprintf("readyz with analytics refusing (%s): %d %v", code, status, states)
			}
			return ""
		})
	}
	s.proxies["analytics"].Restore()

	s.proxies["users"].Refuse("57P03")
	r := s.mustQuery(`{ events(first: 1) { totalCount } }`, nil)
	if r.Status != http.StatusServiceUnavailable || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "DATABASE_UNAVAILABLE" {
		t.Errorf("users refusing, a signed-in request: HTTP %d %+v, want 503 DATABASE_UNAVAILABLE", r.Status, r.Errors)
	}
	s.proxies["users"].Restore()
	eventually(t, 10*time.Second, func() string {
		if r := s.mustQuery(stitched, nil); len(r.Errors) > 0 || r.Status != http.StatusOK {
			return fmt.Sprintf("after Restore: %d %+v", r.Status, r.Errors)
		}
		return ""
	})
	s.stop()
}

// TestSlowClientAndSilentUsersDatabase: a client that sends its body a byte a second is cut at
// READ_TIMEOUT; with the users database silent, a signed-in request (whose session cannot be
// checked) is HTTP 503 naming the wait, within REQUEST_TIMEOUT + 2s, never a 500 or a hang.
func TestSlowClientAndSilentUsersDatabase(t *testing.T) {
	// No session cache: the signed-in request must check its session on the silent database.
	s := newStack(t, "REQUEST_TIMEOUT=2s", "READ_TIMEOUT=2s", "SESSION_CACHE_TTL=0")
	s.serve()

	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	cut := make(chan time.Duration, 1)
	go func() {
		buf := make([]byte, 512)
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		for {
			if _, err := conn.Read(buf); err != nil {
				cut <- time.Since(start)
				return
			}
		}
	}()
	func() {
		for range 59 {
			select {
			case took := <-cut:
				// 60 bytes at one a second would take a minute.
				if took > 10*time.Second {
					t.Errorf("slow body cut after %v, want about READ_TIMEOUT (2s)", took)
				}
				return
			case <-time.After(time.Second):
			}
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
		t.Error("a body sent a byte a second was still read after a minute")
	}()

	s.proxies["users"].Blackhole()
	start = time.Now()
	r := s.mustQuery(`{ events(first: 1) { totalCount } }`, nil)
	took := time.Since(start)
	s.proxies["users"].Restore()
	if r.Status != http.StatusServiceUnavailable || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "TIMEOUT" {
		t.Errorf("users silent, a signed-in request: HTTP %d %+v, want 503 TIMEOUT", r.Status, r.Errors)
	}
	if took > 4*time.Second {
		t.Errorf("users silent, a signed-in request took %v, want within REQUEST_TIMEOUT + 2s", took)
	}
	eventually(t, 10*time.Second, func() string {
		if r := s.mustQuery(stitched, nil); len(r.Errors) > 0 || r.Status != http.StatusOK {
			return fmt.Sprintf("after Restore: %d %+v", r.Status, r.Errors)
		}
		return ""
	})
	s.stop()
}
