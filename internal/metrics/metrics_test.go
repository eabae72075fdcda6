package metrics_test

import (
	"bytes"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/multidb/multidb/internal/metrics"
)

func TestHandlerRuntimeAndProcess(t *testing.T) {
	e := scrape(t, metrics.New())
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_open_fds"} {
		if _, ok := e[name]; !ok {
			t.Errorf("%s missing from the exposition", name)
		}
	}
	assertEqual(t, "audit dropped before any drop", e.value(t, "multidb_audit_dropped_total"), 0)
}

// TestSeparateRegistries shows that two Metrics share nothing, as two servers in one test
// process need.
func TestSeparateRegistries(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.AuditDropped(1)
	assertEqual(t, "a", scrape(t, a).value(t, "multidb_audit_dropped_total"), 1)
	assertEqual(t, "b", scrape(t, b).value(t, "multidb_audit_dropped_total"), 0)
}

func TestAuditDropped(t *testing.T) {
	m := metrics.New()
	for _, n := range []int{3, 0, -1, 2} {
		m.AuditDropped(n)
	}
	assertEqual(t, "multidb_audit_dropped_total", scrape(t, m).value(t, "multidb_audit_dropped_total"), 5)
}

// TestLint runs Prometheus's naming and help checks over every multidb_ metric, each
// exercised once so that it is present in the exposition.
func TestLint(t *testing.T) {
	m := metrics.New()
	exerciseAll(t, m)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, prefix := range []string{"multidb_http_", "multidb_graphql_", "multidb_sql_", "multidb_db_pool_", "multidb_audit_"} {
		if !bytes.Contains(body, []byte("\n"+prefix)) {
			t.Errorf("no %s* metric in the exposition", prefix)
		}
	}
	problems, err := promlint.New(bytes.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "multidb_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}
