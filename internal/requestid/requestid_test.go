package requestid_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/multidb/multidb/internal/requestid"
)

func TestMiddleware(t *testing.T) {
	tests := []struct {
		name     string
		incoming string // "" sends no header
		keep     bool
	}{
		{"none", "", false},
		{"uuid", "0190f3c4-7b1a-7c3e-9a8b-1234567890ab", true},
		{"allowed punctuation", "trace.abc_DEF-123", true},
		{"128 chars", strings.Repeat("a", 128), true},
		{"129 chars", strings.Repeat("a", 129), false},
		{"space", "abc def", false},
		{"slash", "a/b", false},
		{"quote", `a"b`, false},
		{"non-ASCII", "caf\u00e9", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen string
			h := requestid.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = requestid.FromContext(r.Context())
			}))
			req := httptest.NewRequest(http.MethodGet, "/graphql", nil)
			if tt.incoming != "" {
				req.Header.Set(requestid.Header, tt.incoming)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			got := rec.Header().Get(requestid.Header)
			if got != seen {
				t.Fatalf("response header %q, context %q: want the same ID", got, seen)
			}
			if tt.keep {
				if got != tt.incoming {
					t.Fatalf("got ID %q, want the incoming %q kept", got, tt.incoming)
				}
				return
			}
			u, err := uuid.Parse(got)
			if err != nil || u.Version() != 7 {
				t.Fatalf("got ID %q (err %v), want a new UUID v7", got, err)
			}
		})
	}
}

func TestMiddlewareNewIDsDiffer(t *testing.T) {
	h := requestid.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	seen := map[string]bool{}
	for range 100 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		id := rec.Header().Get(requestid.Header)
		if seen[id] {
			t.Fatalf("ID %q made twice", id)
		}
		seen[id] = true
	}
}

func TestFromContextEmpty(t *testing.T) {
	if got := requestid.FromContext(context.Background()); got != "" {
		t.Fatalf("got %q from an empty context, want \"\"", got)
	}
}

// jsonLines decodes the JSON log lines in buf.
func jsonLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(buf)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatalf("decode log line: %v", err)
		}
		out = append(out, m)
	}
}

