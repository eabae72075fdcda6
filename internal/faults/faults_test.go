package faults_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/seed"
)

const stitched = `{ users(first: 10) { edges { node { email
	events(first: 3) { totalCount }
	logs(first: 2) { totalCount } } } } }`

// unavailable reports whether r carries DATABASE_UNAVAILABLE errors naming db, and only those.
func unavailable(r response, db string) string {
	if len(r.Errors) == 0 {
		return "no errors"
	}
	for _, e := range r.Errors {
		if e.Extensions["code"] != "DATABASE_UNAVAILABLE" || e.Extensions["database"] != db {
			return fmt.Sprintf("error %+v, want DATABASE_UNAVAILABLE naming %s", e, db)
		}
	}
	return ""
}

type stitchedData struct {
	Users struct {
		Edges []struct {
			Node struct {
				Email  string
				Events *struct{ TotalCount int }
				Logs   *struct{ TotalCount int }
			}
		}
	}
}

func decode(t *testing.T, r response) stitchedData {
	t.Helper()
	var d stitchedData
	if err := json.Unmarshal(r.Data, &d); err != nil {
		t.Fatalf("data %s: %v", r.Data, err)
	}
	return d
}

func TestOneDatabaseDownThenBack(t *testing.T) {
	s := newStack(t)
	s.serve()
	r := s.mustQuery(stitched, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("all up: %+v", r.Errors)
	}
	// What the seeders wrote is the reference, whatever they are: with analytics down, the
	// same users and logs come back, and only the events are missing.
	before := map[string]int{} // email -> log entries
	events := map[string]int{} // email -> events
	for _, e := range decode(t, r).Users.Edges {
		if e.Node.Events == nil || e.Node.Logs == nil {
			t.Fatalf("all up: %s has events %+v, logs %+v; want both", e.Node.Email, e.Node.Events, e.Node.Logs)
		}
		before[e.Node.Email], events[e.Node.Email] = e.Node.Logs.TotalCount, e.Node.Events.TotalCount
	}
	if len(before) == 0 {
		t.Fatal("all up: no users; the seed gave the stitched query nothing to read")
	}

	s.proxies["analytics"].Cut()
	r = s.mustQuery(stitched, nil)
	if why := unavailable(r, "analytics"); why != "" {
		t.Fatalf("analytics down: %s\n%s", why, r.Data)
	}
	d := decode(t, r)
	if len(d.Users.Edges) != len(before) {
		t.Fatalf("analytics down: got %d users, want all %d from the users database", len(d.Users.Edges), len(before))
	}
	for _, e := range d.Users.Edges {
		logs, known := before[e.Node.Email]
		if !known || e.Node.Events != nil || e.Node.Logs == nil || e.Node.Logs.TotalCount != logs {
			t.Errorf("%s: events %+v logs %+v, want events null and logs' count of %d", e.Node.Email, e.Node.Events, e.Node.Logs, logs)
		}
	}
	// /readyz reports the background probes: it sees the outage within a probe round or two.
	eventually(t, 5*time.Second, func() string {
		code, body := s.readyz()
		if code != http.StatusServiceUnavailable || !contains(body, `"name":"analytics","up":false`, `"name":"users","up":true`) {
			return fmt.Sprintf("readyz with analytics down: %d %s", code, body)
		}
		return ""
	})

	s.proxies["analytics"].Restore()
	eventually(t, 10*time.Second, func() string {
		r := s.mustQuery(stitched, nil)
		if len(r.Errors) > 0 {
			return fmt.Sprintf("after restore: %+v", r.Errors)
		}
		for _, e := range decode(t, r).Users.Edges {
			if e.Node.Events == nil || e.Node.Events.TotalCount != events[e.Node.Email] {
				return fmt.Sprintf("after restore: %s has events %+v, want a count of %d", e.Node.Email, e.Node.Events, events[e.Node.Email])
			}
		}
		return ""
	})
	eventually(t, 5*time.Second, func() string {
		if code, body := s.readyz(); code != http.StatusOK {
			return fmt.Sprintf("readyz after restore: %d %s", code, body)
		}
		return ""
	})
	s.stop()
}

func TestServeStartsWithADatabaseDown(t *testing.T) {
	s := newStack(t)
	s.proxies["logs"].Cut()
	s.serve()
	if !strings.Contains(s.logs.String(), "database unavailable") {
		t.Errorf("start-up log does not say logs is down:\n%s", s.logs)
	}
	code, body := s.readyz()
	if code != http.StatusServiceUnavailable || !contains(body, `"name":"logs","up":false`) {
		t.Errorf("readyz: %d %s, want 503 with logs down", code, body)
	}
	r := s.mustQuery(`{ users(first: 2) { edges { node { email } } } }`, nil)
	if len(r.Errors) > 0 {
		t.Errorf("a users-only query with logs down: %+v", r.Errors)
	}
	s.proxies["logs"].Restore()
	eventually(t, 10*time.Second, func() string {
		if r := s.mustQuery(`{ logEntries(first: 1) { totalCount } }`, nil); len(r.Errors) > 0 {
			return fmt.Sprintf("logs after restore: %+v", r.Errors)
		}
		if code, body := s.readyz(); code != http.StatusOK {
			return fmt.Sprintf("readyz after restore: %d %s", code, body)
		}
		return ""
	})
	s.stop()
}

