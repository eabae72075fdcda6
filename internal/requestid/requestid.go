// Package requestid gives every HTTP request an ID, carries it in the request's context and the
// X-Request-ID response header, adds it to the log records written with that context, and
// writes one access-log line per request.
package requestid

import (
	"context"
	"net/http"

	"github.com/google/uuid"
)

// Header is the HTTP header that carries the request ID both ways.
const Header = "X-Request-ID"

// MaxLen is the longest incoming ID that is kept; a longer one is replaced.
const MaxLen = 128

type ctxKey struct{}

// NewContext returns a copy of ctx that carries id, for work that starts outside an HTTP
// request (a background job) but should still be traceable.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the request ID ctx carries, or "" when it carries none.
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// New returns a fresh request ID: a UUID v7, so that IDs sort by the time they were made.
func New() string {
	id, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only when the random source does; a v4 ID is still unique enough.
		return uuid.NewString()
	}
	return id.String()
}

// Valid reports whether id may be taken from a client as is: 1 to MaxLen characters of
// [A-Za-z0-9._-]. Anything else could forge log lines or blow up log storage.
func Valid(id string) bool {
	if id == "" || len(id) > MaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// Middleware takes the request ID from the incoming X-Request-ID header when it is Valid, or
// makes a new one, stores it in the request's context and sets it on the response.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !Valid(id) {
			id = New()
		}
		// Set before next runs: headers written after the first byte of the body are lost.
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
	})
}
