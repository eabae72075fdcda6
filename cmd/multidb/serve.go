package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/multidb/multidb/graph/stats"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/graph/account"
	"github.com/multidb/multidb/graph/limit"
	"github.com/multidb/multidb/internal/audit"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/metrics"
	"github.com/multidb/multidb/internal/migration"
	"github.com/multidb/multidb/internal/server"
)

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	playground, err := boolSetting(cfg, "PLAYGROUND", cfg.Env == config.Development)
	if err != nil {
		return err
	}
	corsValue, _ := cfg.Lookup("CORS_ORIGINS")
	cors, err := server.ParseCORS(corsValue, cfg.Env == config.Development, cfg.Env == config.Production)
	if err != nil {
		return fmt.Errorf("%w: %v", config.ErrConfig, err)
	}
	sopts, probeEvery, probeTimeout, err := serveSettings(cfg)
	if err != nil {
		return err
	}
	gopts, err := graphSettings(cfg)
	if err != nil {
		return err
	}
	liveOpts, err := liveSettings(cfg)
	if err != nil {
		return err
	}
	gopts = append(gopts, liveOpts...)
	auditBuffer, err := intSetting(cfg, "AUDIT_BUFFER", 1024)
	if err != nil {
		return err
	}
	share, err := shareSettings(cfg)
	if err != nil {
		return err
	}
	m := metrics.New()
	set, err := database.Open(cfg, database.WithDriverWrapper(func(name string, d dialect.Driver) dialect.Driver {
		return m.WrapDriver(name, share(name, d))
	}))
	if err != nil {
		return err
	}
	defer set.Close()
	if err := m.RegisterPools(set.Pools); err != nil {
		return err
	}

	// A database that is down or behind at start-up is reported, not fatal: /readyz says so and
	// the server serves what it can until it comes back. The first round of probes runs before
	// the server listens, so that /readyz is right from the first request.
	prober := server.NewProber(checks(set), probeEvery, probeTimeout)
	prober.Refresh(ctx)
	for _, st := range prober.States(ctx) {
		switch st.State {
		case server.StateUp:
		case server.StateBehind:
			log.Warn("database is behind its migrations; run multidb migrate", "database", st.Name, "pending", st.Versions)
		case server.StateAhead:
			log.Warn("database has migrations newer than this binary; deploy the newer binary", "database", st.Name, "current", st.Current, "binary", st.Latest)
		default:
			log.Warn("database unavailable", "database", st.Name, "state", st.State, "error", st.Error)
		}
	}
	prober.Start(ctx)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w; pick a free port with PORT, an address of this machine with HOST, or both with LISTEN_ADDR", cfg.Listen, err)
	}
	// Audit entries go to the logs database in the background; a slow or failing logs
	// database costs dropped (and counted) entries, never a slower mutation.
	auditor := audit.New(set.Logs, audit.Options{Buffer: auditBuffer, Dropped: m, Unstorable: m, Logger: log})
	gopts = append(gopts, graph.WithLogger(log), graph.WithAudit(auditor), graph.WithExtension(m.GraphQL()),
		// Subscriptions complete when shutdown begins, so that clients resume elsewhere.
		graph.WithLiveShutdown(ctx))
	metricsAddr, metricsPublic, err := metricsSettings(cfg)
	if err != nil {
		return err
	}
	if metricsAddr != "" {
		mln, err := net.Listen("tcp", metricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on METRICS_ADDR=%s: %w; pick a free address with METRICS_ADDR", metricsAddr, err)
		}
		go func() {
			if err := server.ServeMetrics(ctx, mln, m.Handler(), log); err != nil {
				log.Error("serving /metrics failed", "addr", metricsAddr, "err", err)
			}
		}()
		log.Info("serving /metrics", "addr", mln.Addr().String())
	}
	sopts.Drain = &server.Drain{}
	h := server.New(server.Options{
		GraphQL:          graph.NewHandler(set, gopts...),
		Playground:       playground,
		Readiness:        prober.States,
		Logger:           log,
		Metrics:          m,
		Drain:            sopts.Drain,
		MetricsElsewhere: !metricsPublic,
		CORS:             cors,
	})
	msg := []any{"addr", ln.Addr().String(), "env", cfg.Env}
	if playground {
		msg = append(msg, "playground", fmt.Sprintf("http://localhost:%d/", cfg.Port))
	}
	log.Info("serving GraphQL", msg...)
	err = server.Serve(ctx, ln, h, sopts, log)
	// The requests have drained: flush what they audited before the databases close.
	actx, cancel := context.WithTimeout(context.Background(), sopts.Grace)
	defer cancel()
	if aerr := auditor.Close(actx); aerr != nil {
		log.Warn("audit: entries left unwritten at shutdown were dropped", "err", aerr)
	}
	return err
}

