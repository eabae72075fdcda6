package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/multidb/multidb/graph/account"
	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/database"
)

// limitBody refuses a body larger than max with 413 before anything reads it: gqlgen would
// read it whole.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		tooLarge := func() {
			writeError(w, r, http.StatusRequestEntityTooLarge, apierror.BadUserInput, fmt.Sprintf("the request body is larger than %d bytes", max))
		}
		if r.ContentLength > max {
			tooLarge()
			return
		}
		// Read into a buffer of the announced size: a trackEvents of 1,000 events is some
		// 100 KB, which io.ReadAll would reach by copying it over and over.
		var buf bytes.Buffer
		if r.ContentLength > 0 {
			buf.Grow(int(r.ContentLength) + bytes.MinRead)
		}
		_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, max))
		if err != nil {
			if errors.As(err, new(*http.MaxBytesError)) {
				tooLarge()
			} else {
				writeError(w, r, http.StatusBadRequest, apierror.BadRequest, "the request body could not be read")
			}
			return
		}
		body := buf.Bytes()
		r.Body = readBody{Reader: bytes.NewReader(body), bytes: body}
		next.ServeHTTP(w, r)
	})
}

// readBody is a request body that limitBody has read whole: the transport takes its bytes
// rather than copying them once more.
type readBody struct {
	*bytes.Reader
	bytes []byte
}

func (readBody) Close() error { return nil }

// withTimeout gives each request a deadline. Every statement runs with the request's context,
// so when it passes the drivers cancel what is still running, and the fields still waiting
// fail with TIMEOUT.
func withTimeout(d time.Duration, tokens int, next http.Handler) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if streaming(r, tokens) {
			// A subscription lasts as long as its client wants; its statements run with
			// their own deadlines.
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type ipKey struct{}

// clientIP is the address the request came from, the key of the per-address rate limits.
// It is the peer's address: behind a proxy, every client shares the proxy's.
func clientIP(ctx context.Context) string {
	ip, _ := ctx.Value(ipKey{}).(string)
	return ip
}

// authenticate puts the request's viewer in its context: anonymous without an Authorization
// header, the session's user with a valid bearer token. A token that is malformed, unknown,
// expired or revoked fails the whole request with UNAUTHENTICATED: a client that sent one
// means to act as someone, and must not be served as anonymous instead.
func authenticate(accounts *account.Service, fixed *auth.Viewer, addr func(*http.Request) string, log *slog.Logger, next http.Handler) http.Handler {
	if addr == nil {
		addr = peerAddress
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if host := addr(r); host != "" {
			ctx = context.WithValue(ctx, ipKey{}, host)
		}
		header := r.Header.Get("Authorization")
		token, err := auth.ParseBearer(header)
		var v auth.Viewer
		switch {
		case err != nil:
			unauthorized(w, r, "the Authorization header must be `Bearer <token>`, with a token from logIn or signUp")
			return
		case token != "":
			v, err = accounts.Authenticate(ctx, token)
			switch {
			case err == nil && ctx.Err() == nil:
				// A live session, the common case: tested first, as the error tests below allocate.
			case errors.Is(err, account.ErrInvalidSession):
				unauthorized(w, r, err.Error())
				return
			case errors.As(err, new(*database.UnavailableError)):
				writeError(w, r, http.StatusServiceUnavailable, apierror.DatabaseUnavailable, "the users database is unavailable: the session cannot be checked")
				return
			case database.Transient(err) || errors.Is(ctx.Err(), context.DeadlineExceeded):
				// Busy or out of time: the users database failed the whole request, not the client.
				code := apierror.CodeOf(err)
				if code == "" {
					code = apierror.Timeout
				}
				writeError(w, r, http.StatusServiceUnavailable, code, "the users database did not answer: the session cannot be checked")
				return
			case err != nil:
				log.ErrorContext(ctx, "graphql: checking a session failed", "err", err)
				writeError(w, r, http.StatusInternalServerError, apierror.Internal, "internal error")
				return
			}
		case fixed != nil:
			v = *fixed
		}
		next.ServeHTTP(w, r.WithContext(auth.NewContext(ctx, v)))
	})
}

// peerAddress is the host of the request's peer.
func peerAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	return host
}

// unauthorized refuses a bad token with 401, WWW-Authenticate and a GraphQL body whose error
// carries UNAUTHENTICATED. Clients that accept application/graphql-response+json (Apollo
// Client 4, urql) read that body as GraphQL errors whatever the status.
func unauthorized(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	writeError(w, r, http.StatusUnauthorized, apierror.Unauthenticated, msg)
}

// writeError answers with a GraphQL response that holds one error and no data entry, for
// requests refused before they reach GraphQL, in the media type the client accepts.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	writeErrorAs(w, responseType(r.Header.Get("Accept")), status, code, msg)
}
