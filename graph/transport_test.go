package graph_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/multidb/multidb/ent/logs/auditentry"
	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/graph/limit"
	"github.com/multidb/multidb/internal/audit"
	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/requestid"
)

// raw sends one HTTP request to e and returns the status, the headers and the body.
func (e *env) raw(t *testing.T, method, path, contentType, accept, body string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return res.StatusCode, res.Header, b.String()
}

// TestHTTPProtocol checks the status, media type and error shape of each kind of request the
// GraphQL-over-HTTP spec describes, and that every refusal carries extensions.code.
func TestHTTPProtocol(t *testing.T) {
	e := newEnv(t, config.SQLite)
	const (
		js   = "application/json"
		gres = "application/graphql-response+json"
	)
	tests := []struct {
		name, method, path, ctype, accept, body string
		status                                  int
		media                                   string
		code                                    string // "" when the request succeeds
		data                                    bool   // whether a data entry is expected
		allow                                   string
	}{
		{"post", "POST", "", js, "", `{"query":"{ __typename }"}`, 200, js, "", true, ""},
		{"post graphql-response", "POST", "", js, gres, `{"query":"{ __typename }"}`, 200, gres, "", true, ""},
		{"apollo accept", "POST", "", js, gres + "," + js + ";q=0.9", `{"query":"{ __typename }"}`, 200, gres, "", true, ""},
		{"get query", "GET", "?query=" + url.QueryEscape("{ __typename }"), "", "", "", 200, js, "", true, ""},
		{"get mutation", "GET", "?query=" + url.QueryEscape("mutation { logOut }"), "", gres, "", 405, gres, "METHOD_NOT_ALLOWED", false, "POST"},
		{"put", "PUT", "", js, "", `{"query":"{ __typename }"}`, 405, js, "METHOD_NOT_ALLOWED", false, "GET, POST"},
		{"text/plain", "POST", "", "text/plain", "", `{"query":"{ __typename }"}`, 415, js, "BAD_REQUEST", false, ""},
		{"no content type", "POST", "", "", "", `{"query":"{ __typename }"}`, 415, js, "BAD_REQUEST", false, ""},
		{"not json", "POST", "", js, "", `{"query":`, 400, js, "BAD_REQUEST", false, ""},
		{"not json, graphql-response", "POST", "", js, gres, `{"query":`, 400, gres, "BAD_REQUEST", false, ""},
		{"query not a string", "POST", "", js, "", `{"query":0}`, 400, js, "BAD_REQUEST", false, ""},
		{"no query", "POST", "", js, gres, `{"notquery":"{ __typename }"}`, 400, gres, "BAD_REQUEST", false, ""},
		{"empty body", "POST", "", js, "", ``, 400, js, "BAD_REQUEST", false, ""},
		{"parse error, json", "POST", "", js, js, `{"query":"{"}`, 200, js, "GRAPHQL_PARSE_FAILED", false, ""},
		{"parse error, graphql-response", "POST", "", js, gres, `{"query":"{"}`, 400, gres, "GRAPHQL_PARSE_FAILED", false, ""},
		{"validation error, json", "POST", "", js, js, `{"query":"{ nope }"}`, 200, js, "GRAPHQL_VALIDATION_FAILED", false, ""},
		{"validation error, graphql-response", "POST", "", js, gres, `{"query":"{ nope }"}`, 400, gres, "GRAPHQL_VALIDATION_FAILED", false, ""},
		{"coercion error, graphql-response", "POST", "", js, gres, `{"query":"query($id: ID!) { node(id: $id) { id } }","variables":{"id":{}}}`, 400, gres, "BAD_USER_INPUT", false, ""},
		{"subscription by POST", "POST", "", js, "", `{"query":"subscription { logEntries { cursor } }"}`, 200, js, "BAD_REQUEST", false, ""},
		{"subscription by POST, graphql-response", "POST", "", js, gres, `{"query":"subscription { logEntries { cursor } }"}`, 400, gres, "BAD_REQUEST", false, ""},
		{"bad token", "POST", "", js, gres, `{"query":"{ me { id } }"}`, 401, gres, "UNAUTHENTICATED", false, ""},
		{"batch over BATCH_MAX", "POST", "", js, "", "[" + strings.Repeat(`{"query":"{ __typename }"},`, graph.DefaultBatchMax) + `{"query":"{ __typename }"}]`, 400, js, "BAD_REQUEST", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.name == "bad token" {
				hdr = []string{"Authorization", "Bearer mdb_not-a-session"}
			}
			status, h, body := e.raw(t, tt.method, tt.path, tt.ctype, tt.accept, tt.body, hdr...)
			if status != tt.status {
				t.Errorf("status %d, want %d: %s", status, tt.status, body)
			}
			if got := h.Get("Content-Type"); !strings.HasPrefix(got, tt.media) {
				t.Errorf("Content-Type %q, want %s", got, tt.media)
			}
			if tt.allow != "" && h.Get("Allow") != tt.allow {
				t.Errorf("Allow %q, want %q", h.Get("Allow"), tt.allow)
			}
			if tt.name == "bad token" && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q, want Bearer", h.Get("WWW-Authenticate"))
			}
			var r map[string]json.RawMessage
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatalf("body is not JSON: %v\n%s", err, body)
			}
			if _, has := r["data"]; has != tt.data {
				t.Errorf("data entry present: %v, want %v: %s", has, tt.data, body)
			}
			var errs []gqlError
			_ = json.Unmarshal(r["errors"], &errs)
			if tt.code == "" {
				if len(errs) > 0 {
					t.Errorf("unexpected errors: %s", body)
				}
				return
			}
			if len(errs) == 0 {
				t.Fatalf("no errors, want %s: %s", tt.code, body)
			}
			for _, er := range errs {
				if er.code() != tt.code {
					t.Errorf("code %q, want %q: %s", er.code(), tt.code, body)
				}
			}
		})
	}
}

