package metrics

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Extension is the gqlgen handler extension that records GraphQL operations: their count and
// latency by name and type, and the errors of their responses by extensions.code. It also
// tells Middleware the operation's name. Install it with (*handler.Server).Use.
type Extension struct {
	m *Metrics
}

var (
	_ graphql.HandlerExtension     = Extension{}
	_ graphql.OperationInterceptor = Extension{}
	_ graphql.ResponseInterceptor  = Extension{}
)

// GraphQL returns the gqlgen extension that records into m.
func (m *Metrics) GraphQL() Extension { return Extension{m: m} }

// ExtensionName names the extension in gqlgen's stats.
func (Extension) ExtensionName() string { return "Metrics" }

// Validate accepts every schema.
func (Extension) Validate(graphql.ExecutableSchema) error { return nil }

// dispatchedKey marks the context of an operation that InterceptOperation saw, so that
// InterceptResponse leaves its errors to it and counts only those of requests that failed
// before execution (parse and validation errors).
type dispatchedKey struct{}

// InterceptOperation counts the operation, and times and counts the errors of its responses.
func (e Extension) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	op, typ := e.labels(ctx)
	setOperation(ctx, op)
	e.m.operations.WithLabelValues(op, typ).Inc()

	start := graphql.GetOperationContext(ctx).Stats.OperationStart
	if start.IsZero() {
		start = time.Now()
	}
	responses := next(context.WithValue(ctx, dispatchedKey{}, true))
	first := true
	return func(ctx context.Context) *graphql.Response {
		resp := responses(ctx)
		if resp == nil {
			return nil
		}
		// A subscription's later responses are events, not the latency of the operation.
		if first && typ != string(ast.Subscription) {
			e.m.operationDuration.WithLabelValues(op, typ).Observe(time.Since(start).Seconds())
		}
		first = false
		e.countErrors(op, resp)
		return resp
	}
}

// InterceptResponse counts the errors of a response given without executing an operation.
func (e Extension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || ctx.Value(dispatchedKey{}) != nil {
		return resp
	}
	op, _ := e.labels(ctx)
	setOperation(ctx, op)
	e.countErrors(op, resp)
	return resp
}

func (e Extension) countErrors(op string, resp *graphql.Response) {
	for _, err := range resp.Errors {
		code, _ := err.Extensions["code"].(string)
		if code == "" {
			code = "NONE"
		} else {
			code = e.m.codes.label(code)
		}
		e.m.graphqlErrors.WithLabelValues(op, code).Inc()
	}
}

// labels returns the operation's name label and its type, "unknown" before the document is
// parsed.
func (e Extension) labels(ctx context.Context) (op, typ string) {
	if !graphql.HasOperationContext(ctx) {
		return Anonymous, "unknown"
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil {
		return Anonymous, "unknown"
	}
	return e.m.operationLabel(oc.Operation.Name), string(oc.Operation.Operation)
}
