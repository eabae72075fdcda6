package graph_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/multidb/multidb/ent/analytics"
	"github.com/multidb/multidb/ent/logs"
	"github.com/multidb/multidb/ent/logs/logentry"
	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/internal/config"
	demoseed "github.com/multidb/multidb/internal/seed"
	"github.com/multidb/multidb/internal/server/playground"
)

// rawEvent is an event as the test inserts it, for the brute-force answers.
type rawEvent struct {
	user  uuid.UUID
	name  string
	props map[string]any
	at    time.Time
}

// statsEvents are the events of the stats tests: users 1 to 4 (USERs) and 0 (ADMIN), three
// names, a path property on most, over a week around Europe/Berlin's spring change
// (2026-03-29 01:00 UTC), at millisecond times; and a few placed on the change itself.
func statsEvents() []rawEvent {
	rng := rand.New(rand.NewPCG(15, 15))
	names := []string{"signup", "view", "checkout"}
	paths := []string{"/a", "/b", "/c"}
	start := time.Date(2026, 3, 26, 0, 0, 0, 0, time.UTC)
	var out []rawEvent
	for i := 0; i < 400; i++ {
		ev := rawEvent{
			user: userID(rng.IntN(5)),
			name: names[rng.IntN(len(names))],
			at:   start.Add(time.Duration(rng.Int64N(int64(8*24*time.Hour/time.Millisecond))) * time.Millisecond),
		}
		if rng.IntN(5) > 0 {
			ev.props = map[string]any{"path": paths[rng.IntN(len(paths))]}
		}
		out = append(out, ev)
	}
	for _, at := range []string{"2026-03-28T22:59:59.999Z", "2026-03-28T23:00:00Z", "2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z", "2026-03-29T21:59:59Z", "2026-03-29T22:00:00Z"} {
		t, _ := time.Parse(time.RFC3339Nano, at)
		out = append(out, rawEvent{user: userID(1), name: "view", props: map[string]any{"path": "/dst"}, at: t})
	}
	// Around the autumn change (2026-10-25 01:00 UTC), when Berlin's 02:00 to 03:00 comes twice.
	for m := 0; m < 300; m += 7 {
		out = append(out, rawEvent{user: userID(m % 5), name: "view", at: time.Date(2026, 10, 24, 23, 0, 0, 0, time.UTC).Add(time.Duration(m) * time.Minute)})
	}
	return out
}

func insertEvents(t *testing.T, e *env, evs []rawEvent) {
	t.Helper()
	c := e.set.Clients.Analytics
	for i := 0; i < len(evs); i += 200 {
		var bulk []*analytics.EventCreate
		for _, ev := range evs[i:min(i+200, len(evs))] {
			cr := c.Event.Create().SetUserID(ev.user).SetName(ev.name).SetOccurredAt(ev.at)
			if ev.props != nil {
				cr.SetProperties(ev.props)
			}
			bulk = append(bulk, cr)
		}
		if err := c.Event.CreateBulk(bulk...).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

const eventStatsDoc = `query($where: EventWhereInput, $from: Time!, $to: Time!, $groupBy: [EventGroup!], $bucket: StatsBucket, $tz: String) {
  eventStats(where: $where, from: $from, to: $to, groupBy: $groupBy, bucket: $bucket, timezone: $tz) { start end keys count uniqueUsers }
}`

type statsBucket struct {
	Start, End  *time.Time
	Keys        []*string
	Count       int
	UniqueUsers int
}

// statsQuestion is one eventStats question and how the brute force answers it.
type statsQuestion struct {
	name     string
	from, to string
	bucket   string // "" for none
	tz       string
	groups   []string // "NAME" or a property key
	onlyName string   // the where {name: …} when set
}

func (q statsQuestion) vars() map[string]any {
	v := map[string]any{"from": q.from, "to": q.to}
	if q.bucket != "" {
		v["bucket"] = q.bucket
	}
	if q.tz != "" {
		v["tz"] = q.tz
	}
	var groups []map[string]any
	for _, g := range q.groups {
		if g == "NAME" {
			groups = append(groups, map[string]any{"by": "NAME"})
		} else {
			groups = append(groups, map[string]any{"by": "PROPERTY", "path": g})
		}
	}
	if groups != nil {
		v["groupBy"] = groups
	}
	if q.onlyName != "" {
		v["where"] = map[string]any{"name": q.onlyName}
	}
	return v
}

// localStart is the start of the bucket of t, written out from the calendar rather than
// through graph/stats.
func localStart(t time.Time, bucket string, loc *time.Location) time.Time {
	l := t.In(loc)
	switch bucket {
	case "HOUR":
		return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), 0, 0, 0, loc)
	case "DAY":
		return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	case "WEEK":
		back := int(l.Weekday()) - 1
		if back < 0 {
			back = 6 // Sunday
		}
		return time.Date(l.Year(), l.Month(), l.Day()-back, 0, 0, 0, 0, loc)
	case "MONTH":
		return time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, loc)
	}
	return time.Time{}
}