// graphSettings reads the settings of the GraphQL endpoint: sessions, access, and the limits
// against abusive requests. .env.example documents each.
func graphSettings(cfg *config.Config) ([]graph.Option, error) {
	var errs []error
	durationOf := func(key string, def time.Duration) time.Duration {
		d, err := durationSetting(cfg, key, def)
		errs = append(errs, err)
		return d
	}
	intOf := func(key string, def int) int {
		n, err := intSetting(cfg, key, def)
		errs = append(errs, err)
		return n
	}
	boolOf := func(key string, def bool) bool {
		b, err := boolSetting(cfg, key, def)
		errs = append(errs, err)
		return b
	}
	rateOf := func(key string, def *auth.Limiter) *auth.Limiter {
		l, err := rateSetting(cfg, key, def)
		errs = append(errs, err)
		return l
	}
	defEmail, defIP := graph.DefaultLoginLimits()
	opts := []graph.Option{
		graph.WithSessionTTL(durationOf("SESSION_TTL", account.DefaultSessionTTL)),
		graph.WithSessionCache(sessionCacheTTL(cfg, &errs),
			intOf("SESSION_CACHE_ENTRIES", account.DefaultSessionCacheEntries)),
		graph.WithAnonymousTracking(boolOf("ANONYMOUS_TRACKING", false)),
		graph.WithIntrospection(boolOf("INTROSPECTION", cfg.Env != config.Production)),
		graph.WithRequestTimeout(durationOf("REQUEST_TIMEOUT", graph.DefaultRequestTimeout)),
		graph.WithMaxBodyBytes(int64(intOf("MAX_BODY_BYTES", graph.DefaultMaxBodyBytes))),
		graph.WithLimits(limit.Limits{
			Depth:       intOf("QUERY_MAX_DEPTH", limit.Defaults.Depth),
			Aliases:     intOf("QUERY_MAX_ALIASES", limit.Defaults.Aliases),
			Complexity:  intOf("QUERY_MAX_COMPLEXITY", limit.Defaults.Complexity),
			MaxPage:     intOf("PAGE_MAX", limit.Defaults.MaxPage),
			DefaultPage: intOf("PAGE_DEFAULT", limit.Defaults.DefaultPage),

			RootFields:          intOf("QUERY_MAX_ROOT_FIELDS", limit.Defaults.RootFields),
			SameMutation:        intOf("QUERY_MAX_SAME_MUTATION", limit.Defaults.SameMutation),
			WherePredicates:     intOf("WHERE_MAX_PREDICATES", limit.Defaults.WherePredicates),
			WhereList:           intOf("WHERE_MAX_LIST", limit.Defaults.WhereList),
			AnonymousDocument:   intOf("ANONYMOUS_MAX_DOCUMENT_BYTES", limit.Defaults.AnonymousDocument),
			AnonymousComplexity: intOf("ANONYMOUS_MAX_COMPLEXITY", limit.Defaults.AnonymousComplexity),
		}),
		graph.WithDocumentCacheBytes(intOf("QUERY_CACHE_BYTES", limit.DefaultCacheBytes)),
		graph.WithBatchMax(intOf("BATCH_MAX", graph.DefaultBatchMax)),
		graph.WithStatsMaxBuckets(intOf("STATS_MAX_BUCKETS", stats.DefaultMaxBuckets)),
		graph.WithLoginLimits(rateOf("LOGIN_RATE_PER_EMAIL", defEmail), rateOf("LOGIN_RATE_PER_IP", defIP)),
		graph.WithAccountLoginLimit(rateOf("LOGIN_RATE_PER_ACCOUNT", graph.DefaultAccountLimit())),
		graph.WithPasswordHashes(auth.NewHashGate(
			intOf("PASSWORD_HASH_CONCURRENCY", auth.DefaultHashConcurrency),
			intOf("PASSWORD_HASH_QUEUE", auth.DefaultHashQueue),
			auth.DefaultHashWait,
		)),
	}
	return opts, errors.Join(errs...)
}

