package graph_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/logs"
	"github.com/multidb/multidb/ent/logs/logentry"
	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/graph/live"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/server"
)

// liveOptions make the tests' feeds read often, so that they finish quickly; the assertions
// never depend on when a row arrives, only on which rows arrive, in which order.
var liveOptions = live.Options{Poll: 50 * time.Millisecond, Settle: 20 * time.Millisecond}

// liveWait bounds every wait for a message: generous, for a busy machine.
const liveWait = 20 * time.Second

// wsClient speaks graphql-transport-ws to the handler.
type wsClient struct {
	t    *testing.T
	conn *coderws.Conn
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWS connects to e and sends connection_init with token (none when empty); it returns
// the client after connection_ack, or the close error when the server refused.
func dialWS(t *testing.T, e *env, token string) (*wsClient, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http")
	conn, _, err := coderws.Dial(ctx, url, &coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(1 << 20)
	c := &wsClient{t: t, conn: conn}
	t.Cleanup(func() { conn.CloseNow() })
	payload := map[string]any{}
	if token != "" {
		payload["Authorization"] = "Bearer " + token
	}
	c.send(wsMessage{Type: "connection_init", Payload: mustJSON(t, payload)})
	m, err := c.read()
	if err != nil {
		return nil, err
	}
	if m.Type != "connection_ack" {
		t.Fatalf("got %s, want connection_ack", m.Type)
	}
	return c, nil
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (c *wsClient) send(m wsMessage) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	b, _ := json.Marshal(m)
	if err := c.conn.Write(ctx, coderws.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read returns the next message that is not a ping or pong.
func (c *wsClient) read() (wsMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			return wsMessage{}, err
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			c.t.Fatalf("decode %s: %v", b, err)
		}
		if m.Type == "ping" || m.Type == "pong" {
			continue
		}
		return m, nil
	}
}

func (c *wsClient) subscribe(id, doc string, vars map[string]any) {
	c.t.Helper()
	c.send(wsMessage{ID: id, Type: "subscribe", Payload: mustJSON(c.t, map[string]any{"query": doc, "variables": vars})})
}

// streamed is one message of a stream as the tests read it.
type streamed struct {
	ID      string
	Type    string
	Node    map[string]any
	Cursor  string
	Errors  []gqlError
	rawData json.RawMessage
}

// next reads the next message of the subscription id, whose root field is field.
func (c *wsClient) next(field string) streamed {
	c.t.Helper()
	m, err := c.read()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	s := streamed{ID: m.ID, Type: m.Type}
	switch m.Type {
	case "next":
		var p struct {
			Data   map[string]json.RawMessage `json:"data"`
			Errors []gqlError                 `json:"errors"`
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			c.t.Fatal(err)
		}
		s.Errors = p.Errors
		if raw := p.Data[field]; len(raw) > 0 && string(raw) != "null" {
			var edge struct {
				Node   map[string]any
				Cursor string
			}
			if err := json.Unmarshal(raw, &edge); err != nil {
				c.t.Fatal(err)
			}
			s.Node, s.Cursor, s.rawData = edge.Node, edge.Cursor, raw
		}
	case "error":
		if err := json.Unmarshal(m.Payload, &s.Errors); err != nil {
			c.t.Fatal(err)
		}
	}
	return s
}

// message reads the next row of a stream and fails the test on anything else.
func (c *wsClient) message(field string) (msg, cursor string) {
	c.t.Helper()
	s := c.next(field)
	if s.Type != "next" || s.Node == nil || len(s.Errors) > 0 {
		c.t.Fatalf("got %s %+v (data %s), want a row", s.Type, s.Errors, s.rawData)
	}
	m, _ := s.Node["message"].(string)
	if m == "" {
		m, _ = s.Node["name"].(string)
	}
	return m, s.Cursor
}

const logTail = `subscription Tail($where: LogEntryWhereInput, $after: Cursor) {
  logEntries(where: $where, after: $after) { cursor node { id message userID user { id } } } }`

// addLog stores a log entry as the system would, with a new id (its time is now).
func addLog(t *testing.T, e *env, user *uuid.UUID, level logentry.Level, msg string) {
	t.Helper()
	q := e.set.Logs.LogEntry.Create().SetID(uuid.Must(uuid.NewV7())).SetMessage(msg).SetLevel(level)
	if user != nil {
		q.SetUserID(*user)
	}
	if _, err := q.Save(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestLiveLogEntries subscribes over WebSocket and checks which rows arrive, in which order,
// each once: a USER gets only their own entries, an admin all, a where filter its matches, and
// a client that resubscribes with its last cursor gets what it missed and nothing twice.
func TestLiveLogEntries(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		h := e.with(t, graph.WithViewer(testAdmin), graph.WithLive(liveOptions))
		alice := h.signUp(t, "alice.live@example.com", "alice-live-password", "Alice")
		bob := h.signUp(t, "bob.live@example.com", "bob-live-password", "Bob")
		aliceID, bobID := uuid.MustParse(alice.User.ID), uuid.MustParse(bob.User.ID)

		ac, err := dialWS(t, h, alice.Token)
		if err != nil {
			t.Fatal(err)
		}
		admin, err := dialWS(t, h, "") // the handler's viewer without a token: an admin
		if err != nil {
			t.Fatal(err)
		}
		ac.subscribe("a", logTail, nil)
		ac.subscribe("errors", logTail, map[string]any{"where": map[string]any{"level": "ERROR"}})
		admin.subscribe("all", logTail, nil)
		// A subscription takes effect when its first read runs; a row written before cannot be
		// told apart from an older one, so the tests start with a row that each stream must see.
		started := func() { addLog(t, e, &aliceID, logentry.LevelDEBUG, "started") }
		waitStarted(t, ac, "a", started)
		waitStarted(t, admin, "all", started)

		addLog(t, e, &aliceID, logentry.LevelINFO, "a1")
		addLog(t, e, &bobID, logentry.LevelINFO, "b1")
		addLog(t, e, &aliceID, logentry.LevelERROR, "a2")
		addLog(t, e, nil, logentry.LevelINFO, "system")
		addLog(t, e, &aliceID, logentry.LevelINFO, "a3")

		got := map[string][]string{}
		cursors := map[string]string{}
		for len(got["a"]) < 3 || len(got["errors"]) < 1 {
			s := ac.next("logEntries")
			if s.Type != "next" || s.Node == nil {
				t.Fatalf("got %s %+v, want a row", s.Type, s.Errors)
			}
			if s.Node["userID"] != alice.User.ID {
				t.Fatalf("alice received a row of %v", s.Node["userID"])
			}
			if s.Node["message"] == "started" {
				continue
			}
			got[s.ID] = append(got[s.ID], s.Node["message"].(string))
			cursors[s.ID] = s.Cursor
		}
		if strings.Join(got["a"], ",") != "a1,a2,a3" || strings.Join(got["errors"], ",") != "a2" {
			t.Fatalf("alice got %v", got)
		}
		var all []string
		for len(all) < 5 {
			m, _ := admin.message("logEntries")
			if m != "started" {
				all = append(all, m)
			}
		}
		if strings.Join(all, ",") != "a1,b1,a2,system,a3" {
			t.Fatalf("the admin got %v", all)
		}

		// Alice leaves after a3; what is written meanwhile arrives when she resubscribes from
		// a3's cursor, then the new rows, each once.
		if err := ac.conn.Close(coderws.StatusNormalClosure, ""); err != nil {
			t.Log(err)
		}
		addLog(t, e, &aliceID, logentry.LevelINFO, "a4")
		addLog(t, e, &aliceID, logentry.LevelINFO, "a5")
		again, err := dialWS(t, h, alice.Token)
		if err != nil {
			t.Fatal(err)
		}
		again.subscribe("a", logTail, map[string]any{"after": cursors["a"]})
		addLog(t, e, &aliceID, logentry.LevelINFO, "a6")
		var resumed []string
		for len(resumed) < 3 {
			m, _ := again.message("logEntries")
			resumed = append(resumed, m)
		}
		if strings.Join(resumed, ",") != "a4,a5,a6" {
			t.Fatalf("after resubscribing from a3's cursor alice got %v, want a4,a5,a6", resumed)
		}
	})
}

// waitStarted writes rows with write until the subscription id delivers one, so that the rows
// written afterwards are new to it however long the server took to start it. Rows of the other
// subscriptions of c read meanwhile are dropped: the callers write none before this returns.
func waitStarted(t *testing.T, c *wsClient, id string, write func()) {
	t.Helper()
	arrived := make(chan error, 1)
	go func() {
		for {
			m, err := c.read()
			if err != nil || (m.ID == id && m.Type == "next") {
				arrived <- err
				return
			}
			if m.Type != "next" {
				arrived <- fmt.Errorf("got %s %s", m.Type, m.Payload)
				return
			}
		}
	}()
	deadline := time.After(liveWait)
	for {
		write()
		select {
		case err := <-arrived:
			if err != nil {
				t.Fatal(err)
			}
			return
		case <-time.After(300 * time.Millisecond):
		case <-deadline:
			t.Fatal("the subscription delivered nothing")
		}
	}
}

// TestLiveEvents streams events written through trackEvent: a USER receives only their own.
func TestLiveEvents(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		h := e.with(t, graph.WithLive(liveOptions))
		alice := h.signUp(t, "alice.events@example.com", "alice-live-password", "Alice")
		bob := h.signUp(t, "bob.events@example.com", "bob-live-password", "Bob")
		c, err := dialWS(t, h, alice.Token)
		if err != nil {
			t.Fatal(err)
		}
		c.subscribe("e", `subscription { events { cursor node { name userID user { email } } } }`, nil)
		track := func(who authPayload, name string) {
			h.as(who.Token).query(t, `mutation($in: CreateEventInput!) { trackEvent(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"name": name, "userID": who.User.ID}}, nil)
		}
		waitStarted(t, c, "e", func() { track(alice, "start") })
		// The start events written after the first one that arrived may still come: skip them.
		track(bob, "bobs")
		track(alice, "last")
		for {
			m, _ := c.message("events")
			if m == "bobs" {
				t.Fatal("alice received bob's event")
			}
			if m == "last" {
				break
			}
		}
	})
}

// TestLiveStatementsPerWakeUp counts the statements of one wake-up of the log feed with 1 and
// with 1,000 subscribers (of many users, with and without the same filter): the same.
func TestLiveStatementsPerWakeUp(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		count := func(n int) int {
			feed := graph.LiveLogFeed(e.set, live.Options{Poll: -1, Settle: 1 * time.Millisecond, Buffer: 4, MaxPerViewer: 10})
			from := live.Boundary(time.Now().Add(-time.Minute))
			var chans []*live.Stream[*logs.LogEntry]
			for i := range n {
				v := auth.Viewer{UserID: uuid.New(), Role: auth.RoleUser}
				if i%2 == 0 {
					v.Role = auth.RoleAdmin
				}
				ch, err := feed.Subscribe(v, &from, nil, "")
				if err != nil {
					t.Fatal(err)
				}
				defer ch.Close()
				chans = append(chans, ch)
			}
			addLog(t, e, nil, logentry.LevelINFO, fmt.Sprintf("for %d", n))
			time.Sleep(5 * time.Millisecond) // past the settle window
			e.count.reset()
			feed.Tick(context.Background())
			stmts := e.count.counts()["logs"]
			delivered := 0
			for _, ch := range chans {
				for d, _ := ch.TryNext(); d != nil; d, _ = ch.TryNext() {
					if d.Err == nil && d.Node.Message == fmt.Sprintf("for %d", n) {
						delivered++
					}
				}
			}
			if delivered != (n+1)/2 { // the admins; the users own no row
				t.Errorf("%d subscribers: %d deliveries, want %d", n, delivered, (n+1)/2)
			}
			return stmts
		}
		one, thousand := count(1), count(1000)
		if one != 1 || thousand != one {
			t.Fatalf("statements per wake-up: %d with 1 subscriber, %d with 1,000; want 1 both", one, thousand)
		}
	})
}

// TestLiveBounds checks the caps: subscriptions per connection, a slow consumer's buffer,
// anonymous callers, and shutdown.
func TestLiveBounds(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		shutdown, stop := context.WithCancel(context.Background())
		defer stop()
		o := liveOptions
		o.Buffer = 2
		h := e.with(t, graph.WithViewer(testAdmin), graph.WithLive(o), graph.WithMaxSubscriptionsPerConnection(2), graph.WithLiveShutdown(shutdown))

		c, err := dialWS(t, h, "")
		if err != nil {
			t.Fatal(err)
		}
		started := func() { addLog(t, e, nil, logentry.LevelDEBUG, "started") }
		// A connection's subscriptions start concurrently: wait for each.
		c.subscribe("1", logTail, nil)
		waitStarted(t, c, "1", started)
		c.subscribe("2", logTail, nil)
		waitStarted(t, c, "2", started)
		c.subscribe("3", logTail, nil)
		for {
			s := c.next("logEntries")
			if s.ID != "3" {
				continue // a started row of 1 or 2
			}
			if len(s.Errors) == 0 || s.Errors[0].code() != "TOO_MANY_REQUESTS" {
				t.Fatalf("the third subscription of a connection capped at 2: got %s %+v", s.Type, s.Errors)
			}
			break
		}
		c.send(wsMessage{ID: "2", Type: "complete"})

		// A consumer that cannot take a wake-up's rows as fast as they come loses its
		// subscription with SLOW_CONSUMER, never memory: 1,000 rows against a buffer of 2.
		bulk := make([]*logs.LogEntryCreate, 1000)
		for i := range bulk {
			bulk[i] = e.set.Logs.LogEntry.Create().SetID(uuid.Must(uuid.NewV7())).SetMessage(fmt.Sprintf("bulk %d", i))
		}
		if _, err := e.set.Logs.LogEntry.CreateBulk(bulk...).Save(context.Background()); err != nil {
			t.Fatal(err)
		}
		for {
			s := c.next("logEntries")
			if s.ID == "1" && len(s.Errors) > 0 {
				if s.Errors[0].code() != "SLOW_CONSUMER" {
					t.Fatalf("got %s (%s), want SLOW_CONSUMER", s.Errors[0].code(), s.Errors[0].Message)
				}
				break
			}
		}
		for {
			m, err := c.read()
			if err != nil {
				t.Fatal(err)
			}
			if m.ID == "1" && m.Type == "complete" {
				break
			}
		}

		// Anonymous callers have no stream.
		anon, err := dialWS(t, e.with(t, graph.WithLive(o)), "")
		if err != nil {
			t.Fatal(err)
		}
		anon.subscribe("a", logTail, nil)
		if s := anon.next("logEntries"); len(s.Errors) == 0 || s.Errors[0].code() != "UNAUTHENTICATED" {
			t.Fatalf("anonymous: got %s %+v", s.Type, s.Errors)
		}

		// Shutdown completes the subscriptions and refuses new ones.
		c.subscribe("4", logTail, nil)
		waitStarted(t, c, "4", func() { addLog(t, e, nil, logentry.LevelDEBUG, "started") })
		stop()
		for {
			m, err := c.read()
			if err != nil {
				t.Fatal(err)
			}
			if m.ID == "4" && m.Type == "complete" {
				break
			}
		}
	})
}

// TestLiveTokens checks connection_init: a bad token is never acknowledged.
func TestLiveTokens(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		h := e.with(t, graph.WithLive(liveOptions))
		if _, err := dialWS(t, h, "mdb_not-a-real-token"); err == nil {
			t.Fatal("a bad token: the connection was acknowledged")
		}
	})
}

// TestLiveReplicas runs two handlers on the same databases, as two replicas share nothing but
// them: rows written through one reach the subscribers of the other, in order, each once. On
// PostgreSQL the feeds never poll, so only the trigger's NOTIFY can wake them.
func TestLiveReplicas(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		o := liveOptions
		if e.set.Logs != nil && e.set.DBs[0].Dialect() == "postgres" {
			o.Poll = time.Hour
		}
		writer := e.with(t, graph.WithViewer(testAdmin), graph.WithLive(o))
		reader := e.with(t, graph.WithViewer(testAdmin), graph.WithLive(o))
		c, err := dialWS(t, reader, "")
		if err != nil {
			t.Fatal(err)
		}
		write := func(msg string) {
			writer.query(t, `mutation($in: CreateLogEntryInput!) { createLogEntry(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"message": msg}}, nil)
		}
		c.subscribe("r", logTail, nil)
		waitStarted(t, c, "r", func() { write("started") })
		for _, m := range []string{"x1", "x2", "x3"} {
			write(m)
		}
		var got []string
		for len(got) < 3 {
			if m, _ := c.message("logEntries"); m != "started" {
				got = append(got, m)
			}
		}
		if strings.Join(got, ",") != "x1,x2,x3" {
			t.Fatalf("the other replica delivered %v", got)
		}
	})
}

