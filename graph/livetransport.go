package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/multidb/multidb/graph/account"
	"github.com/multidb/multidb/graph/live"
	"github.com/multidb/multidb/internal/auth"
)

// DefaultSessionRecheck is how often a WebSocket connection checks that its session still
// holds, so that a revoked or expired session closes its subscriptions within that time.
const DefaultSessionRecheck = 3 * time.Second

// WithLive sets how the subscriptions read their tables and how far they are bounded,
// live's defaults otherwise.
func WithLive(o live.Options) Option {
	return func(opts *options) { opts.live = o }
}

// WithLiveShutdown completes every subscription, and refuses new ones, once ctx is done.
func WithLiveShutdown(ctx context.Context) Option {
	return func(opts *options) { opts.liveShutdown = ctx }
}

// WithMaxSubscriptionsPerConnection caps the subscriptions of one WebSocket connection,
// live.DefaultMaxPerConnect otherwise.
func WithMaxSubscriptionsPerConnection(n int) Option {
	return func(opts *options) { opts.perConnection = n }
}

// WithSessionRecheck sets how often a WebSocket connection checks its session,
// DefaultSessionRecheck otherwise.
func WithSessionRecheck(d time.Duration) Option {
	return func(opts *options) { opts.sessionRecheck = d }
}

// streaming reports whether r opens a stream, which lives longer than a request's time limit:
// a WebSocket, or a subscription over SSE (a query sent over SSE keeps the limit). The body
// is already in memory (limitBody); it is put back for the transport.
func streaming(r *http.Request, tokens int) bool {
	if r.Header.Get("Upgrade") != "" {
		return true
	}
	if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") || r.Body == nil {
		return false
	}
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return false
	}
	var p struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	if json.Unmarshal(body, &p) != nil {
		return false
	}
	return operationType(&graphql.RawParams{Query: p.Query, OperationName: p.OperationName}, tokens) == ast.Subscription
}

// connSlots counts the subscriptions of one WebSocket connection.
type connSlots struct {
	n, max int64
}

type connSlotsKey struct{}

// connectionSlot takes one of the connection's subscription slots; true outside a WebSocket
// connection (an SSE request carries one subscription).
func connectionSlot(ctx context.Context) bool {
	s, ok := ctx.Value(connSlotsKey{}).(*connSlots)
	if !ok {
		return true
	}
	if atomic.AddInt64(&s.n, 1) > s.max {
		atomic.AddInt64(&s.n, -1)
		return false
	}
	return true
}

func releaseConnectionSlot(ctx context.Context) {
	if s, ok := ctx.Value(connSlotsKey{}).(*connSlots); ok {
		atomic.AddInt64(&s.n, -1)
	}
}

// websocketTransport serves graphql-transport-ws (and the older graphql-ws). The bearer token
// comes in connection_init's payload, as browsers cannot set headers on a WebSocket; without
// one the viewer of the upgrade request stands. The origin was checked before the upgrade by
// the CORS middleware of internal/server, which refuses other origins with 403; the
// WebSocket library's own check, which knows only the request's host, is therefore off.
func websocketTransport(accounts *account.Service, perConnection int, recheck time.Duration) transport.Websocket {
	return transport.Websocket{
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{InsecureSkipVerify: true}},
		InitTimeout:    10 * time.Second,
		// Keeps proxies from closing a quiet subscription.
		KeepAlivePingInterval: 15 * time.Second,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			token := ""
			if h := p.Authorization(); h != "" {
				t, err := auth.ParseBearer(h)
				if err != nil || t == "" {
					return ctx, nil, errors.New("UNAUTHENTICATED: Authorization must be `Bearer <token>`")
				}
				token = t
			}
			if token != "" {
				v, err := accounts.Authenticate(ctx, token)
				if err != nil {
					if errors.Is(err, account.ErrInvalidSession) {
						return ctx, nil, errors.New("UNAUTHENTICATED: " + err.Error())
					}
					return ctx, nil, errors.New("the session could not be checked: retry later")
				}
				ctx = auth.NewContext(ctx, v)
				ctx = watchSession(ctx, accounts, token, recheck)
			}
			ctx = context.WithValue(ctx, connSlotsKey{}, &connSlots{max: int64(perConnection)})
			return ctx, nil, nil
		},
	}
}

// watchSession returns ctx cancelled once the session of token is revoked or expired: the
// connection's subscriptions complete, and the client must connect again with a new token.
// A users database that cannot answer does not end them. The check runs on a timer, so that
// a connection holds no goroutine for it between checks.
func watchSession(ctx context.Context, accounts *account.Service, token string, every time.Duration) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	// Made stopped and started once assigned, so that the function always sees it.
	var timer *time.Timer
	timer = time.AfterFunc(time.Duration(math.MaxInt64), func() {
		if ctx.Err() != nil {
			return
		}
		check, stop := context.WithTimeout(ctx, every)
		_, err := accounts.Recheck(check, token)
		stop()
		if errors.Is(err, account.ErrInvalidSession) {
			cancel()
			return
		}
		timer.Reset(every)
	})
	timer.Reset(every)
	context.AfterFunc(ctx, func() { timer.Stop() })
	return ctx
}
