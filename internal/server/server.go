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
	"sync/atomic"
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
	// Current is the latest version the database applied, Latest the newest the binary ships;
	// Versions lists the pending versions when behind, the unknown ones when ahead.
	Current  string   `json:"currentVersion,omitempty"`
	Latest   string   `json:"binaryVersion,omitempty"`
	Versions []string `json:"versions,omitempty"`
	// State is one of StateUp, StateUnreachable, StateRefusing, StateBusy, StateBehind, StateAhead and
	// StateUnknown; empty in states built without it, which Up and Pending describe.
	State string `json:"state,omitempty"`
}

// Ready reports whether the database is up and has every migration the binary ships.
func (s DatabaseState) Ready() bool {
	return s.Up && s.Pending == 0 && s.Error == "" && (s.State == "" || s.State == StateUp || s.State == StateAhead)
}

// readyzWait is the longest /readyz waits for Options.Readiness; a Prober answers at once.
const readyzWait = time.Second

// Drain tells the handler that the server is shutting down. The zero value is not draining.
type Drain struct{ on atomic.Bool }

// Begin starts draining: /readyz answers 503 and every response asks its client to close the
// connection, so that a load balancer moves its traffic away before the listener closes.
func (d *Drain) Begin() {
	if d != nil {
		d.on.Store(true)
	}
}

// Active reports whether Begin was called.
func (d *Drain) Active() bool { return d != nil && d.on.Load() }

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
	// Drain, when set, is begun by Serve at shutdown (the same *Drain goes to ServeOptions).
	Drain *Drain
	// MetricsElsewhere keeps /metrics off this handler: it is served on its own address
	// (ServeMetrics), or not at all, as production does unless told otherwise.
	MetricsElsewhere bool
	// CORS says which other origins' pages may call /graphql; the zero value allows none.
	CORS CORS
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
	mux.Handle("/graphql", o.CORS.Middleware(graphql))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if o.Drain.Active() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "shutting down"})
			return
		}
		states, ok := readiness(r.Context(), o.Readiness)
		status, code := "ready", http.StatusOK
		if !ok {
			status, code = "not ready", http.StatusServiceUnavailable
		}
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
	return requestid.Middleware(requestid.AccessLog(log)(closeWhenDraining(o.Drain, mux)))
}

// readiness calls fn with a deadline of readyzWait and reports false when it did not answer
// by then: /readyz answers within a second whatever the databases do.
func readiness(ctx context.Context, fn func(context.Context) []DatabaseState) ([]DatabaseState, bool) {
	ctx, cancel := context.WithTimeout(ctx, readyzWait)
	defer cancel()
	ch := make(chan []DatabaseState, 1)
	go func() { ch <- fn(ctx) }()
	select {
	case states := <-ch:
		return states, true
	case <-ctx.Done():
		return nil, false
	}
}

// closeWhenDraining sets Connection: close on every response once d is active: the client
// learns from the last response on a kept-alive connection that it is the last, instead of
// finding the connection closed under its next request.
func closeWhenDraining(d *Drain, next http.Handler) http.Handler {
	if d == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.Active() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// ServeOptions are the timeouts and shutdown of Serve. Zero timeouts are no limit.
type ServeOptions struct {
	// Grace is how long shutdown waits for the requests in flight to finish.
	Grace time.Duration
	// Delay is how long the listener stays open after ctx is done, with /readyz answering 503,
	// so that a load balancer stops sending requests before connections are refused.
	Delay time.Duration
	// Drain is begun when ctx is done; give the same one to Options.Drain.
	Drain *Drain
	// The http.Server timeouts: reading the header, reading the whole request (a body sent
	// slowly is cut at ReadTimeout), writing the response, and keeping an idle connection.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// Serve serves h on ln until ctx is done. Then it begins o.Drain, keeps serving for o.Delay,
// stops accepting connections, closes the idle ones and waits up to o.Grace for the requests
// in flight to finish.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, o ServeOptions, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
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
	o.Drain.Begin()
	if o.Delay > 0 {
		log.Info("shutting down: not ready, still serving", "delay", o.Delay.String())
		select {
		case <-time.After(o.Delay):
		case err := <-errc:
			return err
		}
	}
	log.Info("shutting down: draining requests in flight", "grace", o.Grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), o.Grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