func TestSlowDatabaseHoldsOnlyItsOwnConnections(t *testing.T) {
	// One caller sends every query here: with a share of the whole pool, it is the pool's
	// wait limit that is tested, not the caller's share (graph's TestFairShare tests that).
	s := newStack(t, "ANALYTICS_DB_MAX_CONNS=2", "ANALYTICS_DB_CONN_WAIT=300ms", "DB_VIEWER_SHARE=1")
	s.serve()
	s.proxies["analytics"].SetDelay(800 * time.Millisecond)

	// Four queries that need analytics: two hold its two connections, two find none free.
	var wg sync.WaitGroup
	results := make([]response, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.mustQuery(`{ events(first: 1) { totalCount } }`, nil)
		}()
	}
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	r := s.mustQuery(`{ users(first: 5) { edges { node { email } } } }`, nil)
	if took := time.Since(start); len(r.Errors) > 0 || took > time.Second {
		t.Errorf("users-only query while analytics is slow: took %v, errors %+v; want fast and clean", took, r.Errors)
	}
	wg.Wait()
	busy := 0
	for _, r := range results {
		if len(r.Errors) == 0 {
			continue
		}
		for _, e := range r.Errors {
			// A full pool is not an outage: DATABASE_BUSY naming the database, not UNAVAILABLE.
			if e.Extensions["code"] != "DATABASE_BUSY" || e.Extensions["database"] != "analytics" {
				t.Errorf("analytics pool full: error %+v, want DATABASE_BUSY naming analytics", e)
			}
		}
		busy++
	}
	if busy == 0 {
		t.Error("no analytics query was refused for want of a connection; the wait limit did not apply")
	}
	s.stop()
}

func TestAbandonedRequestCancelsItsStatement(t *testing.T) {
	s := newStack(t)
	s.serve()
	// Another session locks the users table, so the server's SELECT waits on the server.
	lockDB, err := sql.Open("postgres", dsn(t, s.direct["users"]))
	if err != nil {
		t.Fatal(err)
	}
	defer lockDB.Close()
	tx, err := lockDB.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`LOCK TABLE users IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_, err = s.graphql(ctx, `{ users(first: 1) { edges { node { email } } } }`, nil)
	cancel()
	if err == nil {
		t.Fatal("the query finished although the table is locked")
	}
	// The client gave up; the server must cancel the statement on PostgreSQL, not leave it queued.
	eventually(t, 5*time.Second, func() string {
		var waiting int
		err := lockDB.QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`).Scan(&waiting)
		if err != nil {
			return err.Error()
		}
		if waiting > 0 {
			return fmt.Sprintf("%d statements still wait on the lock", waiting)
		}
		return ""
	})
	tx.Rollback()
	s.stop()
}

func TestShutdownUnderLoadLosesNoAcknowledgedWrite(t *testing.T) {
	s := newStack(t)
	s.serve()
	userID := seed.DemoUsers[1].ID
	var mu sync.Mutex
	var acked []uuid.UUID
	stopAt := time.Now().Add(10 * time.Second)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(stopAt); i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				r, err := s.graphql(ctx, `mutation($in: CreateEventInput!) { trackEvent(input: $in) { id } }`,
					map[string]any{"in": map[string]any{"userID": userID, "name": "load.write", "properties": map[string]any{"worker": w, "i": i}}})
				cancel()
				if err != nil {
					return // the server has stopped listening
				}
				var d struct{ TrackEvent struct{ ID uuid.UUID } }
				if len(r.Errors) == 0 && json.Unmarshal(r.Data, &d) == nil && d.TrackEvent.ID != uuid.Nil {
					mu.Lock()
					acked = append(acked, d.TrackEvent.ID)
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(time.Second)
	s.stop()
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged before the shutdown")
	}
	db := openDirect(t, s, "analytics")
	var stored int
	ids := make([]string, len(acked))
	for i, id := range acked {
		ids[i] = id.String()
	}
	if err := db.QueryRow(`SELECT count(*) FROM events WHERE id::text = ANY(string_to_array($1, ','))`, strings.Join(ids, ",")).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != len(acked) {
		t.Errorf("%d writes acknowledged, %d stored: %d lost", len(acked), stored, len(acked)-stored)
	}
	t.Logf("%d writes acknowledged before and during shutdown, all stored", len(acked))
}

// openDirect opens the named database without the proxy.
func openDirect(t *testing.T, s *stack, name string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dsn(t, s.direct[name]))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// dsn turns a test database URL into a lib/pq DSN.
func dsn(t *testing.T, raw string) string {
	t.Helper()
	db, err := config.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	return db.DSN
}
