package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/graph/internal/fastexec"
	"github.com/multidb/multidb/internal/database"
)

// Media types of GraphQL over HTTP.
const (
	mediaJSON     = "application/json"
	mediaResponse = "application/graphql-response+json"
)

// DefaultBatchMax is how many operations one request may carry in a JSON array.
const DefaultBatchMax = 10

// httpTransport serves GraphQL over HTTP (graphql.github.io/graphql-over-http): queries by GET,
// queries and mutations by POST with a JSON body, which may be an array of up to batchMax
// operations (Apollo's BatchHttpLink). It answers every request itself, so that every error,
// down to a body that is not JSON, leaves in one shape with an extensions.code, and with the
// statuses the spec gives each media type.
type httpTransport struct {
	batchMax int
	tokens   int // the parser's token limit, for the GET check of the operation's type
	// operation prepares the context of each operation (fresh batch loaders).
	operation func(context.Context) context.Context
}

var _ graphql.Transport = httpTransport{}

func (httpTransport) Supports(r *http.Request) bool { return r.Header.Get("Upgrade") == "" }

// budgetKey carries the complexity a request's earlier operations have spent.
type budgetKey struct{}

type budget struct{ spent int }

// remainingComplexity is what is left of limit for the operation of ctx: the operations of a
// batch share one request's budget.
func remainingComplexity(ctx context.Context, limit int) int {
	if b, ok := ctx.Value(budgetKey{}).(*budget); ok {
		return max(0, limit-b.spent)
	}
	return limit
}

// responseType picks the media type of the answer from Accept: the GraphQL response type when
// the client prefers it (Apollo Client 4 and urql send it first), JSON otherwise, as the spec
// asks of a missing Accept, */* and legacy clients.
func responseType(accept string) string {
	best, bestQ := mediaJSON, -1.0
	for part := range strings.SplitSeq(accept, ",") {
		media, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q <= 0 || q < bestQ || (q == bestQ && best == mediaResponse) {
			continue
		}
		switch media {
		case mediaResponse:
			best, bestQ = mediaResponse, q
		case mediaJSON, "application/*", "*/*":
			best, bestQ = mediaJSON, q
		}
	}
	return best
}