// TestBatch sends operations as one JSON array: each gets its own result in order, a mutation
// in the batch is audited, a refused operation does not fail the others, and the operations
// share one complexity budget.
func TestBatch(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, fixture{users: 2, events: func(int) int { return 3 }, logs: func(int) int { return 1 }})
		h, w := audited(t, e, audit.Options{})
		h = h.as(signUpToken(t, h))
		body := `[
			{"query":"{ me { email } }"},
			{"query":"mutation($input: CreateLogEntryInput!) { createLogEntry(input: $input) { message } }","variables":{"input":{"level":"INFO","message":"batched"}}},
			{"query":"{ nope }"},
			{"query":"query Mine { logEntries { totalCount } }","operationName":"Mine"}
		]`
		status, _, raw := h.raw(t, "POST", "", "application/json", "", body, "Authorization", "Bearer "+h.token, requestid.Header, "batch-1")
		if status != 200 {
			t.Fatalf("status %d: %s", status, raw)
		}
		var out []struct {
			Data   json.RawMessage `json:"data"`
			Errors []gqlError      `json:"errors"`
		}
		if err := json.Unmarshal([]byte(raw), &out); err != nil || len(out) != 4 {
			t.Fatalf("got %d results (%v), want 4: %s", len(out), err, raw)
		}
		if !strings.Contains(string(out[0].Data), `"batch@example.com"`) || len(out[0].Errors) > 0 {
			t.Errorf("result 0: %s %v", out[0].Data, out[0].Errors)
		}
		if !strings.Contains(string(out[1].Data), `"batched"`) {
			t.Errorf("result 1: %s %v", out[1].Data, out[1].Errors)
		}
		if len(out[2].Errors) != 1 || out[2].Errors[0].code() != "GRAPHQL_VALIDATION_FAILED" || out[2].Data != nil {
			t.Errorf("result 2: %s %v", out[2].Data, out[2].Errors)
		}
		// The query after the mutation reads it: operations run in order with fresh loaders.
		if !strings.Contains(string(out[3].Data), `"totalCount":1`) {
			t.Errorf("result 3: %s %v", out[3].Data, out[3].Errors)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		n, err := e.set.Logs.AuditEntry.Query().Where(auditentry.RequestID("batch-1"), auditentry.Operation("createLogEntry")).Count(ctx)
		if err != nil || n != 1 {
			t.Errorf("audit entries of the batched mutation: %d (%v), want 1", n, err)
		}

		// Two operations that each fit the budget but not together: the second is refused.
		small := e.with(t, graph.WithViewer(testAdmin), graph.WithLimits(limitsWithComplexity(40)))
		op := `{"query":"{ users(first: 10) { edges { node { id } } } }"}`
		_, _, raw = small.raw(t, "POST", "", "application/json", "", "["+op+","+op+"]")
		if err := json.Unmarshal([]byte(raw), &out); err != nil || len(out) != 2 {
			t.Fatalf("budget: %v %s", err, raw)
		}
		if len(out[0].Errors) > 0 || len(out[1].Errors) != 1 || out[1].Errors[0].code() != "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Errorf("one budget for the batch: got %s", raw)
		}
		// Each alone fits.
		if r := small.do(t, `{ users(first: 10) { edges { node { id } } } }`, nil); len(r.Errors) > 0 {
			t.Errorf("one operation alone: %v", r.Errors)
		}
	})
}

func signUpToken(t *testing.T, e *env) string {
	t.Helper()
	var out struct{ SignUp struct{ Token string } }
	r := e.do(t, `mutation { signUp(email: "batch@example.com", password: "batch password 1", name: "Batch") { token } }`, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("signUp: %v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, &out); err != nil || out.SignUp.Token == "" {
		t.Fatalf("signUp: %v %s", err, r.Data)
	}
	return out.SignUp.Token
}

func limitsWithComplexity(n int) limit.Limits { return limit.Limits{Complexity: n} }

// TestBatchShapes checks the refusals of malformed batches, each with BAD_REQUEST.
func TestBatchShapes(t *testing.T) {
	e := newEnv(t, config.SQLite)
	op := `{"query":"{ __typename }"}`
	for body, want := range map[string]int{
		"[" + op + "]":    200,
		"[]":              400,
		"[" + op + "] []": 400,
		"[" + op + ",":    400,
		"[1,2]":           200, // each element fails alone
		"[" + strings.Repeat("1,", 100_000) + "1]": 400,
	} {
		status, _, raw := e.raw(t, "POST", "", "application/json", "", body)
		if status != want {
			t.Errorf("%.40q: status %d, want %d: %.200s", body, status, want, raw)
		}
		if want == 400 && !strings.Contains(raw, `"code":"BAD_REQUEST"`) {
			t.Errorf("%.40q: %.200s", body, raw)
		}
		if body == "[1,2]" && strings.Count(raw, `"BAD_REQUEST"`) != 2 {
			t.Errorf("[1,2]: %s", raw)
		}
	}
}