func TestHandler(t *testing.T) {
	ctx := requestid.NewContext(context.Background(), "req-1")
	tests := []struct {
		name string
		log  func(l *slog.Logger)
		want map[string]any // attributes expected at the top level; nil value means absent
	}{
		{
			name: "context with ID",
			log:  func(l *slog.Logger) { l.InfoContext(ctx, "hello") },
			want: map[string]any{"request_id": "req-1"},
		},
		{
			name: "context without ID",
			log:  func(l *slog.Logger) { l.InfoContext(context.Background(), "hello") },
			want: map[string]any{"request_id": nil},
		},
		{
			name: "no context",
			log:  func(l *slog.Logger) { l.Info("hello") },
			want: map[string]any{"request_id": nil},
		},
		{
			name: "With",
			log:  func(l *slog.Logger) { l.With("component", "graph").InfoContext(ctx, "hello", "n", 1) },
			want: map[string]any{"request_id": "req-1", "component": "graph", "n": float64(1)},
		},
		{
			name: "WithGroup keeps the ID at the top level",
			log: func(l *slog.Logger) {
				l.With("component", "graph").WithGroup("g").With("a", 1).InfoContext(ctx, "hello", "b", 2)
			},
			want: map[string]any{
				"request_id": "req-1",
				"component":  "graph",
				"g":          map[string]any{"a": float64(1), "b": float64(2)},
			},
		},
		{
			name: "explicit attribute wins",
			log:  func(l *slog.Logger) { l.InfoContext(ctx, "hello", "request_id", "explicit") },
			want: map[string]any{"request_id": "explicit"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(slog.New(requestid.NewHandler(slog.NewJSONHandler(&buf, nil))))
			raw := buf.String()
			lines := jsonLines(t, &buf)
			if len(lines) != 1 {
				t.Fatalf("got %d log lines, want 1:\n%s", len(lines), raw)
			}
			if n := strings.Count(raw, `"request_id"`); n > 1 {
				t.Fatalf("request_id appears %d times, want at most once:\n%s", n, raw)
			}
			for k, want := range tt.want {
				got, ok := lines[0][k]
				if want == nil {
					if ok {
						t.Errorf("%s = %v, want it absent", k, got)
					}
					continue
				}
				if gj, wj := mustJSON(t, got), mustJSON(t, want); gj != wj {
					t.Errorf("%s = %s, want %s", k, gj, wj)
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHandlerEnabled(t *testing.T) {
	h := requestid.NewHandler(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if h.Enabled(context.Background(), slog.LevelInfo) {
		t.Error("Info enabled under a Warn handler")
	}
	if !h.Enabled(context.Background(), slog.LevelError) {
		t.Error("Error disabled under a Warn handler")
	}
}

func TestAccessLog(t *testing.T) {
	tests := []struct {
		name   string
		h      http.HandlerFunc
		status int
		bytes  float64
		level  string
	}{
		{
			name:   "ok",
			h:      func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hello") },
			status: 200, bytes: 5, level: "INFO",
		},
		{
			name:   "nothing written",
			h:      func(w http.ResponseWriter, r *http.Request) {},
			status: 200, bytes: 0, level: "INFO",
		},
		{
			name:   "client error",
			h:      func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusUnprocessableEntity) },
			status: 422, bytes: 3, level: "INFO",
		},
		{
			name:   "server error",
			h:      func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) },
			status: 503, bytes: 5, level: "ERROR",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&buf, nil))
			h := requestid.Middleware(requestid.AccessLog(log)(tt.h))
			req := httptest.NewRequest(http.MethodPost, "/graphql?x=1", nil)
			req.Header.Set(requestid.Header, "abc")
			h.ServeHTTP(httptest.NewRecorder(), req)

			lines := jsonLines(t, &buf)
			if len(lines) != 1 {
				t.Fatalf("got %d lines, want 1", len(lines))
			}
			l := lines[0]
			want := map[string]any{
				"level": tt.level, "msg": "request", "method": "POST", "path": "/graphql",
				"status": float64(tt.status), "bytes": tt.bytes, "request_id": "abc",
			}
			for k, v := range want {
				if l[k] != v {
					t.Errorf("%s = %v, want %v", k, l[k], v)
				}
			}
			if d, ok := l["duration"].(float64); !ok || d < 0 {
				t.Errorf("duration = %v, want a number of nanoseconds", l["duration"])
			}
		})
	}
}

func TestAccessLogPanic(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	h := requestid.AccessLog(log)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	}))
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not reach the caller")
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
	}()
	lines := jsonLines(t, &buf)
	if len(lines) != 1 || lines[0]["status"] != float64(500) || lines[0]["level"] != "ERROR" {
		t.Fatalf("got %v, want one ERROR line with status 500", lines)
	}
}

// TestServer runs the whole chain on a real server: the ID a client sends comes back in the
// response and is on both the handler's own log line and the access-log line.
func TestServer(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(requestid.NewHandler(slog.NewJSONHandler(&buf, nil)))
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.InfoContext(r.Context(), "resolving")
		_, _ = io.WriteString(w, "ok")
	})
	srv := httptest.NewServer(requestid.Middleware(requestid.AccessLog(log)(app)))
	defer srv.Close()

	for _, incoming := range []string{"client-id-42", ""} {
		buf.Reset()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/graphql", nil)
		if incoming != "" {
			req.Header.Set(requestid.Header, incoming)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()

		id := resp.Header.Get(requestid.Header)
		if id == "" || (incoming != "" && id != incoming) {
			t.Fatalf("response ID %q, sent %q", id, incoming)
		}
		lines := jsonLines(t, &buf)
		if len(lines) != 2 {
			t.Fatalf("got %d log lines, want 2 (handler, access log)", len(lines))
		}
		for _, l := range lines {
			if l["request_id"] != id {
				t.Errorf("line %q has request_id %v, want %q", l["msg"], l["request_id"], id)
			}
		}
		if lines[1]["msg"] != "request" {
			t.Errorf("last line is %q, want the access log", lines[1]["msg"])
		}
	}
}
