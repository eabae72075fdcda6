package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/multidb/multidb/internal/server"
)

func TestReadyzServesTheLastProbeAtOnce(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	p := server.NewProber([]server.Check{
		{Name: "users", Probe: func(context.Context) server.DatabaseState {
			return server.DatabaseState{State: server.StateUp, Up: true}
		}},
		{Name: "logs", Probe: func(ctx context.Context) server.DatabaseState {
			// A database that never answers: the probe returns at its own deadline.
			select {
			case <-ctx.Done():
			case <-hang:
			}
			return server.DatabaseState{State: server.StateUnreachable}
		}},
	}, 50*time.Millisecond, 200*time.Millisecond)
	p.Refresh(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p.Start(ctx)
	srv := httptest.NewServer(server.New(server.Options{GraphQL: http.NotFoundHandler(), Readiness: p.States}))
	defer srv.Close()

	for range 5 {
		start := time.Now()
		code, body := get(t, srv.URL+"/readyz")
		// The failure mode is waiting for the probe (200ms) or for ever; a second is far from both.
		if took := time.Since(start); took > time.Second {
			t.Fatalf("readyz took %v", took)
		}
		var got struct {
			Databases []server.DatabaseState `json:"databases"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		if code != http.StatusServiceUnavailable || len(got.Databases) != 2 || got.Databases[0].State != server.StateUp ||
			got.Databases[1].State != server.StateUnreachable || got.Databases[1].Name != "logs" {
			t.Fatalf("readyz: got %d %s, want 503 naming logs unreachable and users up", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestReadyzAnswersWithinASecondWhateverReadinessDoes(t *testing.T) {
	srv := httptest.NewServer(server.New(server.Options{GraphQL: http.NotFoundHandler(),
		Readiness: func(ctx context.Context) []server.DatabaseState {
			<-ctx.Done()
			time.Sleep(5 * time.Second)
			return nil
		}}))
	defer srv.Close()
	start := time.Now()
	code, _ := get(t, srv.URL+"/readyz")
	if took := time.Since(start); code != http.StatusServiceUnavailable || took > 3*time.Second {
		t.Fatalf("readyz with a readiness that hangs: %d after %v, want 503 within about 1s", code, took)
	}
}

// TestShutdownTurnsNotReadyThenDrains follows a rolling deploy: at the signal /readyz turns 503
// at once while requests are still served, with Connection: close, for the delay; then the
// listener closes.
func TestShutdownTurnsNotReadyThenDrains(t *testing.T) {
	drain := &server.Drain{}
	h := server.New(server.Options{GraphQL: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		Readiness: func(context.Context) []server.DatabaseState { return nil }, Drain: drain})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	delay := 1500 * time.Millisecond
	go func() {
		served <- server.Serve(ctx, ln, h, server.ServeOptions{Grace: 5 * time.Second, Delay: delay, Drain: drain}, slog.New(slog.DiscardHandler))
	}()
	if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz before shutdown: %d", code)
	}
	// A kept-alive connection, idle when the signal comes.
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	send := func() *http.Response {
		t.Helper()
		if _, err := io.WriteString(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := send(); resp.Close {
		t.Fatal("Connection: close before shutdown")
	}

	cancel() // as SIGTERM does
	time.Sleep(100 * time.Millisecond)
	if code, body := get(t, base+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
		t.Errorf("readyz right after the signal: %d %s, want 503 shutting down", code, body)
	}
	// Still served during the delay, and told that this is the connection's last response.
	if resp := send(); resp.StatusCode != http.StatusOK || !resp.Close {
		t.Errorf("request on a kept-alive connection during the delay: %d close=%v, want 200 with Connection: close", resp.StatusCode, resp.Close)
	}
	if code, _ := get(t, base+"/graphql"); code != http.StatusOK {
		t.Errorf("new connection during the delay: %d, want served", code)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(delay + 10*time.Second):
		t.Fatal("Serve did not return after the delay")
	}
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("the listener still accepts connections after shutdown")
	}
}

// TestSlowBodyIsCut: a client that sends its body a byte a second is cut at ReadTimeout,
// instead of holding a connection and a goroutine for as long as it likes.
func TestSlowBodyIsCut(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			return
		}
		io.WriteString(w, "read it all")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go server.Serve(ctx, ln, h, server.ServeOptions{Grace: time.Second, ReadHeaderTimeout: time.Second, ReadTimeout: 2 * time.Second}, slog.New(slog.DiscardHandler))

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 60\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	cut := make(chan time.Duration, 1)
	go func() {
		// The server closes the connection (or answers an error) when the read deadline passes.
		buf := make([]byte, 512)
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			if _, err := conn.Read(buf); err != nil {
				cut <- time.Since(start)
				return
			}
		}
	}()
	for i := 0; i < 60; i++ {
		select {
		case took := <-cut:
			// 60 bytes at one a second would take a minute; the limit is 2s.
			if took > 10*time.Second {
				t.Fatalf("cut after %v, want about 2s", took)
			}
			return
		case <-time.After(time.Second):
		}
		if _, err := conn.Write([]byte("x")); err != nil {
			return // cut: the write failed
		}
	}
	t.Fatal("a body sent a byte a second was read for a minute")
}
