package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
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
	raw, err := d.send(body, buf)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// send is post for goroutines other than the benchmark's, which may not fail b: it returns
// what post would fail b with.
func (d *dataset) send(body []byte, buf *bytes.Buffer) ([]byte, error) {
	res, err := d.client.Post(d.srv.URL, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("POST: %w", err)
	}
	buf.Reset()
	_, err = buf.ReadFrom(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if res.StatusCode != http.StatusOK || bytes.HasPrefix(buf.Bytes(), []byte(`{"errors"`)) {
		return nil, fmt.Errorf("got status %d, want 200 without errors:\n%.2000s", res.StatusCode, buf.Bytes())
	}
	return buf.Bytes(), nil
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

// runClients is run with clients goroutines, each sending next(i) for its share of the
// b.N operations as soon as its previous one is answered: throughput under concurrent
// callers; with one client, the benchmark's goroutine sends them one after the other, as run
// does. Besides run's figures it reports unit+"/s": the units (events, rows) that the
// operations carry, unitsPerOp each, per second of wall time; and the CPU per operation of
// this process and of PostgreSQL (cpuNow).
func (d *dataset) runClients(b *testing.B, clients, unitsPerOp int, unit string, next func(i int) []byte) {
	b.Helper()
	b.ReportAllocs()
	d.count.reset()
	opened := d.opened()
	cpu := d.cpuNow(b)
	var elapsed time.Duration
	if clients == 1 {
		var buf bytes.Buffer
		i := 0
		for b.Loop() {
			i++
			d.post(b, next(i), &buf)
		}
		elapsed = b.Elapsed()
	} else {
		var taken atomic.Int64
		errs := make([]error, clients)
		var wg sync.WaitGroup
		b.ResetTimer()
		start := time.Now()
		for c := range clients {
			wg.Go(func() {
				var buf bytes.Buffer
				for {
					i := taken.Add(1)
					if i > int64(b.N) {
						return
					}
					if _, err := d.send(next(int(i)), &buf); err != nil {
						errs[c] = err
						return
					}
				}
			})
		}
		wg.Wait()
		elapsed = time.Since(start)
		b.StopTimer()
		if err := errors.Join(errs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*unitsPerOp)/elapsed.Seconds(), unit+"/s")
	d.reportCPU(b, cpu)
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