// metricsSettings reads where /metrics is served: METRICS_ADDR, an address of its own
// (host:port), and METRICS_PUBLIC, whether the API's port serves it too. The API's port
// serves it by default only outside production and when METRICS_ADDR is not set.
func metricsSettings(cfg *config.Config) (addr string, public bool, err error) {
	addr, _ = cfg.Lookup("METRICS_ADDR")
	if addr != "" {
		if _, _, serr := net.SplitHostPort(addr); serr != nil {
			return "", false, fmt.Errorf("%w: METRICS_ADDR=%q is not an address; use host:port such as 127.0.0.1:9090", config.ErrConfig, addr)
		}
	}
	public, err = boolSetting(cfg, "METRICS_PUBLIC", addr == "" && cfg.Env != config.Production)
	return addr, public, err
}

// shareSettings reads the fair share of each database's pool one caller may hold:
// DB_VIEWER_SHARE (a fraction of DB_MAX_CONNS) and DB_VIEWER_WAIT.
func shareSettings(cfg *config.Config) (func(string, dialect.Driver) dialect.Driver, error) {
	frac := database.DefaultViewerShare
	if v, ok := cfg.Lookup("DB_VIEWER_SHARE"); ok && v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1 {
			return nil, fmt.Errorf("%w: DB_VIEWER_SHARE=%q is not a fraction of the pool; use a number above 0 and at most 1, such as 0.5", config.ErrConfig, v)
		}
		frac = f
	}
	wait, err := durationSetting(cfg, "DB_VIEWER_WAIT", database.DefaultViewerWait)
	if err != nil {
		return nil, err
	}
	return database.Share(cfg, database.ShareOptions{Share: frac, Wait: wait, Key: graph.ViewerKey}), nil
}

// serveSettings reads the HTTP server's timeouts, its shutdown, and the readiness probes.
// .env.example documents each.
func serveSettings(cfg *config.Config) (o server.ServeOptions, probeEvery, probeTimeout time.Duration, err error) {
	var errs []error
	durationOf := func(key string, def time.Duration) time.Duration {
		d, err := durationSetting(cfg, key, def)
		errs = append(errs, err)
		return d
	}
	request := durationOf("REQUEST_TIMEOUT", graph.DefaultRequestTimeout)
	if request == 0 {
		request = graph.DefaultRequestTimeout // no limit on resolvers is no reason to wait for ever on a body
	}
	o.Grace = durationOf("SHUTDOWN_GRACE", 15*time.Second)
	o.Delay = durationOf("SHUTDOWN_DELAY", 5*time.Second)
	o.ReadHeaderTimeout = durationOf("READ_HEADER_TIMEOUT", 5*time.Second)
	o.ReadTimeout = durationOf("READ_TIMEOUT", request)
	// The response is written after the body is read and the request has run.
	o.WriteTimeout = durationOf("WRITE_TIMEOUT", o.ReadTimeout+request+5*time.Second)
	o.IdleTimeout = durationOf("IDLE_TIMEOUT", 2*time.Minute)
	probeEvery = durationOf("READY_INTERVAL", time.Second)
	probeTimeout = durationOf("READY_TIMEOUT", time.Second)
	if err := errors.Join(errs...); err != nil {
		return o, 0, 0, err
	}
	if probeEvery <= 0 || probeTimeout <= 0 {
		return o, 0, 0, fmt.Errorf("%w: READY_INTERVAL and READY_TIMEOUT must be more than 0; use values such as 1s", config.ErrConfig)
	}
	return o, probeEvery, probeTimeout, nil
}