// bruteStats answers q by counting evs in Go: the key of each bucket, its count and users.
func bruteStats(t *testing.T, q statsQuestion, evs []rawEvent, viewer *uuid.UUID) map[string][2]int {
	t.Helper()
	from, _ := time.Parse(time.RFC3339, q.from)
	to, _ := time.Parse(time.RFC3339, q.to)
	loc := time.UTC
	if q.tz != "" {
		var err error
		if loc, err = time.LoadLocation(q.tz); err != nil {
			t.Fatal(err)
		}
	}
	counts := map[string]int{}
	users := map[string]map[uuid.UUID]bool{}
	for _, ev := range evs {
		if ev.at.Before(from) || !ev.at.Before(to) || (viewer != nil && ev.user != *viewer) || (q.onlyName != "" && ev.name != q.onlyName) {
			continue
		}
		var key []string
		if q.bucket != "" {
			key = append(key, localStart(ev.at, q.bucket, loc).UTC().Format(time.RFC3339))
		}
		for _, g := range q.groups {
			switch v, ok := ev.props[strings.TrimPrefix(g, "properties.")]; {
			case g == "NAME":
				key = append(key, ev.name)
			case ok:
				key = append(key, fmt.Sprint(v))
			default:
				key = append(key, "<null>")
			}
		}
		k := strings.Join(key, "|")
		counts[k]++
		if users[k] == nil {
			users[k] = map[uuid.UUID]bool{}
		}
		users[k][ev.user] = true
	}
	out := map[string][2]int{}
	for k, n := range counts {
		out[k] = [2]int{n, len(users[k])}
	}
	return out
}

// gotStats runs q through the handler and keys its answer as bruteStats does.
func gotStats(t *testing.T, e *env, q statsQuestion) map[string][2]int {
	t.Helper()
	var data struct{ EventStats []statsBucket }
	e.query(t, eventStatsDoc, q.vars(), &data)
	out := map[string][2]int{}
	for _, b := range data.EventStats {
		var key []string
		if q.bucket != "" {
			if b.Start == nil || b.End == nil || !b.Start.Before(*b.End) {
				t.Fatalf("%s: bucket without a proper start and end: %+v", q.name, b)
			}
			key = append(key, b.Start.UTC().Format(time.RFC3339))
		} else if b.Start != nil {
			t.Fatalf("%s: a start without a bucket: %+v", q.name, b)
		}
		if len(b.Keys) != len(q.groups) {
			t.Fatalf("%s: %d keys, want %d", q.name, len(b.Keys), len(q.groups))
		}
		for _, k := range b.Keys {
			if k == nil {
				key = append(key, "<null>")
			} else {
				key = append(key, *k)
			}
		}
		k := strings.Join(key, "|")
		if _, dup := out[k]; dup {
			t.Fatalf("%s: bucket %s twice", q.name, k)
		}
		out[k] = [2]int{b.Count, b.UniqueUsers}
	}
	return out
}

func compareStats(t *testing.T, name string, got, want map[string][2]int) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: the question selects no event: a useless check", name)
	}
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	for k := range keys {
		if got[k] != want[k] {
			t.Errorf("%s: bucket %s: got [count users] %v, want %v", name, k, got[k], want[k])
		}
	}
}

