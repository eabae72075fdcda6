package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// opKey is the context key of the slot in which the GraphQL extension leaves the operation
// name for the HTTP middleware, which only knows it once the handler has returned.
type opKey struct{}

// withOperationSlot returns ctx with an empty slot for the operation name.
func withOperationSlot(ctx context.Context) (context.Context, *atomic.Pointer[string]) {
	slot := new(atomic.Pointer[string])
	return context.WithValue(ctx, opKey{}, slot), slot
}

// setOperation fills the slot in ctx, if there is one, with the label of the operation.
func setOperation(ctx context.Context, label string) {
	if slot, ok := ctx.Value(opKey{}).(*atomic.Pointer[string]); ok {
		slot.Store(&label)
	}
}

// Middleware counts the requests next serves and times them, labelled by GraphQL operation
// name (filled in by the Extension, which must be installed in the GraphQL handler next
// reaches) and status class. Wrap the /graphql handler with it: any other request is labelled
// Anonymous.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, slot := withOperationSlot(r.Context())
		rec := &statusRecorder{ResponseWriter: w}
		completed := false
		// Deferred so that a panicking handler is still counted, as a 5xx.
		defer func() {
			status := rec.statusClass()
			if !completed {
				status = "5xx"
			}
			op := Anonymous
			if p := slot.Load(); p != nil {
				op = *p
			}
			m.httpRequests.WithLabelValues(op, status).Inc()
			m.httpDuration.WithLabelValues(op, status).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
		completed = true
	})
}

// statusRecorder remembers the status of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	// 1xx responses are interim; the final status comes later.
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming transports (server-sent events) flush through the recorder.
func (w *statusRecorder) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the writer underneath, for Hijack and deadlines.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusClass is "2xx", "4xx" and so on; a handler that wrote nothing sent 200.
func (w *statusRecorder) statusClass() string {
	code := w.status
	if code == 0 {
		code = http.StatusOK
	}
	return strconv.Itoa(code/100) + "xx"
}
