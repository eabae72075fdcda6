// Package metrics exposes multidb's Prometheus metrics: HTTP requests and GraphQL operations by
// operation name, SQL statements and connection pools by database, and the process itself.
//
// Everything is registered on a registry of its own, made by New, never on the global default
// registry, so that tests and several servers in one process do not share counters.
package metrics

import (
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "multidb"

// Label values that stand for many names.
const (
	// Anonymous is the operation label of a GraphQL operation without a name, and of a
	// request whose operation is unknown (a document that does not parse, a non-GraphQL path).
	Anonymous = "anonymous"
	// Other is the label of every name beyond the cap, which keeps a client that invents
	// names from growing the series without bound.
	Other = "other"
)

const (
	// MaxOperations is how many distinct operation names get a label value of their own.
	MaxOperations = 200
	// MaxOperationName is the longest operation name, in bytes, that is a label value of its
	// own; a longer one is counted as Other, so that no client can make a scrape large.
	MaxOperationName = 64
	// maxCodes is the same cap for extensions.code values, which the server mostly chooses.
	maxCodes = 50
)

// Metrics holds multidb's collectors and the registry they are registered on.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	operations        *prometheus.CounterVec
	operationDuration *prometheus.HistogramVec
	graphqlErrors     *prometheus.CounterVec

	sqlStatements *prometheus.CounterVec
	sqlDuration   *prometheus.HistogramVec
	sqlErrors     *prometheus.CounterVec

	auditDropped    prometheus.Counter
	auditUnstorable prometheus.Counter

	operationNames *boundedSet
	codes          *boundedSet
}

// New returns Metrics with its collectors, including the Go runtime and process collectors,
// registered on a new registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests served, by GraphQL operation name and status class (2xx, 4xx, ...).",
		}, []string{"operation", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to serve an HTTP request, by GraphQL operation name and status class.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation", "status"}),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "graphql", Name: "operations_total",
			Help: "GraphQL operations executed, by operation name and type (query, mutation, subscription).",
		}, []string{"operation", "type"}),
		operationDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "graphql", Name: "operation_duration_seconds",
			Help:    "Time from reading a GraphQL query or mutation to its response, by operation name and type.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation", "type"}),
		graphqlErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "graphql", Name: "errors_total",
			Help: "Errors in GraphQL responses, by operation name and extensions.code.",
		}, []string{"operation", "code"}),
		sqlStatements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "sql", Name: "statements_total",
			Help: "SQL statements sent through ent, inside transactions too, by database.",
		}, []string{"database"}),
		sqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "sql", Name: "statement_duration_seconds",
			Help:    "Time to run an SQL statement sent through ent, by database.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"database"}),
		sqlErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "sql", Name: "errors_total",
			Help: "SQL statements sent through ent that failed, by database.",
		}, []string{"database"}),
		auditDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "audit", Name: "dropped_total",
			Help: "Audit log entries dropped because the writer could not keep up.",
		}),
		auditUnstorable: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "audit", Name: "unstorable_total",
			Help: "Audit log entries the logs database refused for their data; each was stored without its target when it could be.",
		}),
		operationNames: newBoundedSet(MaxOperations),
		codes:          newBoundedSet(maxCodes),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration,
		m.operations, m.operationDuration, m.graphqlErrors,
		m.sqlStatements, m.sqlDuration, m.sqlErrors,
		m.auditDropped, m.auditUnstorable,
	)
	return m
}

// Handler serves the metrics in the Prometheus exposition formats, for /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry: m.reg, // counts the handler's own errors
	})
}

// AuditDropped records that n audit log entries were dropped.
func (m *Metrics) AuditDropped(n int) {
	if n > 0 {
		m.auditDropped.Add(float64(n))
	}
}

// AuditUnstorable records that the logs database refused n audit entries for their data.
func (m *Metrics) AuditUnstorable(n int) {
	if n > 0 {
		m.auditUnstorable.Add(float64(n))
	}
}

// operationLabel is the label value for a GraphQL operation name.
func (m *Metrics) operationLabel(name string) string {
	if name == "" {
		return Anonymous
	}
	if len(name) > MaxOperationName {
		return Other
	}
	return m.operationNames.label(name)
}

// boundedSet hands out label values: the first max distinct names are their own value, any
// later one is Other.
type boundedSet struct {
	mu   sync.Mutex
	max  int
	seen map[string]struct{}
}

func newBoundedSet(max int) *boundedSet {
	return &boundedSet{max: max, seen: make(map[string]struct{}, max)}
}

func (s *boundedSet) label(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[name]; ok {
		return name
	}
	if len(s.seen) >= s.max {
		return Other
	}
	s.seen[name] = struct{}{}
	return name
}
