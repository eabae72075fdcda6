package server_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/multidb/multidb/internal/metrics"
	"github.com/multidb/multidb/internal/server"
)

// TestMetricsOnTheirOwnAddress keeps /metrics off the API's handler and serves it on a
// listener of its own, as METRICS_ADDR does.
func TestMetricsOnTheirOwnAddress(t *testing.T) {
	m := metrics.New()
	api := httptest.NewServer(server.New(server.Options{GraphQL: http.NotFoundHandler(), Metrics: m, MetricsElsewhere: true}))
	defer api.Close()
	if code, _ := get(t, api.URL+"/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the API's port: %d, want 404", code)
	}
	public := httptest.NewServer(server.New(server.Options{GraphQL: http.NotFoundHandler(), Metrics: m}))
	defer public.Close()
	if code, _ := get(t, public.URL+"/metrics"); code != http.StatusOK {
		t.Errorf("/metrics on the API's port when allowed: %d, want 200", code)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.ServeMetrics(ctx, ln, m.Handler(), slog.New(slog.DiscardHandler)) }()
	if code, body := get(t, "http://"+ln.Addr().String()+"/metrics"); code != http.StatusOK || len(body) == 0 {
		t.Errorf("/metrics on its own address: %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ServeMetrics after its context ended: %v", err)
	}
}
