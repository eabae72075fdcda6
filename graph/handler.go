package graph

import (
	"context"
	"github.com/multidb/multidb/graph/stats"
	"log/slog"
	"net/http"
	"time"

	"entgo.io/ent/dialect"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/multidb/multidb/graph/access"
	"github.com/multidb/multidb/graph/account"
	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/graph/generated"
	"github.com/multidb/multidb/graph/limit"
	"github.com/multidb/multidb/graph/live"
	"github.com/multidb/multidb/graph/loader"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/database"
)

// Defaults of the options of NewHandler.
const (
	DefaultMaxBodyBytes   = 1 << 20
	DefaultRequestTimeout = 15 * time.Second
)

// DefaultLoginLimits are the log-in rate limits of a handler that sets none: 5 attempts per
// email, then one a minute; 20 attempts per address (logIn and signUp), then one every 3s.
func DefaultLoginLimits() (perEmail, perIP *auth.Limiter) {
	return auth.NewLimiter(5, time.Minute), auth.NewLimiter(20, 3*time.Second)
}

// DefaultAccountLimit is the limit of failed log-ins on one account from all addresses of a
// handler that sets none: 50, then one a minute.
func DefaultAccountLimit() *auth.Limiter { return auth.NewLimiter(50, time.Minute) }

// WithAccountLoginLimit sets the limit of failed log-ins on one account from all addresses
// together, DefaultAccountLimit otherwise; nil switches it off. Past it, only addresses the
// account logged in from before may try.
func WithAccountLoginLimit(l *auth.Limiter) Option {
	return func(o *options) { o.perAccount = l }
}

// WithPasswordHashes sets the gate that bounds the password hashes running at once, a gate
// of auth's defaults otherwise.
func WithPasswordHashes(g *auth.HashGate) Option {
	return func(o *options) { o.hashes = g }
}

// Option changes how NewHandler builds the handler.
type Option func(*options)

type options struct {
	introspection     bool
	log               *slog.Logger
	wait              time.Duration
	limits            limit.Limits
	maxBody           int64
	timeout           time.Duration
	sessionTTL        time.Duration
	sessionCache      sessionCache
	perEmail, perIP   *auth.Limiter
	perAccount        *auth.Limiter
	hashes            *auth.HashGate
	anonymousTracking bool
	audit             Auditor
	viewer            *auth.Viewer               // the viewer of requests without a token; tests only
	clientAddr        func(*http.Request) string // the client's address; tests only
	extensions        []graphql.HandlerExtension
	cacheBytes        int
	batchMax          int
	statsMaxBuckets   int
	live              live.Options
	liveShutdown      context.Context
	perConnection     int
	sessionRecheck    time.Duration
}

// WithStatsMaxBuckets caps the buckets of one eventStats answer (STATS_MAX_BUCKETS),
// stats.DefaultMaxBuckets otherwise.
func WithStatsMaxBuckets(n int) Option {
	return func(o *options) { o.statsMaxBuckets = n }
}

// WithBatchMax sets how many operations one request may carry in a JSON array,
// DefaultBatchMax otherwise.
func WithBatchMax(n int) Option {
	return func(o *options) { o.batchMax = n }
}

// WithDocumentCacheBytes bounds the cache of parsed documents by their size,
// limit.DefaultCacheBytes otherwise.
func WithDocumentCacheBytes(n int) Option {
	return func(o *options) { o.cacheBytes = n }
}

