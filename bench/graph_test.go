package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
)

// stitchedQuery is the query of the comparison with the Node original.
const stitchedQuery = `query Stitched($first: Int!) {
  users(first: $first) {
    edges { node {
      id name
      events(first: 10, orderBy: {field: OCCURRED_AT, direction: DESC}) {
        totalCount edges { node { name occurredAt user { name } } }
      }
      logs(last: 5) { edges { node { level message } } }
    } }
  }
}`

// stitchedResult is what a client reads of stitchedQuery's answer.
type stitchedResult struct {
	Users struct {
		Edges []struct {
			Node struct {
				Name   string
				Events struct {
					TotalCount int
					Edges      []struct {
						Node struct {
							Name string
							User *struct{ Name string }
						}
					}
				}
				Logs struct {
					Edges []struct {
						Node struct{ Level, Message string }
					}
				}
			}
		}
	}
}

// BenchmarkStitchedQuery reads 50 or 100 users with, from the analytics database, each one's
// latest 10 events and their count, the user of every event (the parent, already read), and,
// from the logs database, each one's last 5 log entries.
func BenchmarkStitchedQuery(b *testing.B) {
	d := data(b)
	for _, n := range []int{50, 100} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			body := request(b, stitchedQuery, map[string]any{"first": n})
			var out stitchedResult
			d.verify(b, body, &out)
			if got := len(out.Users.Edges); got != n {
				b.Fatalf("got %d users, want %d", got, n)
			}
			totals := d.eventCounts(b, d.users[:n])
			for i, e := range out.Users.Edges {
				ev := e.Node.Events
				if ev.TotalCount != totals[i] {
					b.Errorf("user %d: got totalCount %d, want %d", i, ev.TotalCount, totals[i])
				}
				if got, want := len(ev.Edges), min(10, totals[i]); got != want {
					b.Errorf("user %d: got %d events, want %d", i, got, want)
				}
				for _, ee := range ev.Edges {
					if ee.Node.Name == "" || ee.Node.User == nil || ee.Node.User.Name != e.Node.Name {
						b.Fatalf("user %d: event without its name or user: %+v", i, ee.Node)
					}
				}
				if got := len(e.Node.Logs.Edges); got == 0 || got > 5 {
					b.Errorf("user %d: got %d log entries, want 1 to 5", i, got)
				}
			}
			if b.Failed() {
				b.FailNow()
			}
			d.run(b, func() []byte { return body })
		})
	}
}

const heavyQuery = `query Heavy($id: ID!) {
  users(first: 1, where: {id: $id}) {
    edges { node { events(first: 10, orderBy: {field: OCCURRED_AT, direction: DESC}) { edges { node { name occurredAt } } } } }
  }
}`

// BenchmarkHeavyParent reads the page of 10 latest events of a user who holds heavyEvents
// events, and of one who holds 10: the page stops after its 10 rows, so both cost the same
// (compare stmt-µs/op).
func BenchmarkHeavyParent(b *testing.B) {
	d := data(b)
	for _, c := range []struct {
		name string
		id   uuid.UUID
	}{{"heavy", d.heavy}, {"light", d.light}} {
		b.Run(c.name, func(b *testing.B) {
			body := request(b, heavyQuery, map[string]any{"id": c.id.String()})
			var out struct {
				Users struct {
					Edges []struct {
						Node struct {
							Events struct {
								Edges []struct{ Node struct{ Name string } }
							}
						}
					}
				}
			}
			d.verify(b, body, &out)
			if len(out.Users.Edges) != 1 || len(out.Users.Edges[0].Node.Events.Edges) != 10 {
				b.Fatalf("got %+v, want one user with 10 events", out)
			}
			d.run(b, func() []byte { return body })
		})
	}
}

const meQuery = `{ me { id name } }`

// BenchmarkMe reads the signed-in user: the session lookup alone, which the session cache
// answers after the first request. "http" sends it over loopback as the other benchmarks do;
// "handler" calls the handler's ServeHTTP with a recorder: the server's time alone.
func BenchmarkMe(b *testing.B) {
	d := data(b)
	body := request(b, meQuery, nil)
	var out struct{ Me struct{ ID, Name string } }
	d.verify(b, body, &out)
	if out.Me.ID != d.users[7].String() {
		b.Fatalf("got me %+v, want user 7", out.Me)
	}
	b.Run("http", func(b *testing.B) { d.run(b, func() []byte { return body }) })
	b.Run("handler", func(b *testing.B) { d.serve(b, body) })
}

const filteredEventsQuery = `query Checkouts($since: Time!) {
  events(first: 50, where: {name: "checkout", occurredAtGTE: $since}, orderBy: {field: OCCURRED_AT, direction: DESC}) {
    totalCount
    edges { node { name occurredAt user { email } } }
  }
}`