// TestLiveSSE streams over server-sent events (graphql-sse's distinct connections mode), with
// the token in the request's Authorization header.
func TestLiveSSE(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		// A subscription outlives REQUEST_TIMEOUT: it is the client's to end.
		const timeout = 500 * time.Millisecond
		h := e.with(t, graph.WithLive(liveOptions), graph.WithRequestTimeout(timeout))
		alice := h.signUp(t, "alice.sse@example.com", "alice-live-password", "Alice")
		aliceID := uuid.MustParse(alice.User.ID)
		ctx, cancel := context.WithTimeout(context.Background(), liveWait)
		defer cancel()
		body := mustJSON(t, map[string]any{"query": logTail})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.srv.URL, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Authorization", "Bearer "+alice.Token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("got %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		events := make(chan string, 16)
		go func() {
			defer close(events)
			sc := bufio.NewScanner(res.Body)
			for sc.Scan() {
				if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
					events <- data
				}
			}
		}()
		// Rows are written until one arrives: the stream starts when the server reads the request.
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			addLog(t, e, &aliceID, logentry.LevelINFO, "over sse")
			select {
			case data, ok := <-events:
				if !ok {
					t.Fatal("the stream ended")
				}
				if !strings.Contains(data, `"over sse"`) || !strings.Contains(data, `"cursor"`) {
					t.Fatalf("got %s", data)
				}
				time.Sleep(2 * timeout)
				addLog(t, e, &aliceID, logentry.LevelINFO, "after the timeout")
				for data := range events {
					if strings.Contains(data, `"after the timeout"`) {
						return
					}
				}
				t.Fatal("the stream ended at the request's time limit")
			case <-tick.C:
			case <-ctx.Done():
				t.Fatal("no event arrived")
			}
		}
	})
}