// WithExtension adds a gqlgen handler extension, such as the metrics one, to every operation.
// A field hook (graphql.FieldInterceptor) sees root fields, fields with arguments and the
// fields resolvers answer with a value that is not a pointer: the executor reads the other
// fields (struct fields, and resolvers' objects without arguments) without the hooks, as
// graph/gqlgen.go (fastPaths) generates it.
func WithExtension(ext graphql.HandlerExtension) Option {
	return func(o *options) { o.extensions = append(o.extensions, ext) }
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

// WithLimits sets the bounds of an operation (depth, aliases, complexity, page sizes,
// cursors); zero fields keep limit.Defaults.
func WithLimits(l limit.Limits) Option {
	return func(o *options) { o.limits = l }
}

// WithMaxBodyBytes sets the largest request body, DefaultMaxBodyBytes otherwise; a larger one
// is refused with 413.
func WithMaxBodyBytes(n int64) Option {
	return func(o *options) { o.maxBody = n }
}

// WithRequestTimeout sets how long a request may run before its statements are cancelled,
// DefaultRequestTimeout otherwise; 0 means no limit.
func WithRequestTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// WithSessionTTL sets how long a session from logIn or signUp lasts, account.DefaultSessionTTL
// otherwise.
func WithSessionTTL(d time.Duration) Option {
	return func(o *options) { o.sessionTTL = d }
}

// WithSessionCache sets how long a session lookup is reused (account.DefaultSessionCacheTTL
// otherwise; 0 switches the cache off) and how many the cache keeps
// (account.DefaultSessionCacheEntries when 0).
func WithSessionCache(ttl time.Duration, entries int) Option {
	return func(o *options) { o.sessionCache = sessionCache{ttl, entries} }
}

// sessionCache is the setting of WithSessionCache.
type sessionCache struct {
	ttl     time.Duration
	entries int
}

// WithLoginLimits sets the rate limits of logIn per email and of logIn and signUp per client
// address, DefaultLoginLimits otherwise; nil switches one off.
func WithLoginLimits(perEmail, perIP *auth.Limiter) Option {
	return func(o *options) { o.perEmail, o.perIP = perEmail, perIP }
}

// WithAnonymousTracking lets callers who are not signed in use trackEvent and trackEvents,
// for events of access.AnonymousUser; off by default.
func WithAnonymousTracking(on bool) Option {
	return func(o *options) { o.anonymousTracking = on }
}

// WithAudit records every mutation, its actor, target, outcome and request id, with a.
func WithAudit(a Auditor) Option {
	return func(o *options) { o.audit = a }
}

// NewHandler returns the GraphQL endpoint over the databases of set: queries by GET or POST,
// mutations by POST with Content-Type application/json only (a GET mutation is 405 and other
// content types 415, so a cross-site form cannot post one), batches of up to BATCH_MAX
// operations on one complexity budget, parsed documents cached, automatic persisted queries,
// every error given an extensions.code, and per request: a body and time limit, the viewer of
// the bearer token, the access rules of package access on every statement, the limits of
// package limit on every operation, the audit of every mutation, and, per operation, the batch
// loaders of the fields that cross databases.
func NewHandler(set *database.Set, opts ...Option) http.Handler {
	o := options{
		introspection:   true,
		log:             slog.Default(),
		wait:            loader.DefaultWait,
		maxBody:         DefaultMaxBodyBytes,
		timeout:         DefaultRequestTimeout,
		batchMax:        DefaultBatchMax,
		statsMaxBuckets: stats.DefaultMaxBuckets,
		perConnection:   live.DefaultMaxPerConnect,
		sessionRecheck:  DefaultSessionRecheck,
		sessionCache:    sessionCache{ttl: account.DefaultSessionCacheTTL},
	}
	o.perEmail, o.perIP = DefaultLoginLimits()
	o.perAccount = DefaultAccountLimit()
	for _, opt := range opts {
		opt(&o)
	}
	o.limits = o.limits.WithDefaults()

	clients := access.Clients(set, access.Options{AnonymousTracking: o.anonymousTracking})
	accounts := account.New(clients.Users, account.Options{
		SessionTTL: o.sessionTTL, PerEmail: o.perEmail, PerIP: o.perIP, PerAccount: o.perAccount, Hashes: o.hashes,
		SessionCacheTTL: o.sessionCache.ttl, SessionCacheEntries: o.sessionCache.entries,
	})
	feeds := newLiveFeeds(set, o.live)
	if o.liveShutdown != nil {
		context.AfterFunc(o.liveShutdown, feeds.hub.Close)
	}
	resolvers := &Resolver{clients: clients, accounts: accounts, wait: o.wait, statsMax: o.statsMaxBuckets, live: feeds,
		rollups: set.Get("analytics").Dialect() == dialect.Postgres}
	exec := generated.NewExecutableSchema(generated.Config{Resolvers: resolvers, Schema: PublicSchema()})
	srv := handler.New(limit.Schema(exec, o.limits))
	// SSE first: httpTransport would take its POSTs too.
	srv.AddTransport(transport.SSE{})
	srv.AddTransport(websocketTransport(accounts, o.perConnection, o.sessionRecheck))
	srv.AddTransport(httpTransport{
		batchMax:  o.batchMax,
		tokens:    o.limits.Tokens,
		operation: func(ctx context.Context) context.Context { return loader.NewContext(ctx, clients, o.wait) },
	})
	srv.AroundResponses(perMessageLoaders(clients, o.wait))
	srv.SetQueryCache(limit.NewDocumentCache(o.cacheBytes))
	srv.SetParserTokenLimit(o.limits.Tokens)
	if o.introspection {
		srv.Use(extension.Introspection{})
	} else {
		// "Did you mean ...?" would rebuild the schema that introspection hides.
		srv.SetDisableSuggestion(true)
		srv.SetValidationRulesFn(limit.RulesWithoutSuggestions)
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: limit.NewQueryCache(o.cacheBytes / 4)})
	// After APQ, which fills in persisted documents; before the complexity limit, whose
	// walk of the operation the limits bound.
	limits := limit.New(o.limits).WithAnonymous(anonymous)
	srv.Use(operationOnly{limits, limits, limits})
	srv.Use(&extension.ComplexityLimit{Func: func(ctx context.Context, _ *graphql.OperationContext) int {
		if anonymous(ctx) {
			return remainingComplexity(ctx, o.limits.AnonymousComplexity)
		}
		return remainingComplexity(ctx, o.limits.Complexity)
	}})
	srv.Use(fieldChain{
		limits,
		rootFields{anonymousTracking: o.anonymousTracking, audit: o.audit},
		// After rootFields, so that a refused argument is still audited (as made storable).
		limit.Inputs{},
		pageInfoCursors{schema: exec.Schema()},
		emailChecks{accounts: accounts},
		noForgedAudit{},
	})
	for _, ext := range o.extensions {
		srv.Use(ext)
	}
	srv.SetErrorPresenter(apierror.Presenter(o.log))
	srv.SetRecoverFunc(apierror.Recover(o.log))

	var h http.Handler = srv
	h = authenticate(accounts, o.viewer, o.clientAddr, o.log, h)
	h = withTimeout(o.timeout, o.limits.Tokens, h)
	return limitBody(o.maxBody, h)
}

// anonymous reports whether the request of ctx comes from a caller who is not signed in.
func anonymous(ctx context.Context) bool {
	v, _ := auth.FromContext(ctx)
	return v.Anonymous()
}