// response is a GraphQL response with data left out when it is nil: a request error (one
// raised before execution) must carry no data entry, not "data": null.
type response struct {
	Errors     gqlerror.List   `json:"errors,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	Extensions map[string]any  `json:"extensions,omitempty"`
}

func toResponse(r *graphql.Response) response {
	return response{Errors: r.Errors, Data: r.Data, Extensions: r.Extensions}
}

func (t httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	media := responseType(r.Header.Get("Accept"))
	fail := func(status int, code, msg string) { writeErrorAs(w, media, status, code, msg) }
	switch r.Method {
	case http.MethodOptions:
		w.Header().Set("Allow", "GET, POST")
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodGet, http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST")
		fail(http.StatusMethodNotAllowed, apierror.MethodNotAllowed, "use POST (or GET for a query)")
		return
	}

	// The executor's values of this request's operations die with it: they go back to the
	// arena once the response is written (the deferred calls run after writeJSONAs). Since
	// its field contexts are reused, statements run on contexts of their own (database.Scope).
	arena, scope := fastexec.NewArena(), new(database.Scope)
	defer arena.Release()
	defer scope.End()
	ctx = database.WithScope(fastexec.WithArena(ctx, arena), scope)

	if r.Method == http.MethodGet {
		params, err := getParams(r.URL.RawQuery)
		if err != nil {
			fail(http.StatusBadRequest, apierror.BadRequest, err.Error())
			return
		}
		params.Headers = r.Header
		res, status := t.run(ctx, exec, params, media, true)
		if status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", "POST")
		}
		writeJSONAs(w, media, status, res)
		return
	}

	mediaType, mparams, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != mediaJSON {
		// Only JSON: a form or text/plain is what a cross-site page can send without a preflight.
		fail(http.StatusUnsupportedMediaType, apierror.BadRequest, "send the request as Content-Type: application/json")
		return
	}
	if cs, ok := mparams["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		fail(http.StatusUnsupportedMediaType, apierror.BadRequest, "the request body must be UTF-8")
		return
	}
	var raw []byte
	if read, ok := r.Body.(readBody); ok && read.Len() == len(read.bytes) {
		raw = read.bytes
	} else {
		var body bytes.Buffer
		if _, err := body.ReadFrom(r.Body); err != nil {
			fail(http.StatusBadRequest, apierror.BadRequest, "the request body could not be read")
			return
		}
		raw = body.Bytes()
	}
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) > 0 && raw[0] == '[' {
		t.batch(ctx, w, r, exec, raw, media)
		return
	}
	params, err := postParams(raw)
	if err != nil {
		fail(http.StatusBadRequest, apierror.BadRequest, err.Error())
		return
	}
	params.Headers = r.Header
	res, status := t.run(ctx, exec, params, media, false)
	writeJSONAs(w, media, status, res)
}

// batch runs a JSON array of operations one after the other, in order (a mutation before a
// query that reads it), on one complexity budget, and answers an array of their results.
func (t httpTransport) batch(ctx context.Context, w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, raw []byte, media string) {
	fail := func(status int, code, msg string) { writeErrorAs(w, media, status, code, msg) }
	// Read the array an element at a time, so that a body of many tiny elements is refused at
	// the (BATCH_MAX+1)th instead of being decoded whole.
	var items []json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	notArray := func() {
		fail(http.StatusBadRequest, apierror.BadRequest, "the request body is not a JSON array of operations")
	}
	if _, err := dec.Token(); err != nil {
		notArray()
		return
	}
	for dec.More() {
		if len(items) == t.batchMax {
			fail(http.StatusBadRequest, apierror.BadRequest, fmt.Sprintf("a batch holds at most %d operations (BATCH_MAX)", t.batchMax))
			return
		}
		var item json.RawMessage
		if err := dec.Decode(&item); err != nil {
			notArray()
			return
		}
		items = append(items, item)
	}
	if end, err := dec.Token(); err != nil || end != json.Delim(']') || dec.More() {
		notArray()
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		notArray() // something after the array
		return
	}
	if len(items) == 0 {
		fail(http.StatusBadRequest, apierror.BadRequest, "a batch holds at least one operation")
		return
	}
	ctx = context.WithValue(ctx, budgetKey{}, &budget{})
	out := make([]response, len(items))
	for i, item := range items {
		params, err := postParams(item)
		if err != nil {
			out[i] = response{Errors: gqlerror.List{codeError(apierror.BadRequest, fmt.Sprintf("operation %d: %v", i, err))}}
			continue
		}
		params.Headers = r.Header
		out[i], _ = t.run(ctx, exec, params, media, false)
	}
	writeJSONAs(w, media, http.StatusOK, out)
}

// run runs one operation and returns its result and the HTTP status it calls for on its own.
func (t httpTransport) run(ctx context.Context, exec graphql.GraphExecutor, params *graphql.RawParams, media string, get bool) (response, int) {
	if t.operation != nil {
		ctx = t.operation(ctx)
	}
	params.ReadTime = graphql.TraceTiming{Start: graphql.Now(), End: graphql.Now()}
	if get {
		// Refuse a mutation by GET before any extension sees it: GET must be safe.
		if op := operationType(params, t.tokens); op != "" && op != ast.Query {
			return response{Errors: gqlerror.List{codeError(apierror.MethodNotAllowed, "a "+string(op)+" must be sent by POST")}}, http.StatusMethodNotAllowed
		}
	}
	rc, errs := exec.CreateOperationContext(ctx, params)
	// Only operations that run spend the budget.
	if b, ok := ctx.Value(budgetKey{}).(*budget); ok && rc != nil && errs == nil {
		if stats := extension.GetComplexityStats(graphql.WithOperationContext(ctx, rc)); stats != nil {
			b.spent += stats.Complexity
		}
	}
	if errs != nil {
		res := toResponse(exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs))
		res.Data = nil
		// A request error: 200 for application/json, 400 for the GraphQL response type.
		if media == mediaResponse {
			return res, http.StatusBadRequest
		}
		return res, http.StatusOK
	}
	if rc.Operation != nil && rc.Operation.Operation == ast.Subscription {
		// A plain request gets one answer: a subscription's stream needs a transport that
		// keeps going (and whose lifetime is not the request's, see Do's arena).
		status := http.StatusOK
		if media == mediaResponse {
			status = http.StatusBadRequest
		}
		return response{Errors: gqlerror.List{codeError(apierror.BadRequest,
			"a subscription needs a WebSocket (graphql-transport-ws) or server-sent events (Accept: text/event-stream)")}}, status
	}
	if get && rc.Operation != nil && rc.Operation.Operation != ast.Query {
		// A persisted mutation sent by GET: its document was only known once loaded.
		return response{Errors: gqlerror.List{codeError(apierror.MethodNotAllowed, "a "+string(rc.Operation.Operation)+" must be sent by POST")}}, http.StatusMethodNotAllowed
	}
	handler, ctx := exec.DispatchOperation(ctx, rc)
	return toResponse(handler(ctx)), http.StatusOK
}

// operationType parses the document only to tell a query from a mutation; "" when it does not
// parse (the executor reports that) or names no single operation.
func operationType(params *graphql.RawParams, tokens int) ast.Operation {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: params.Query}, tokens)
	if err != nil {
		return ""
	}
	if op := doc.Operations.ForName(params.OperationName); op != nil {
		return op.Operation
	}
	return ""
}

// wireParams is the body of one operation, decoded strictly: a query that is not a string is
// the client's mistake, not an empty document.
type wireParams struct {
	Query         *string        `json:"query"`
	OperationName *string        `json:"operationName"`
	Variables     map[string]any `json:"variables"`
	Extensions    map[string]any `json:"extensions"`
}

func postParams(raw []byte) (*graphql.RawParams, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("the request body is empty; send {\"query\": \"...\"}")
	}
	var w wireParams
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("the request body is not a JSON object with a string query, an object of variables and an object of extensions")
	}
	if dec.More() {
		return nil, fmt.Errorf("the request body holds more than one JSON value")
	}
	return toParams(w)
}

func getParams(rawQuery string) (*graphql.RawParams, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("the URL's query string does not parse")
	}
	var w wireParams
	if q.Has("query") {
		s := q.Get("query")
		w.Query = &s
	}
	if q.Has("operationName") {
		s := q.Get("operationName")
		w.OperationName = &s
	}
	for key, dst := range map[string]*map[string]any{"variables": &w.Variables, "extensions": &w.Extensions} {
		if v := q.Get(key); v != "" {
			dec := json.NewDecoder(strings.NewReader(v))
			dec.UseNumber()
			if err := dec.Decode(dst); err != nil {
				return nil, fmt.Errorf("the %s parameter is not a JSON object", key)
			}
		}
	}
	return toParams(w)
}

func toParams(w wireParams) (*graphql.RawParams, error) {
	p := &graphql.RawParams{Variables: w.Variables, Extensions: w.Extensions}
	if w.Query != nil {
		p.Query = *w.Query
	}
	if w.OperationName != nil {
		p.OperationName = *w.OperationName
	}
	// A persisted query's hash stands for its document (APQ).
	if p.Query == "" && p.Extensions["persistedQuery"] == nil {
		return nil, fmt.Errorf("the request has no query")
	}
	return p, nil
}

func codeError(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

// writeErrorAs answers a request refused before GraphQL ran: one error with its code, no data.
func writeErrorAs(w http.ResponseWriter, media string, status int, code, msg string) {
	writeJSONAs(w, media, status, response{Errors: gqlerror.List{codeError(code, msg)}})
}

func writeJSONAs(w http.ResponseWriter, media string, status int, v any) {
	if r, ok := v.(response); ok && len(r.Errors) == 0 && r.Extensions == nil && len(r.Data) > 0 && !needsEscape(r.Data) {
		// An answer of data alone, whose bytes the executor wrote compact: what the encoder
		// would write, without its pass over every byte (a tenth of a large answer's time).
		w.Header().Set("Content-Type", media+"; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"data":`)
		_, _ = w.Write(r.Data)
		_, _ = io.WriteString(w, "}")
		return
	}
	// Encoded into a pooled buffer, as json.Marshal would (then a newline), and written from
	// it: json.Marshal would copy a large answer once more.
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledJSON {
			buf.Reset()
			jsonBuffers.Put(buf)
		}
	}()
	buf.Reset()
	b := []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		media, status = mediaJSON, http.StatusInternalServerError
	} else {
		b = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// jsonBuffers are the buffers writeJSONAs encodes answers into; one that grew past
// maxPooledJSON is dropped after use, so that a rare huge answer does not pin its memory.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledJSON = 4 << 20

// needsEscape reports whether JSON holds what encoding/json escapes in a json.RawMessage: HTML's
// <, > and &, and U+2028 and U+2029 (E2 80 A8 and E2 80 A9 in UTF-8), so that an answer is safe
// inside HTML.
func needsEscape(b []byte) bool {
	return bytes.IndexByte(b, '<') >= 0 || bytes.IndexByte(b, '>') >= 0 || bytes.IndexByte(b, '&') >= 0 ||
		bytes.Contains(b, []byte("\u2028")) || bytes.Contains(b, []byte("\u2029"))
}
