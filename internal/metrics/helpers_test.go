package metrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/multidb/multidb/internal/metrics"
)

// exposition is one scrape of the /metrics handler, parsed.
type exposition map[string]*dto.MetricFamily

// scrape fetches m's /metrics from a real server and parses the text format.
func scrape(t *testing.T, m *metrics.Metrics) exposition {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d, want 200", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("scrape: Content-Type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape: parse: %v", err)
	}
	return fams
}

// find returns the series of family name whose labels include all of labels (name, value
// pairs), failing when there is not exactly one.
func (e exposition) find(t *testing.T, name string, labels ...string) *dto.Metric {
	t.Helper()
	var found []*dto.Metric
	if fam, ok := e[name]; ok {
		for _, m := range fam.GetMetric() {
			if hasLabels(m, labels) {
				found = append(found, m)
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s%v: got %d series, want 1; family has:\n%s", name, labels, len(found), e.dump(name))
	}
	return found[0]
}

// has reports whether family name has a series whose labels include labels.
func (e exposition) has(name string, labels ...string) bool {
	fam, ok := e[name]
	if !ok {
		return false
	}
	for _, m := range fam.GetMetric() {
		if hasLabels(m, labels) {
			return true
		}
	}
	return false
}

// value is the value of a counter or gauge series.
func (e exposition) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	m := e.find(t, name, labels...)
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	t.Fatalf("%s%v is neither a counter nor a gauge", name, labels)
	return 0
}

// histogram is the sample count and sum of a histogram series.
func (e exposition) histogram(t *testing.T, name string, labels ...string) (count uint64, sum float64) {
	t.Helper()
	m := e.find(t, name, labels...)
	if m.Histogram == nil {
		t.Fatalf("%s%v is not a histogram", name, labels)
	}
	return m.Histogram.GetSampleCount(), m.Histogram.GetSampleSum()
}

// labelValues lists the distinct values of label in family name.
func (e exposition) labelValues(name, label string) []string {
	seen := map[string]bool{}
	for _, m := range e[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label {
				seen[l.GetValue()] = true
			}
		}
	}
	var out []string
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func (e exposition) dump(name string) string {
	var b strings.Builder
	for _, m := range e[name].GetMetric() {
		fmt.Fprintf(&b, "  %v\n", m)
	}
	return b.String()
}

func hasLabels(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		ok := false
		for _, l := range m.GetLabel() {
			if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func assertEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}
