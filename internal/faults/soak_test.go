//go:build soak

package faults_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multidb/multidb/internal/seed"
)

// TestSoak drives the running binary with a fixed rate of mixed queries and mutations
// (SOAK_DURATION, default 60s; SOAK_RATE per second, default 100), then checks that every
// acknowledged write is stored and that goroutines and heap did not keep growing.
func TestSoak(t *testing.T) {
	duration := envDuration(t, "SOAK_DURATION", 60*time.Second)
	rate := envInt(t, "SOAK_RATE", 100)
	s := newStack(t, "DB_MAX_CONNS=10")
	s.serve()

	type sample struct {
		at         time.Duration
		goroutines float64
		heap       float64
	}
	var samples []sample
	start := time.Now()
	takeSample := func() {
		m := scrape(t, s.base)
		samples = append(samples, sample{time.Since(start).Round(time.Second), m["go_goroutines"], m["go_memstats_heap_alloc_bytes"]})
	}
	takeSample()

	var mu sync.Mutex
	var latencies []time.Duration
	var acked []uuid.UUID
	errorsByKind := map[string]int{}
	record := func(kind string, took time.Duration, err string, id uuid.UUID) {
		mu.Lock()
		defer mu.Unlock()
		latencies = append(latencies, took)
		if err != "" {
			errorsByKind[kind+": "+err]++
		}
		if id != uuid.Nil {
			acked = append(acked, id)
		}
	}
	ops := []func(i int){
		func(i int) { // the stitched query of the README
			t0 := time.Now()
			r, err := s.graphql(context.Background(), stitched, nil)
			record("stitched", time.Since(t0), firstError(r, err), uuid.Nil)
		},
		func(i int) {
			t0 := time.Now()
			r, err := s.graphql(context.Background(), `mutation($in: CreateEventInput!) { trackEvent(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"userID": seed.DemoUsers[i%len(seed.DemoUsers)].ID, "name": "soak.event", "properties": map[string]any{"i": i}}})
			var d struct{ TrackEvent struct{ ID uuid.UUID } }
			if err == nil && len(r.Errors) == 0 {
				json.Unmarshal(r.Data, &d)
			}
			record("trackEvent", time.Since(t0), firstError(r, err), d.TrackEvent.ID)
		},
		func(i int) {
			t0 := time.Now()
			r, err := s.graphql(context.Background(), `{ events(first: 20, orderBy: {field: OCCURRED_AT, direction: DESC}) { totalCount edges { node { name user { email } } } } }`, nil)
			record("events", time.Since(t0), firstError(r, err), uuid.Nil)
		},
		func(i int) {
			t0 := time.Now()
			r, err := s.graphql(context.Background(), `mutation($in: CreateLogEntryInput!) { createLogEntry(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"message": fmt.Sprintf("soak %d", i), "level": "INFO"}})
			record("createLogEntry", time.Since(t0), firstError(r, err), uuid.Nil)
		},
	}

	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	every := time.NewTicker(duration / 6)
	defer every.Stop()
	end := time.After(duration)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64) // bounds the requests in flight if the server falls behind
loop:
	for i := 0; ; i++ {
		select {
		case <-end:
			break loop
		case <-every.C:
			takeSample()
		case <-tick.C:
			select {
			case sem <- struct{}{}:
			default:
				record("client", 0, "server behind: 64 requests in flight", uuid.Nil)
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				ops[i%len(ops)](i)
			}()
		}
	}
	wg.Wait()
	time.Sleep(2 * time.Second) // idle connections and finished goroutines settle
	takeSample()

	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[int(float64(len(latencies)-1)*p)] }
	errCount := 0
	for _, n := range errorsByKind {
		errCount += n
	}
	fmt.Printf("soak: %d requests in %v at %d/s: %d errors, p50 %v, p99 %v, max %v\n",
		len(latencies), duration, rate, errCount, pct(0.50), pct(0.99), latencies[len(latencies)-1])
	for kind, n := range errorsByKind {
		fmt.Printf("soak:   %d × %s\n", n, kind)
	}
	for _, smp := range samples {
		fmt.Printf("soak: at %-4v goroutines %4.0f  heap %6.1f MiB\n", smp.at, smp.goroutines, smp.heap/(1<<20))
	}

	stored := countEvents(t, s, acked)
	fmt.Printf("soak: %d events acknowledged, %d stored\n", len(acked), stored)
	if stored != len(acked) {
		t.Errorf("%d acknowledged writes lost", len(acked)-stored)
	}
	if errCount > 0 {
		t.Errorf("%d requests failed", errCount)
	}
	first, last := samples[1], samples[len(samples)-1] // samples[0] precedes the warm-up
	if last.goroutines > first.goroutines+20 {
		t.Errorf("goroutines grew from %.0f to %.0f", first.goroutines, last.goroutines)
	}
	if last.heap > 3*first.heap && last.heap-first.heap > 64<<20 {
		t.Errorf("heap grew from %.1f to %.1f MiB", first.heap/(1<<20), last.heap/(1<<20))
	}
	s.stop()
}

func firstError(r response, err error) string {
	if err != nil {
		return err.Error()
	}
	if len(r.Errors) > 0 {
		return fmt.Sprint(r.Errors[0].Extensions["code"], ": ", r.Errors[0].Message)
	}
	return ""
}

// scrape reads the numeric samples without labels from /metrics.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	return out
}

func countEvents(t *testing.T, s *stack, ids []uuid.UUID) int {
	t.Helper()
	db := openDirect(t, s, "analytics")
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = id.String()
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM events WHERE id::text = ANY(string_to_array($1, ','))`, strings.Join(strs, ",")).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func envDuration(t *testing.T, key string, def time.Duration) time.Duration {
	if v := os.Getenv(key); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s=%q: %v", key, v, err)
		}
		return d
	}
	return def
}

func envInt(t *testing.T, key string, def int) int {
	if v := os.Getenv(key); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q is not a positive number", key, v)
		}
		return n
	}
	return def
}