var statsQuestions = []statsQuestion{
	{name: "days in Berlin by name", from: "2026-03-26T00:00:00Z", to: "2026-04-03T00:00:00Z", bucket: "DAY", tz: "Europe/Berlin", groups: []string{"NAME"}},
	{name: "hours in Berlin over the change", from: "2026-03-28T20:00:00Z", to: "2026-03-29T06:00:00Z", bucket: "HOUR", tz: "Europe/Berlin"},
	{name: "hours in Berlin over the autumn change", from: "2026-10-24T22:00:00Z", to: "2026-10-25T05:00:00Z", bucket: "HOUR", tz: "Europe/Berlin"},
	{name: "days in Berlin over the autumn change", from: "2026-10-20T00:00:00Z", to: "2026-10-30T00:00:00Z", bucket: "DAY", tz: "Europe/Berlin", groups: []string{"NAME"}},
	{name: "hours in UTC", from: "2026-03-28T20:00:00Z", to: "2026-03-29T06:00:00Z", bucket: "HOUR"},
	{name: "half-hour zone, signups only", from: "2026-03-26T00:00:00Z", to: "2026-03-28T00:00:00Z", bucket: "HOUR", tz: "Asia/Kolkata", onlyName: "signup"},
	{name: "weeks in New York by path", from: "2026-03-20T00:00:00Z", to: "2026-04-10T00:00:00Z", bucket: "WEEK", tz: "America/New_York", groups: []string{"path"}},
	{name: "months by name and path", from: "2026-03-01T00:00:00Z", to: "2026-05-01T00:00:00Z", bucket: "MONTH", groups: []string{"NAME", "properties.path"}},
	{name: "no bucket, by name", from: "2026-03-27T12:00:00Z", to: "2026-03-30T12:00:00Z", groups: []string{"NAME"}},
	{name: "one total", from: "2026-03-27T12:00:00Z", to: "2026-03-30T12:00:00Z"},
}

// TestStatsMatchBruteForce compares every eventStats answer with counts made in Go over the
// rows the test inserted, for an ADMIN and for a USER, before and after late events arrive.
func TestStatsMatchBruteForce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, fixture{users: 5, events: func(int) int { return 0 }, logs: func(int) int { return 0 }})
		evs := statsEvents()
		insertEvents(t, e, evs)
		h := e.with(t)
		admin := h.as(e.session(t, userID(0), time.Now().Add(time.Hour)))
		user1 := h.as(e.session(t, userID(1), time.Now().Add(time.Hour)))
		check := func(t *testing.T) {
			for _, q := range statsQuestions {
				compareStats(t, "admin: "+q.name, gotStats(t, admin, q), bruteStats(t, q, evs, nil))
				me := userID(1)
				compareStats(t, "user 1: "+q.name, gotStats(t, user1, q), bruteStats(t, q, evs, &me))
			}
		}
		t.Run("as inserted", check)
		// Late events: occurredAt days in the past, arriving now; the answers include them.
		late := []rawEvent{
			{user: userID(1), name: "checkout", props: map[string]any{"path": "/late"}, at: time.Date(2026, 3, 27, 10, 0, 0, 0, time.UTC)},
			{user: userID(2), name: "signup", at: time.Date(2026, 3, 29, 1, 59, 59, 0, time.UTC)},
		}
		insertEvents(t, e, late)
		evs = append(evs, late...)
		t.Run("after late events", check)
	})
}

// TestStatsDST checks the days of Europe/Berlin around its spring change by their instants:
// 2026-03-29 runs from 23:00 UTC the day before to 22:00 UTC, 23 hours.
func TestStatsDST(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, fixture{users: 2, events: func(int) int { return 0 }, logs: func(int) int { return 0 }})
		insertEvents(t, e, statsEvents()[400:406]) // the six events on the change
		var data struct{ EventStats []statsBucket }
		e.query(t, eventStatsDoc, map[string]any{"from": "2026-03-28T00:00:00Z", "to": "2026-03-31T00:00:00Z", "bucket": "DAY", "tz": "Europe/Berlin"}, &data)
		want := []struct {
			start, end string
			count      int
		}{
			{"2026-03-27T23:00:00Z", "2026-03-28T23:00:00Z", 1},
			{"2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 4},
			{"2026-03-29T22:00:00Z", "2026-03-30T22:00:00Z", 1},
		}
		if len(data.EventStats) != len(want) {
			t.Fatalf("got %d buckets, want %d: %+v", len(data.EventStats), len(want), data.EventStats)
		}
		for i, w := range want {
			b := data.EventStats[i]
			if b.Start.UTC().Format(time.RFC3339) != w.start || b.End.UTC().Format(time.RFC3339) != w.end || b.Count != w.count || b.UniqueUsers != 1 {
				t.Errorf("bucket %d: got %s..%s count %d users %d, want %s..%s count %d users 1",
					i, b.Start.UTC(), b.End.UTC(), b.Count, b.UniqueUsers, w.start, w.end, w.count)
			}
		}
		// One statement each, whatever the buckets, groups or steps.
		e.count.reset()
		e.query(t, eventStatsDoc, map[string]any{"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z", "bucket": "HOUR", "tz": "Europe/Berlin",
			"groupBy": []map[string]any{{"by": "NAME"}, {"by": "PROPERTY", "path": "path"}}}, nil)
		e.query(t, funnelDoc, map[string]any{"steps": []string{"view", "view", "view", "view"}, "within": "24h", "from": "2026-03-01T00:00:00Z", "to": "2026-05-01T00:00:00Z"}, nil)
		if got := e.count.counts(); got["analytics"] != 2 || len(got) != 1 {
			t.Errorf("eventStats and funnel: got statements %v, want 2 to analytics\n%s", got, e.count.dump())
		}
	})
}

