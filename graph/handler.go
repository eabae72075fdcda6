package graph

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/graph/generated"
	"github.com/multidb/multidb/graph/loader"
	"github.com/multidb/multidb/internal/database"
)

// Option changes how NewHandler builds the handler.
type Option func(*options)

type options struct {
	introspection bool
	log           *slog.Logger
	wait          time.Duration
}

// WithIntrospection switches schema introspection on (the default) or off.
func WithIntrospection(on bool) Option {
	return func(o *options) { o.introspection = on }
}

// WithLogger sets where internal errors and panics are logged; slog.Default() otherwise.
func WithLogger(log *slog.Logger) Option {
	return func(o *options) { o.log = log }
}

// WithBatchWait sets how long the loaders of the fields that cross databases wait for the
// resolvers of a level before they send its statement; loader.DefaultWait otherwise.
func WithBatchWait(d time.Duration) Option {
	return func(o *options) { o.wait = d }
}

// NewHandler returns the GraphQL endpoint over the databases of set: queries by GET or POST,
// mutations by POST only (gqlgen's GET transport refuses them), parsed documents cached,
// automatic persisted queries, every error given an extensions.code, and per request the
// batch loaders of the fields that cross databases.
func NewHandler(set *database.Set, opts ...Option) http.Handler {
	o := options{introspection: true, log: slog.Default(), wait: loader.DefaultWait}
	for _, opt := range opts {
		opt(&o)
	}
	schema := generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{clients: &set.Clients, wait: o.wait}})
	srv := handler.New(schema)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if o.introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.SetErrorPresenter(apierror.Presenter(o.log))
	srv.SetRecoverFunc(apierror.Recover(o.log))
	return loader.Middleware(&set.Clients, o.wait, srv)
}