// TestLiveRevokedSession ends the subscriptions of a connection whose session is revoked.
func TestLiveRevokedSession(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		h := e.with(t, graph.WithLive(liveOptions), graph.WithSessionRecheck(100*time.Millisecond))
		alice := h.signUp(t, "alice.revoked@example.com", "alice-live-password", "Alice")
		aliceID := uuid.MustParse(alice.User.ID)
		c, err := dialWS(t, h, alice.Token)
		if err != nil {
			t.Fatal(err)
		}
		c.subscribe("a", logTail, nil)
		waitStarted(t, c, "a", func() { addLog(t, e, &aliceID, logentry.LevelINFO, "started") })
		h.as(alice.Token).query(t, `mutation { logOut }`, nil, nil)
		for {
			m, err := c.read()
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatal("the subscription outlived its revoked session")
			}
			if err != nil || (m.ID == "a" && m.Type == "complete") {
				return // completed, or the connection closed: either ends the stream
			}
			if m.Type != "next" {
				t.Fatalf("got %s %s", m.Type, m.Payload)
			}
		}
	})
}

// TestLiveOrigins upgrades through the whole HTTP surface: a WebSocket from an origin that
// CORS_ORIGINS lists is served, one from another origin is refused before the upgrade.
func TestLiveOrigins(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		gql := graph.NewHandler(e.set, graph.WithViewer(testAdmin), graph.WithLive(liveOptions))
		srv := httptest.NewServer(server.New(server.Options{GraphQL: gql, CORS: server.CORS{Origins: []string{"https://app.example.com"}}}))
		defer srv.Close()
		dial := func(origin string) (*coderws.Conn, *http.Response, error) {
			ctx, cancel := context.WithTimeout(context.Background(), liveWait)
			defer cancel()
			return coderws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql", &coderws.DialOptions{
				Subprotocols: []string{"graphql-transport-ws"},
				HTTPHeader:   http.Header{"Origin": {origin}},
			})
		}
		conn, _, err := dial("https://app.example.com")
		if err != nil {
			t.Fatalf("an allowed origin: %v", err)
		}
		conn.CloseNow()
		_, res, err := dial("https://evil.example.com")
		if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
			t.Fatalf("another origin: got %v, %v; want 403", res, err)
		}
	})
}