const funnelDoc = `query($steps: [String!]!, $within: String!, $from: Time!, $to: Time!, $where: EventWhereInput) {
  funnel(steps: $steps, within: $within, from: $from, to: $to, where: $where) { name users conversion }
}`

// bruteFunnel counts the funnel in Go: entry at a user's first step-1 event in range, then
// the earliest event of each next step after the previous one, within `within` of the entry.
func bruteFunnel(evs []rawEvent, steps []string, within time.Duration, from, to time.Time, viewer *uuid.UUID) []int {
	byUser := map[uuid.UUID][]rawEvent{}
	for _, ev := range evs {
		if ev.at.Before(from) || !ev.at.Before(to) || (viewer != nil && ev.user != *viewer) {
			continue
		}
		byUser[ev.user] = append(byUser[ev.user], ev)
	}
	out := make([]int, len(steps))
	for _, list := range byUser {
		var entry time.Time
		for _, ev := range list {
			if ev.name == steps[0] && (entry.IsZero() || ev.at.Before(entry)) {
				entry = ev.at
			}
		}
		if entry.IsZero() {
			continue
		}
		out[0]++
		cur := entry
		for i := 1; i < len(steps); i++ {
			var next time.Time
			for _, ev := range list {
				if ev.name == steps[i] && ev.at.After(cur) && !ev.at.After(entry.Add(within)) && (next.IsZero() || ev.at.Before(next)) {
					next = ev.at
				}
			}
			if next.IsZero() {
				break
			}
			out[i]++
			cur = next
		}
	}
	return out
}

