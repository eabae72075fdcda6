package faults_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multidb/multidb/internal/faultproxy"
	"github.com/multidb/multidb/internal/seed"
)

const trackBatch = `mutation($inputs: [CreateEventInput!]!, $ids: [ID!]) { trackEvents(inputs: $inputs, ids: $ids) { id name } }`

// TestLostAnswerRetriedStoresNothingTwice: a client's trackEvents is stored, but the answer
// never reaches the client (its connection is cut on the way back). The client retries the
// same call with the same ids and gets the stored events; each is stored once.
func TestLostAnswerRetriedStoresNothingTwice(t *testing.T) {
	s := newStack(t)
	s.serve()
	// The client reaches the server through a proxy that is slow enough to cut in the middle.
	u, err := url.Parse(s.base)
	if err != nil {
		t.Fatal(err)
	}
	front, err := faultproxy.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer front.Close()
	direct := s.base
	userID := seed.DemoUsers[1].ID
	name := "retry.lost" + uuid.NewString()[:8]
	ids := []string{}
	inputs := []map[string]any{}
	for i := range 5 {
		id, _ := uuid.NewV7()
		ids = append(ids, id.String())
		inputs = append(inputs, map[string]any{"userID": userID, "name": name, "properties": map[string]any{"i": i}})
	}
	vars := map[string]any{"inputs": inputs, "ids": ids}
	db := openDirect(t, s, "analytics")
	count := func() int {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM events WHERE name = $1`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	front.SetDelay(time.Second)
	s.base = "http://" + front.Addr()
	lost := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err := s.graphql(ctx, trackBatch, vars)
		lost <- err
	}()
	// Once the batch is stored, the answer is still on its way back through the slow proxy:
	// cut it there.
	eventually(t, 15*time.Second, func() string {
		if count() == 0 {
			return "the batch is not stored yet"
		}
		return ""
	})
	front.Cut()
	if err := <-lost; err == nil {
		t.Fatal("the first call got its answer; the test did not lose it")
	}
	s.base = direct

	// The retry, with the same ids and inputs, returns the stored events and adds none.
	for range 2 {
		r := s.mustQuery(trackBatch, vars)
		var d struct {
			TrackEvents []struct{ ID, Name string }
		}
		if len(r.Errors) > 0 || json.Unmarshal(r.Data, &d) != nil || len(d.TrackEvents) != len(ids) {
			t.Fatalf("retry: %+v %s", r.Errors, r.Data)
		}
		for i, ev := range d.TrackEvents {
			if ev.ID != ids[i] || ev.Name != name {
				t.Errorf("retry: event %d is %+v, want id %s", i, ev, ids[i])
			}
		}
	}
	if n := count(); n != len(ids) {
		t.Errorf("%d events stored after a lost answer and two retries, want %d", n, len(ids))
	}

	// What is not a retry is refused, and stores nothing.
	other, _ := uuid.NewV7()
	for label, vars := range map[string]map[string]any{
		"same ids, other input": {"inputs": []map[string]any{{"userID": userID, "name": "other.name"}}, "ids": ids[:1]},
		"part of the batch":     {"inputs": inputs[:2], "ids": []string{ids[0], other.String()}},
	} {
		r := s.mustQuery(trackBatch, vars)
		if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
			t.Errorf("%s: got %+v %s, want BAD_USER_INPUT", label, r.Errors, r.Data)
		}
	}
	if n := count(); n != len(ids) {
		t.Errorf("%d events stored after the refused calls, want %d", n, len(ids))
	}

	// One log entry, retried after its answer was lost, is stored once.
	logID, _ := uuid.NewV7()
	entry := map[string]any{"input": map[string]any{"message": name, "level": "WARN"}, "id": logID.String()}
	const createLog = `mutation($input: CreateLogEntryInput!, $id: ID) { createLogEntry(input: $input, id: $id) { id } }`
	for range 2 {
		if r := s.mustQuery(createLog, entry); len(r.Errors) > 0 {
			t.Fatalf("createLogEntry: %+v", r.Errors)
		}
	}
	var logs int
	if err := openDirect(t, s, "logs").QueryRow(`SELECT count(*) FROM log_entries WHERE message = $1`, name).Scan(&logs); err != nil {
		t.Fatal(err)
	}
	if logs != 1 {
		t.Errorf("createLogEntry called twice with one id stored %d entries, want 1", logs)
	}
	s.stop()
}
