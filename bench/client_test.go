package bench

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/multidb/multidb/internal/database"
)

// request encodes a GraphQL request body once, so that the timed loop only sends it.
func request(b *testing.B, doc string, vars map[string]any) []byte {
	b.Helper()
	body, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// post sends body to the GraphQL endpoint and returns the response, read into buf. It fails b
// on a transport error, a status other than 200, or a response that carries errors (gqlgen
// writes "errors" first), so that no benchmark goes on timing an error page.
func (d *dataset) post(b *testing.B, body []byte, buf *bytes.Buffer) []byte {
	b.Helper()
	res, err := d.client.Post(d.srv.URL, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatalf("POST: %v", err)
	}
	buf.Reset()
	_, err = buf.ReadFrom(res.Body)
	res.Body.Close()
	if err != nil {
		b.Fatalf("read response: %v", err)
	}
	if res.StatusCode != http.StatusOK || bytes.HasPrefix(buf.Bytes(), []byte(`{"errors"`)) {
		b.Fatalf("got status %d, want 200 without errors:\n%.2000s", res.StatusCode, buf.Bytes())
	}
	return buf.Bytes()
}

// verify sends body once, before the timed loop, and decodes the data of the response into
// out for the benchmark to check its shape.
func (d *dataset) verify(b *testing.B, body []byte, out any) {
	b.Helper()
	var buf bytes.Buffer
	raw := d.post(b, body, &buf)
	var r struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		b.Fatalf("decode response: %v\n%.2000s", err, raw)
	}
	if len(r.Errors) > 0 || len(r.Data) == 0 || string(r.Data) == "null" {
		b.Fatalf("got errors or no data, want data:\n%.2000s", raw)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		b.Fatalf("decode data: %v\n%.2000s", err, r.Data)
	}
}

// run sends next() once per iteration of b.Loop and reports, besides time and allocations,
// the statements each database received per operation, their time (from sending each to its
// first answer, summed over the databases), and the PostgreSQL connections the pools opened
// per 1,000 operations.
func (d *dataset) run(b *testing.B, next func() []byte) {
	b.Helper()
	b.ReportAllocs()
	var buf bytes.Buffer
	d.count.reset()
	opened := d.opened()
	for b.Loop() {
		d.post(b, next(), &buf)
	}
	d.report(b, opened)
}

// report adds the statements per database, their time and the new connections per operation
// to the results of b; opened is what d.opened said before the loop.
func (d *dataset) report(b *testing.B, opened int64) {
	counts := d.count.counts()
	times := d.count.time()
	var total time.Duration
	for _, name := range database.Names() {
		b.ReportMetric(float64(counts[name])/float64(b.N), name+"-stmts/op")
		total += times[name]
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N), "stmt-µs/op")
	b.ReportMetric(float64(d.opened()-opened)*1000/float64(b.N), "newconns/1k-op")
}

// serve is run without the socket: it calls the handler's ServeHTTP with body and a
// recorder, as the server would after reading the request, so that ns/op, B/op and
// allocs/op are the server's alone.
func (d *dataset) serve(b *testing.B, body []byte) {
	b.Helper()
	h := d.srv.Config.Handler
	d.count.reset()
	opened := d.opened()
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+d.token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK || bytes.HasPrefix(w.Body.Bytes(), []byte(`{"errors"`)) {
			b.Fatalf("got status %d, want 200 without errors:\n%.2000s", w.Code, w.Body.Bytes())
		}
	}
	d.report(b, opened)
}

// opened is the number of connections the pools have opened so far: those open now and those
// they closed.
func (d *dataset) opened() int64 {
	var n int64
	for _, name := range database.Names() {
		st := d.set.Get(name).SQL.Stats()
		n += int64(st.OpenConnections) + st.MaxIdleClosed + st.MaxIdleTimeClosed + st.MaxLifetimeClosed
	}
	return n
}