// TestLiveOutage reports DATABASE_UNAVAILABLE once when the logs database cannot be read, and
// resumes from the subscriber's cursor when it is back: the rows written meanwhile arrive.
func TestLiveOutage(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		h := e.with(t, graph.WithViewer(testAdmin), graph.WithLive(liveOptions))
		c, err := dialWS(t, h, "")
		if err != nil {
			t.Fatal(err)
		}
		c.subscribe("o", logTail, nil)
		waitStarted(t, c, "o", func() { addLog(t, e, nil, logentry.LevelINFO, "started") })
		e.count.breakDB("logs", "down")
		for {
			s := c.next("logEntries")
			if len(s.Errors) > 0 {
				if s.Errors[0].code() != "DATABASE_UNAVAILABLE" || s.Errors[0].Extensions["database"] != "logs" {
					t.Fatalf("got %+v, want DATABASE_UNAVAILABLE on logs", s.Errors[0])
				}
				break
			}
			if s.Type != "next" {
				t.Fatalf("got %s", s.Type)
			}
		}
		e.count.heal()
		addLog(t, e, nil, logentry.LevelINFO, "after")
		for {
			s := c.next("logEntries")
			if len(s.Errors) > 0 || s.Type != "next" {
				t.Fatalf("after the outage: got %s %+v", s.Type, s.Errors)
			}
			if s.Node["message"] == "after" {
				return
			}
		}
	})
}

