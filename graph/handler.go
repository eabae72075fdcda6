package graph

import (
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/graph/generated"
	"github.com/multidb/multidb/internal/database"
)

// Option changes how NewHandler builds the handler.
type Option func(*options)

type options struct {
	introspection bool
	log           *slog.Logger
}

// WithIntrospection switches schema introspection on (the default) or off.
func WithIntrospection(on bool) Option {
	return func(o *options) { o.introspection = on }
}

// WithLogger sets where internal errors and panics are logged; slog.Default() otherwise.
func WithLogger(log *slog.Logger) Option {
	return func(o *options) { o.log = log }
}

// NewHandler returns the GraphQL endpoint over the databases of set: queries by GET or POST,
// mutations by POST only (gqlgen's GET transport refuses them), parsed documents cached,
// automatic persisted queries, and every error given an extensions.code.
func NewHandler(set *database.Set, opts ...Option) http.Handler {
	o := options{introspection: true, log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	schema := generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{clients: &set.Clients}})
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
	return srv
}
