package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// fieldChain runs the graph's field interceptors as one extension. gqlgen wraps every field,
// each scalar of each object included, in one closure per interceptor; the fields that none of
// these act on (no arguments, not at the root) skip them all here, which saves
// those closures on nearly every field of a large answer.
type fieldChain []graphql.FieldInterceptor

func (fieldChain) ExtensionName() string                   { return "FieldChain" }
func (fieldChain) Validate(graphql.ExecutableSchema) error { return nil }

func (c fieldChain) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	// Connections always have arguments (gqlgen lists the absent ones as nil), so a field
	// without any is neither a connection to page nor an input to check.
	if fc := graphql.GetFieldContext(ctx); fc != nil && len(fc.Args) == 0 &&
		fc.Object != "Query" && fc.Object != "Mutation" {
		return next(ctx)
	}
	return c.run(ctx, 0, next)
}

// run calls interceptor i with the rest of the chain as its next, the first outermost, as
// gqlgen orders the extensions it is given one by one.
func (c fieldChain) run(ctx context.Context, i int, next graphql.Resolver) (any, error) {
	if i == len(c) {
		return next(ctx)
	}
	return c[i].InterceptField(ctx, func(ctx context.Context) (any, error) { return c.run(ctx, i+1, next) })
}

// operationOnly registers the operation hooks of an extension whose field hook fieldChain
// runs, so that gqlgen does not run that hook a second time.
type operationOnly struct {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
}
