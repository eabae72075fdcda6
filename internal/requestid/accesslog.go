package requestid

import (
	"log/slog"
	"net/http"
	"time"
)

// AccessLog returns middleware that writes one line to log per request when it ends: method,
// path, status, duration, bytes and request_id, at Info, or at Error for a 5xx status. Put it
// inside Middleware so that the ID is known. A handler that panics is logged with status 500
// before the panic goes on up.
func AccessLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &recorder{ResponseWriter: w}
			completed := false
			// Deferred, without recover, so that a panic is logged and still reaches net/http
			// with its stack.
			defer func() {
				status := rec.statusCode()
				if !completed {
					status = http.StatusInternalServerError
				}
				level := slog.LevelInfo
				if status >= 500 {
					level = slog.LevelError
				}
				log.LogAttrs(r.Context(), level, "request",
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.Int("status", status),
					slog.Duration("duration", time.Since(start)),
					slog.Int64("bytes", rec.bytes),
					slog.String(Key, FromContext(r.Context())),
				)
			}()
			next.ServeHTTP(rec, r)
			completed = true
		})
	}
}

// recorder remembers the status and body size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	// 1xx responses are interim; the final status comes later.
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush lets streaming transports (server-sent events) flush through the recorder.
func (w *recorder) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the writer underneath, for Hijack and deadlines.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusCode is the status sent, 200 when the handler wrote nothing at all (net/http's rule).
func (w *recorder) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