// checks are the readiness probes of every database: a ping on the database's probe pool, then
// the count of the migrations it lacks. The probe pool keeps a full request pool from reading
// as an outage and a hung request from holding the probe.
func checks(set *database.Set) []server.Check {
	out := make([]server.Check, len(set.DBs))
	for i, db := range set.DBs {
		probe := db.ForProbe()
		out[i] = server.Check{Name: db.Name, Probe: func(ctx context.Context) server.DatabaseState {
			if err := db.Probe.PingContext(ctx); err != nil {
				state := database.State(err)
				if ctx.Err() != nil {
					state = server.StateUnreachable // no answer within the probe's deadline
				}
				return server.DatabaseState{State: state}
			}
			st, err := migrationStatus(ctx, probe)
			if err != nil {
				// Reachable, but its migration status could not be read in time (locked?).
				return server.DatabaseState{State: server.StateUnknown, Up: true, Pending: -1, Error: "migration status unknown: " + err.Error()}
			}
			out := server.DatabaseState{State: server.StateUp, Up: true, Current: st.Current, Latest: st.Latest}
			switch {
			case len(st.Ahead) > 0:
				out.State = server.StateAhead
				for _, f := range st.Ahead {
					out.Versions = append(out.Versions, f.Version)
				}
			case len(st.Pending) > 0:
				out.State, out.Pending = server.StateBehind, len(st.Pending)
				for _, f := range st.Pending {
					out.Versions = append(out.Versions, f.Version)
				}
			}
			return out
		}}
	}
	return out
}

// migrationStatus is where db stands against the migrations the binary ships.
func migrationStatus(ctx context.Context, db *database.DB) (*migration.Status, error) {
	m, err := migration.New(db)
	if err != nil {
		return nil, err
	}
	return m.Status(ctx)
}

func boolSetting(cfg *config.Config, key string, def bool) (bool, error) {
	v, ok := cfg.Lookup(key)
	if !ok || v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%w: %s=%q is not a boolean; use true or false", config.ErrConfig, key, v)
	}
	return b, nil
}

func intSetting(cfg *config.Config, key string, def int) (int, error) {
	return cfg.Int(key, def, 1, math.MaxInt, "use a positive whole number")
}

// rateSetting reads a rate limit written "<burst>/<interval>": "5/1m" allows 5 attempts at
// once, then one more every minute. "off" switches it off.
func rateSetting(cfg *config.Config, key string, def *auth.Limiter) (*auth.Limiter, error) {
	v, ok := cfg.Lookup(key)
	if !ok || v == "" {
		return def, nil
	}
	if v == "off" {
		return nil, nil
	}
	burst, every, ok := strings.Cut(v, "/")
	n, err := strconv.Atoi(burst)
	d, derr := time.ParseDuration(every)
	if !ok || err != nil || derr != nil || n <= 0 || d <= 0 {
		return nil, fmt.Errorf("%w: %s=%q is not a rate; use <attempts>/<interval> such as 5/1m, or off", config.ErrConfig, key, v)
	}
	return auth.NewLimiter(n, d), nil
}

func durationSetting(cfg *config.Config, key string, def time.Duration) (time.Duration, error) {
	return cfg.Duration(key, def, 0, 0, "use a value such as 15s")
}

// healthcheck asks the server on $PORT (and $HOST, or LISTEN_ADDR) of this machine whether it is up (for container health
// checks, where no curl is installed).
func healthcheck(ctx context.Context) error {
	cfg, err := config.Load(".", nil) // PORT only: no database URL is needed to ask
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	host := cfg.Host
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(cfg.Port)) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %s", resp.Status)
	}
	return nil
}

// sessionCacheTTL is SESSION_CACHE_TTL, at most account.MaxSessionCacheTTL: a session revoked
// on another server, or expired, still works that long on this one.
func sessionCacheTTL(cfg *config.Config, errs *[]error) time.Duration {
	d, err := cfg.Duration("SESSION_CACHE_TTL", account.DefaultSessionCacheTTL, 0, account.MaxSessionCacheTTL,
		"it keeps revoked and expired sessions working that long; use at most "+account.MaxSessionCacheTTL.String()+", or 0 to turn the cache off")
	*errs = append(*errs, err)
	return d
}