// TestLiveAccessInSQL serves two USERs and the ADMINs with one statement per wake-up
// and checks that the rule is the statement's: each USER receives their own rows only, the
// admin every row, each once and in order, also when tiny bounds (2 rows, 3 pairs a
// statement) split the rows over many statements.
func TestLiveAccessInSQL(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		for _, o := range []live.Options{
			{Poll: -1, Settle: time.Millisecond, MaxPerViewer: 10},
			{Poll: -1, Settle: time.Millisecond, MaxPerViewer: 10, Batch: 2, Pairs: 3},
		} {
			feed := graph.LiveLogFeed(e.set, o)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			alice := auth.Viewer{UserID: uuid.Must(uuid.NewV7()), Role: auth.RoleUser}
			bob := auth.Viewer{UserID: uuid.Must(uuid.NewV7()), Role: auth.RoleUser}
			admin := auth.Viewer{UserID: uuid.Must(uuid.NewV7()), Role: auth.RoleAdmin}
			from := live.Boundary(time.Now()) // after the rows of the previous round
			streams := map[string]*live.Stream[*logs.LogEntry]{}
			// Alice twice, and two admins: each pair reads as one group of the statement.
			admin2 := auth.Viewer{UserID: uuid.Must(uuid.NewV7()), Role: auth.RoleAdmin}
			for name, v := range map[string]auth.Viewer{"alice": alice, "alice again": alice, "bob": bob, "admin": admin, "admin2": admin2} {
				ch, err := feed.Subscribe(v, &from, nil, "")
				if err != nil {
					t.Fatal(err)
				}
				streams[name] = ch
			}
			var want = map[string][]string{}
			for i := range 4 {
				a, b := fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)
				addLog(t, e, &alice.UserID, logentry.LevelINFO, a)
				addLog(t, e, &bob.UserID, logentry.LevelINFO, b)
				want["alice"] = append(want["alice"], a)
				want["bob"] = append(want["bob"], b)
				want["admin"] = append(want["admin"], a, b)
			}
			addLog(t, e, nil, logentry.LevelINFO, "system")
			want["admin"] = append(want["admin"], "system")
			want["alice again"], want["admin2"] = want["alice"], want["admin"]
			time.Sleep(5 * time.Millisecond) // past the settle window

			e.count.reset()
			ticks := 1
			for feed.Tick(ctx) {
				ticks++
				if ticks > 50 {
					t.Fatal("the feed never caught up")
				}
			}
			if got := e.count.counts()["logs"]; got != ticks {
				t.Errorf("%+v: %d statements for %d wake-ups, want one each", o, got, ticks)
			}
			if o.Batch == 2 && ticks < 3 {
				t.Errorf("bounds of 2 rows and 3 pairs: %d wake-ups, want several", ticks)
			}
			for name, ch := range streams {
				var got []string
				for d, _ := ch.TryNext(); d != nil; d, _ = ch.TryNext() {
					if d.Err != nil {
						t.Fatalf("%s: %v", name, d.Err)
					}
					got = append(got, d.Node.Message)
				}
				if strings.Join(got, ",") != strings.Join(want[name], ",") {
					t.Errorf("%+v: %s received %v, want %v", o, name, got, want[name])
				}
			}
			for _, ch := range streams {
				ch.Close()
			}
			cancel()
		}
	})
}

