// Package server wires multidb's HTTP surface: /graphql, the playground, /healthz and /readyz,
// and runs it with a graceful shutdown.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/multidb/multidb/internal/metrics"
	"github.com/multidb/multidb/internal/requestid"
	"github.com/multidb/multidb/internal/server/playground"
)

// DatabaseState is what /readyz says of one database.
type DatabaseState struct {
	Name    string `json:"name"`
	Up      bool   `json:"up"`
	Error   string `json:"error,omitempty"`
	Pending int    `json:"pendingMigrations"`
}

// Ready reports whether the database is up and has every migration the binary ships.
func (s DatabaseState) Ready() bool { return s.Up && s.Pending == 0 && s.Error == "" }

// Options configure the HTTP surface.
type Options struct {
	// GraphQL serves /graphql.
	GraphQL http.Handler
	// Playground serves GraphiQL at / when set.
	Playground bool
	// Readiness reports the state of every database for /readyz.
	Readiness func(ctx context.Context) []DatabaseState
	// Logger receives the access log, request errors and lifecycle messages.
	Logger *slog.Logger
	// Metrics, when set, counts GraphQL requests and serves /metrics.
	Metrics *metrics.Metrics
	// MetricsElsewhere keeps /metrics off this handler: it is served on its own address
	// (ServeMetrics), or not at all, as production does unless told otherwise.
	MetricsElsewhere bool
}

// New returns the HTTP handler of multidb.
func New(o Options) http.Handler {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	graphql := o.GraphQL
	if o.Metrics != nil {
		graphql = o.Metrics.Middleware(graphql)
		if !o.MetricsElsewhere {
			mux.Handle("GET /metrics", o.Metrics.Handler())
		}
	}
	mux.Handle("/graphql", graphql)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		states := o.Readiness(ctx)
		status, code := "ready", http.StatusOK
		for _, s := range states {
			if !s.Ready() {
				status, code = "not ready", http.StatusServiceUnavailable
			}
		}
		writeJSON(w, code, map[string]any{"status": status, "databases": states})
	})
	if o.Playground {
		mux.Handle("GET /playground/", http.StripPrefix("/playground/", playground.Assets()))
		mux.Handle("GET /{$}", playground.Handler("multidb", "/graphql", "/playground/"))
	}
	// The request id is set first, so that the access log and every log line below carry it.
	return requestid.Middleware(requestid.AccessLog(log)(mux))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Serve serves h on ln until ctx is done, then stops accepting connections and waits up to
// grace for the requests in flight to finish.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// Requests keep their own context; shutdown does not cancel them, it waits for them.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