// TestFunnelMatchesBruteForce compares funnels with the Go count, for an ADMIN and a USER.
func TestFunnelMatchesBruteForce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, fixture{users: 5, events: func(int) int { return 0 }, logs: func(int) int { return 0 }})
		// Many users and a window short enough that some convert and some do not.
		rng := rand.New(rand.NewPCG(7, 7))
		var evs []rawEvent
		start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		for u := 0; u < 60; u++ {
			id := userID(u % 5)
			if u >= 5 {
				id = uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint(u)))
			}
			at := start.Add(time.Duration(rng.Int64N(int64(20 * 24 * time.Hour))))
			for _, name := range []string{"signup", "view", "view", "checkout", "signup", "checkout"} {
				if rng.IntN(3) == 0 {
					continue
				}
				at = at.Add(time.Duration(rng.Int64N(int64(30*time.Hour/time.Millisecond))) * time.Millisecond)
				evs = append(evs, rawEvent{user: id, name: name, at: at})
			}
		}
		insertEvents(t, e, evs)
		h := e.with(t)
		admin := h.as(e.session(t, userID(0), time.Now().Add(time.Hour)))
		user1 := h.as(e.session(t, userID(1), time.Now().Add(time.Hour)))
		from, to := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
		for _, c := range []struct {
			steps  []string
			within string
		}{
			{[]string{"signup", "checkout"}, "24h"},
			{[]string{"signup", "view", "checkout"}, "48h"},
			{[]string{"view", "view", "checkout"}, "30h30m"},
		} {
			d, _ := time.ParseDuration(c.within)
			for _, who := range []struct {
				name   string
				e      *env
				viewer *uuid.UUID
			}{{"admin", admin, nil}, {"user 1", user1, ptr(userID(1))}} {
				var data struct {
					Funnel []struct {
						Name       string
						Users      int
						Conversion float64
					}
				}
				who.e.query(t, funnelDoc, map[string]any{"steps": c.steps, "within": c.within, "from": from, "to": to}, &data)
				want := bruteFunnel(evs, c.steps, d, from, to, who.viewer)
				if who.viewer == nil && (want[0] == 0 || want[len(want)-1] == 0 || want[len(want)-1] == want[0]) {
					t.Fatalf("%v: the data do not exercise the funnel: %v", c.steps, want)
				}
				got := make([]int, len(data.Funnel))
				for i, s := range data.Funnel {
					got[i] = s.Users
					if s.Name != c.steps[i] {
						t.Errorf("step %d named %q, want %q", i, s.Name, c.steps[i])
					}
					wantConv := 1.0
					if i > 0 {
						wantConv = 0
						if got[i-1] > 0 {
							wantConv = float64(got[i]) / float64(got[i-1])
						}
					}
					if s.Conversion != wantConv {
						t.Errorf("%v step %d: conversion %v, want %v", c.steps, i, s.Conversion, wantConv)
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s %v within %s: got %v, want %v", who.name, c.steps, c.within, got, want)
				}
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestStatsBounds checks that questions out of bounds are refused as BAD_USER_INPUT.
func TestStatsBounds(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, fixture{users: 2, events: func(int) int { return 0 }, logs: func(int) int { return 0 }})
		insertEvents(t, e, statsEvents())
		for _, c := range []struct {
			name string
			vars map[string]any
		}{
			{"hours over ten years", map[string]any{"from": "2016-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "bucket": "HOUR"}},
			{"not a time zone", map[string]any{"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z", "bucket": "DAY", "tz": "Mars/Olympus_Mons"}},
			{"the server's zone", map[string]any{"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z", "bucket": "DAY", "tz": "Local"}},
			{"from after to", map[string]any{"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z", "bucket": "DAY"}},
			{"a path that is SQL", map[string]any{"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z", "groupBy": []map[string]any{{"by": "PROPERTY", "path": "x'); DROP TABLE events; --"}}}},
			{"PROPERTY without a path", map[string]any{"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z", "groupBy": []map[string]any{{"by": "PROPERTY"}}}},
		} {
			t.Run(c.name, func(t *testing.T) { e.wantError(t, eventStatsDoc, c.vars, "BAD_USER_INPUT", "eventStats") })
		}
		// No numbers for a caller who is not signed in, as no events.
		anon := e.with(t)
		day := map[string]any{"from": "2026-03-27T00:00:00Z", "to": "2026-03-29T00:00:00Z", "bucket": "DAY"}
		anon.wantError(t, eventStatsDoc, day, "UNAUTHENTICATED", "eventStats")
		anon.wantError(t, funnelDoc, map[string]any{"steps": []string{"signup", "checkout"}, "within": "1h", "from": day["from"], "to": day["to"]}, "UNAUTHENTICATED", "funnel")
		// Groups multiply the buckets: 3 names over 2 days pass a cap of 4, found by the statement.
		small := e.with(t, graph.WithViewer(testAdmin), graph.WithStatsMaxBuckets(4))
		small.wantError(t, eventStatsDoc, map[string]any{"from": "2026-03-27T00:00:00Z", "to": "2026-03-29T00:00:00Z", "bucket": "DAY", "groupBy": []map[string]any{{"by": "NAME"}}}, "BAD_USER_INPUT", "eventStats")
		var ok struct{ EventStats []statsBucket }
		small.query(t, eventStatsDoc, map[string]any{"from": "2026-03-27T00:00:00Z", "to": "2026-03-29T00:00:00Z", "bucket": "DAY"}, &ok)
		if len(ok.EventStats) != 2 {
			t.Errorf("2 days under a cap of 4: got %d buckets", len(ok.EventStats))
		}
		for _, c := range []struct {
			name string
			vars map[string]any
		}{
			{"one step", map[string]any{"steps": []string{"signup"}, "within": "24h", "from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}},
			{"eleven steps", map[string]any{"steps": slices.Repeat([]string{"a"}, 11), "within": "24h", "from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}},
			{"a window that is no duration", map[string]any{"steps": []string{"a", "b"}, "within": "a day", "from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}},
			{"a step that is no event name", map[string]any{"steps": []string{"a", "b c"}, "within": "1h", "from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}},
		} {
			t.Run(c.name, func(t *testing.T) { e.wantError(t, funnelDoc, c.vars, "BAD_USER_INPUT", "funnel") })
		}
	})
}

// TestStatsReadmeDashboard runs the dashboard query of the README's Analytics section, so
// that the example stays one that works.
func TestStatsReadmeDashboard(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), "```graphql\nquery Dashboard")
	doc, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README: no dashboard query")
	}
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, fixture{users: 5, events: func(int) int { return 0 }, logs: func(int) int { return 0 }})
		insertEvents(t, e, statsEvents())
		var data struct {
			PerDay, Weekly, Pages []statsBucket
			Checkout              []struct{ Users int }
		}
		e.query(t, "query Dashboard"+doc, map[string]any{"from": "2026-03-26T00:00:00Z", "to": "2026-04-03T00:00:00Z"}, &data)
		if len(data.PerDay) == 0 || len(data.Weekly) == 0 || len(data.Pages) != 0 || len(data.Checkout) != 3 || data.Checkout[0].Users == 0 {
			t.Errorf("dashboard: %+v", data)
		}
	})
}

// TestUserEventStats checks User.eventStats against the brute force for every user of a list,
// in one statement to analytics for the whole list, and for a USER, who sees themself only.
func TestUserEventStats(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, fixture{users: 5, events: func(int) int { return 0 }, logs: func(int) int { return 0 }})
		evs := statsEvents()
		insertEvents(t, e, evs)
		q := statsQuestion{name: "per user, days in Berlin by name", from: "2026-03-26T00:00:00Z", to: "2026-04-03T00:00:00Z", bucket: "DAY", tz: "Europe/Berlin", groups: []string{"NAME"}}
		doc := `query($where: EventWhereInput, $from: Time!, $to: Time!, $groupBy: [EventGroup!], $bucket: StatsBucket, $tz: String) {
  users(first: 10) { edges { node { id eventStats(where: $where, from: $from, to: $to, groupBy: $groupBy, bucket: $bucket, timezone: $tz) { start end keys count uniqueUsers } } } }
}`
		h := e.with(t)
		admin := h.as(e.session(t, userID(0), time.Now().Add(time.Hour)))
		user1 := h.as(e.session(t, userID(1), time.Now().Add(time.Hour)))
		for _, who := range []struct {
			name  string
			e     *env
			users int
		}{{"admin", admin, 5}, {"user 1", user1, 1}} {
			e.count.reset()
			var data struct {
				Users struct {
					Edges []struct {
						Node struct {
							ID         uuid.UUID
							EventStats []statsBucket
						}
					}
				}
			}
			who.e.query(t, doc, q.vars(), &data)
			if n := e.count.counts()["analytics"]; n != 1 {
				t.Errorf("%s: %d statements to analytics, want 1\n%s", who.name, n, e.count.dump())
			}
			if len(data.Users.Edges) != who.users {
				t.Fatalf("%s: %d users, want %d", who.name, len(data.Users.Edges), who.users)
			}
			for _, edge := range data.Users.Edges {
				got := map[string][2]int{}
				for _, b := range edge.Node.EventStats {
					got[b.Start.UTC().Format(time.RFC3339)+"|"+*b.Keys[0]] = [2]int{b.Count, b.UniqueUsers}
				}
				id := edge.Node.ID
				compareStats(t, fmt.Sprintf("%s: user %s", who.name, id), got, bruteStats(t, q, evs, &id))
			}
		}
	})
}

// TestLogStats compares logStats, by level and day in Europe/Berlin, with a count in Go over
// the entries the test inserted, for an ADMIN and for a USER.
func TestLogStats(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, fixture{users: 5, events: func(int) int { return 0 }, logs: func(int) int { return 0 }})
		type entry struct {
			user  *uuid.UUID
			level logentry.Level
			at    time.Time
		}
		rng := rand.New(rand.NewPCG(3, 3))
		var entries []entry
		var bulk []*logs.LogEntryCreate
		start := time.Date(2026, 3, 26, 0, 0, 0, 0, time.UTC)
		for i := 0; i < 300; i++ {
			en := entry{level: logLevels[rng.IntN(len(logLevels))], at: start.Add(time.Duration(rng.Int64N(int64(6*24*time.Hour/time.Second))) * time.Second)}
			cr := e.set.Clients.Logs.LogEntry.Create().SetLevel(en.level).SetMessage("m").SetRequestID(fmt.Sprint("r", i)).SetCreatedAt(en.at)
			if i%7 != 0 { // some entries belong to no user
				id := userID(rng.IntN(5))
				en.user = &id
				cr.SetUserID(id)
			}
			entries = append(entries, en)
			bulk = append(bulk, cr)
		}
		if err := e.set.Clients.Logs.LogEntry.CreateBulk(bulk...).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		berlin, _ := time.LoadLocation("Europe/Berlin")
		from, to := time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
		h := e.with(t)
		for _, who := range []struct {
			name   string
			e      *env
			viewer *uuid.UUID
		}{
			{"admin", h.as(e.session(t, userID(0), time.Now().Add(time.Hour))), nil},
			{"user 1", h.as(e.session(t, userID(1), time.Now().Add(time.Hour))), ptr(userID(1))},
		} {
			want := map[string][2]int{}
			users := map[string]map[uuid.UUID]bool{}
			for _, en := range entries {
				if en.at.Before(from) || !en.at.Before(to) || (who.viewer != nil && (en.user == nil || *en.user != *who.viewer)) {
					continue
				}
				k := localStart(en.at, "DAY", berlin).UTC().Format(time.RFC3339) + "|" + string(en.level)
				c := want[k]
				c[0]++
				if users[k] == nil {
					users[k] = map[uuid.UUID]bool{}
				}
				if en.user != nil && !users[k][*en.user] {
					users[k][*en.user] = true
					c[1]++
				}
				want[k] = c
			}
			var data struct {
				LogStats []struct {
					Start       time.Time
					Level       string
					Count       int
					UniqueUsers int
				}
			}
			who.e.query(t, `query($from: Time!, $to: Time!) { logStats(from: $from, to: $to, bucket: DAY, timezone: "Europe/Berlin") { start level count uniqueUsers } }`,
				map[string]any{"from": from, "to": to}, &data)
			got := map[string][2]int{}
			for _, b := range data.LogStats {
				got[b.Start.UTC().Format(time.RFC3339)+"|"+b.Level] = [2]int{b.Count, b.UniqueUsers}
			}
			compareStats(t, "logStats "+who.name, got, want)
		}
	})
}