// BenchmarkFilteredEventsWithUser reads the latest 50 checkouts of the last 30 days, with
// their count, and the user of each from the users database.
func BenchmarkFilteredEventsWithUser(b *testing.B) {
	d := data(b)
	since := d.now.Add(-30 * 24 * time.Hour).Truncate(time.Second)
	body := request(b, filteredEventsQuery, map[string]any{"since": since.Format(time.RFC3339)})

	var out struct {
		Events struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					Name       string
					OccurredAt time.Time
					User       *struct{ Email string }
				}
			}
		}
	}
	d.verify(b, body, &out)
	var want int
	err := d.set.Get("analytics").SQL.QueryRowContext(context.Background(),
		`SELECT count(*) FROM events WHERE name = 'checkout' AND occurred_at >= $1`, since).Scan(&want)
	if err != nil {
		b.Fatal(err)
	}
	if out.Events.TotalCount != want {
		b.Fatalf("got totalCount %d, want %d", out.Events.TotalCount, want)
	}
	if got := len(out.Events.Edges); got != 50 {
		b.Fatalf("got %d events, want 50", got)
	}
	for i, e := range out.Events.Edges {
		n := e.Node
		switch {
		case n.Name != "checkout" || n.OccurredAt.Before(since):
			b.Fatalf("event %d: got %s at %s, want a checkout since %s", i, n.Name, n.OccurredAt, since)
		case i > 0 && n.OccurredAt.After(out.Events.Edges[i-1].Node.OccurredAt):
			b.Fatalf("event %d: not in descending order of occurredAt", i)
		case n.User == nil || !strings.HasSuffix(n.User.Email, "@bench.example"):
			b.Fatalf("event %d: got user %+v, want one with an email", i, n.User)
		}
	}

	d.run(b, func() []byte { return body })
}

const nodeQuery = `query Node($id: ID!) {
  node(id: $id) { __typename id ... on User { email name } ... on Event { name occurredAt } }
}`

// BenchmarkNode looks up node(id:) of a random user, then of a random event: the id does not
// say its table, so every lookup asks each table by primary key.
func BenchmarkNode(b *testing.B) {
	d := data(b)
	for _, c := range []struct {
		name, typename string
		ids            []uuid.UUID
	}{
		{"user", "User", d.users},
		{"event", "Event", d.events},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(seed, 3))
			bodies := make([][]byte, 1024)
			ids := make([]string, len(bodies))
			for i := range bodies {
				ids[i] = c.ids[r.IntN(len(c.ids))].String()
				bodies[i] = request(b, nodeQuery, map[string]any{"id": ids[i]})
			}
			var out struct {
				Node *struct {
					Typename string `json:"__typename"`
					ID       string
				}
			}
			d.verify(b, bodies[0], &out)
			if out.Node == nil || out.Node.Typename != c.typename || out.Node.ID != ids[0] {
				b.Fatalf("got node %+v, want the %s %s", out.Node, c.typename, ids[0])
			}

			i := 0
			d.run(b, func() []byte {
				i++
				return bodies[i%len(bodies)]
			})
		})
	}
}

const trackEventsMutation = `mutation Track($inputs: [CreateEventInput!]!) {
  trackEvents(inputs: $inputs) { id }
}`

// BenchmarkTrackEvents1000 records 1,000 events of random users per operation: one lookup
// of the users, one INSERT. "serial" sends one call after the other; "clients=4" has four
// callers at once, each sending its next call when its last is answered, as a busy server
// sees them: events/s is the throughput over wall time (stmt-µs/op then sums the callers'
// waits). It runs last: it adds to the events the other benchmarks read (under a name of its
// own, which they do not ask for).
func BenchmarkTrackEvents1000(b *testing.B) {
	d := data(b)
	const batch = 1000
	r := rand.New(rand.NewPCG(seed, 4))
	bodies := make([][]byte, 8)
	for i := range bodies {
		inputs := make([]map[string]any, batch)
		for j := range inputs {
			inputs[j] = map[string]any{
				"userID":     d.users[r.IntN(len(d.users))].String(),
				"name":       "bench_track",
				"properties": map[string]any{"batch": i, "seq": j},
			}
		}
		bodies[i] = request(b, trackEventsMutation, map[string]any{"inputs": inputs})
	}
	var out struct {
		TrackEvents []struct{ ID string }
	}
	d.verify(b, bodies[0], &out)
	if got := len(out.TrackEvents); got != batch {
		b.Fatalf("got %d events, want %d", got, batch)
	}
	seen := make(map[string]bool, batch)
	for _, e := range out.TrackEvents {
		if _, err := uuid.Parse(e.ID); err != nil || seen[e.ID] {
			b.Fatalf("got event id %q: not a fresh UUID", e.ID)
		}
		seen[e.ID] = true
	}

	for _, c := range []struct {
		name    string
		clients int
	}{{"serial", 1}, {"clients=4", 4}} {
		b.Run(c.name, func(b *testing.B) {
			d.runClients(b, c.clients, batch, "events", func(i int) []byte { return bodies[i%len(bodies)] })
		})
	}
}

// eventCounts returns the number of events of each of users, straight from the database.
func (d *dataset) eventCounts(b *testing.B, users []uuid.UUID) []int {
	b.Helper()
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.String()
	}
	rows, err := d.set.Get("analytics").SQL.QueryContext(context.Background(),
		`SELECT user_id, count(*) FROM events WHERE user_id = ANY($1::uuid[]) GROUP BY user_id`, pq.Array(ids))
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	counts := make([]int, len(users))
	for rows.Next() {
		var id uuid.UUID
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			b.Fatal(err)
		}
		i := slices.Index(users, id)
		if i < 0 {
			b.Fatalf("count of unknown user %s", id)
		}
		counts[i] = n
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return counts
}
