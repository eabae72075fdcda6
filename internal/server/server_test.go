package server_test

import (
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

func TestHealthAndReadiness(t *testing.T) {
	states := []server.DatabaseState{{Name: "users", Up: true}, {Name: "analytics", Up: true}}
	h := server.New(server.Options{
		GraphQL:   http.NotFoundHandler(),
		Readiness: func(context.Context) []server.DatabaseState { return states },
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	if code, _ := get(t, srv.URL+"/healthz"); code != http.StatusOK {
		t.Errorf("healthz: got %d, want 200", code)
	}
	code, body := get(t, srv.URL+"/readyz")
	if code != http.StatusOK || !strings.Contains(body, `"status":"ready"`) {
		t.Errorf("readyz with every database up: got %d %s, want 200 ready", code, body)
	}
	states[1] = server.DatabaseState{Name: "analytics", Up: true, Pending: 2}
	code, body = get(t, srv.URL+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"pendingMigrations":2`) {
		t.Errorf("readyz with analytics behind: got %d %s, want 503 naming the pending migrations", code, body)
	}
	states[1] = server.DatabaseState{Name: "analytics", Up: false, Error: "unreachable"}
	code, body = get(t, srv.URL+"/readyz")
	var got struct {
		Databases []server.DatabaseState `json:"databases"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusServiceUnavailable || len(got.Databases) != 2 || got.Databases[1].Up {
		t.Errorf("readyz with analytics down: got %d %s, want 503 with analytics down", code, body)
	}
	if code, _ := get(t, srv.URL+"/"); code != http.StatusNotFound {
		t.Errorf("playground when switched off: got %d, want 404", code)
	}
}

func TestPlaygroundServesItsOwnAssets(t *testing.T) {
	h := server.New(server.Options{GraphQL: http.NotFoundHandler(), Playground: true,
		Readiness: func(context.Context) []server.DatabaseState { return nil }})
	srv := httptest.NewServer(h)
	defer srv.Close()
	code, page := get(t, srv.URL+"/")
	if code != http.StatusOK || !strings.Contains(page, "/playground/graphiql.min.js") || strings.Contains(page, "cdn.jsdelivr.net") {
		t.Fatalf("playground page: got %d, want 200 loading local assets only:\n%s", code, page)
	}
	for _, asset := range []string{"graphiql.min.js", "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js"} {
		if code, body := get(t, srv.URL+"/playground/"+asset); code != http.StatusOK || len(body) < 1000 {
			t.Errorf("%s: got %d (%d bytes), want 200", asset, code, len(body))
		}
	}
}

func TestServeDrainsRequestsInFlight(t *testing.T) {
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- server.Serve(ctx, ln, h, server.ServeOptions{Grace: 5 * time.Second}, slog.New(slog.DiscardHandler))
	}()

	reply := make(chan string, 1)
	go func() {
		_, body := get(t, "http://"+ln.Addr().String()+"/slow")
		reply <- body
	}()
	<-started
	cancel() // as SIGTERM does
	if body := <-reply; body != "finished" {
		t.Errorf("request in flight during shutdown: got %q, want %q", body, "finished")
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: got %v, want a clean shutdown", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("the listener still accepts connections after shutdown")
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