// TestLiveStitchedBatch delivers, in one wake-up, rows of several users to several
// subscribers that select `node { user { name } }`: the users of the whole wake-up cost one
// statement to the users database, and each subscriber's `user` is the row's own user, a USER
// seeing only their own row.
func TestLiveStitchedBatch(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		h := e.with(t, graph.WithViewer(testAdmin), graph.WithLive(liveOptions), graph.WithSessionRecheck(time.Hour))
		const n = 4
		var owners []authPayload
		names := map[string]string{}
		for i := range n {
			p := h.signUp(t, fmt.Sprintf("stitched%d@example.com", i), "stitched-live-password", fmt.Sprintf("Owner %d", i))
			owners = append(owners, p)
			names[p.User.ID] = fmt.Sprintf("Owner %d", i)
		}
		const doc = `subscription { logEntries { cursor node { message userID user { name } } } }`
		var clients []*wsClient
		for range 3 {
			c, err := dialWS(t, h, "") // the handler's viewer: an admin
			if err != nil {
				t.Fatal(err)
			}
			clients = append(clients, c)
		}
		alice, err := dialWS(t, h, owners[0].Token)
		if err != nil {
			t.Fatal(err)
		}
		aliceID := uuid.MustParse(owners[0].User.ID)
		for _, c := range clients {
			c.subscribe("s", doc, nil)
			waitStarted(t, c, "s", func() { addLog(t, e, nil, logentry.LevelDEBUG, "started") })
		}
		alice.subscribe("s", doc, nil)
		waitStarted(t, alice, "s", func() { addLog(t, e, &aliceID, logentry.LevelDEBUG, "started") })
		// Every started row has been delivered, and its users read, once a later row arrives.
		addLog(t, e, &aliceID, logentry.LevelDEBUG, "sync")
		for _, c := range append(clients, alice) {
			for {
				if m, _ := c.message("logEntries"); m == "sync" {
					break
				}
			}
		}

		// One insert of rows whose ids share a millisecond: they settle, and are read, together.
		e.count.reset()
		first := uuid.Must(uuid.NewV7())
		bulk := make([]*logs.LogEntryCreate, n)
		for i, o := range owners {
			id := uuid.Must(uuid.NewV7())
			copy(id[:6], first[:6])
			owner := uuid.MustParse(o.User.ID)
			bulk[i] = e.set.Logs.LogEntry.Create().SetID(id).SetMessage(fmt.Sprintf("row %d", i)).SetLevel(logentry.LevelINFO).SetUserID(owner)
		}
		if _, err := e.set.Logs.LogEntry.CreateBulk(bulk...).Save(context.Background()); err != nil {
			t.Fatal(err)
		}
		check := func(c *wsClient, want int) {
			for range want {
				s := c.next("logEntries")
				if s.Type != "next" || s.Node == nil || len(s.Errors) > 0 {
					t.Fatalf("got %s %+v (data %s), want a row", s.Type, s.Errors, s.rawData)
				}
				user, _ := s.Node["user"].(map[string]any)
				if owner, _ := s.Node["userID"].(string); user == nil || user["name"] != names[owner] {
					t.Fatalf("%v: user %v, want %s", s.Node["message"], user, names[owner])
				}
			}
		}
		for _, c := range clients {
			check(c, n)
		}
		check(alice, 1)
		if got := e.count.counts()["users"]; got != 1 {
			t.Fatalf("%d statements to users for one wake-up of %d rows to 4 subscribers, want 1:\n%s", got, n, e.count.dump())
		}
	})
}