// TestDemoFunnel checks the funnel the README shows on the development seed: 5, 4, 2.
func TestDemoFunnel(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		if _, err := demoseed.Run(context.Background(), e.set, demoseed.Seeders, config.Development, nil, io.Discard); err != nil {
			t.Fatal(err)
		}
		var data struct{ Funnel []struct{ Users int } }
		e.query(t, funnelDoc, map[string]any{"steps": []string{"signup", "cart:add", "checkout"}, "within": "24h",
			"from": "2026-11-01T00:00:00Z", "to": "2026-11-03T00:00:00Z"}, &data)
		got := []int{}
		for _, s := range data.Funnel {
			got = append(got, s.Users)
		}
		if !slices.Equal(got, []int{5, 4, 2}) {
			t.Errorf("demo funnel: got %v, want [5 4 2]", got)
		}

		// The playground's dashboard, as a user of `make run` first sees it.
		var dash struct {
			PerDay []struct {
				Keys  []*string
				Count int
			}
			Checkout []struct{ Users int }
		}
		e.query(t, playground.DashboardQuery, nil, &dash)
		total := 0
		for _, b := range dash.PerDay {
			total += b.Count
		}
		n, err := e.set.Analytics.Event.Query().Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if total == 0 || total > n {
			t.Errorf("the playground's dashboard counts %d events by day and name, of %d", total, n)
		}
		got = got[:0]
		for _, s := range dash.Checkout {
			got = append(got, s.Users)
		}
		if !slices.Equal(got, []int{5, 4, 2}) {
			t.Errorf("the playground's dashboard funnel: got %v, want [5 4 2]", got)
		}
	})
}

// TestPlaygroundDocument: every operation of the playground's first document is valid
// against the schema.
func TestPlaygroundDocument(t *testing.T) {
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: graph.PrintSchema()})
	if err != nil {
		t.Fatal(err)
	}
	doc, errs := gqlparser.LoadQuery(schema, playground.DefaultQuery)
	if len(errs) > 0 {
		t.Fatalf("the playground's document: %v", errs)
	}
	var names []string
	for _, op := range doc.Operations {
		names = append(names, op.Name)
	}
	if want := []string{"LogIn", "Dashboard", "TailLog"}; !slices.Equal(names, want) {
		t.Errorf("operations %v, want %v", names, want)
	}
}
