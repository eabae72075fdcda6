package fastexec

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// fieldContextKey is the context key under which graphql.GetFieldContext looks, learned by
// asking it once: gqlgen does not export it.
var fieldContextKey = func() any {
	var p keyProbe
	graphql.GetFieldContext(&p)
	return p.key
}()

// keyProbe is a context that records the key it is asked for.
type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}

// fieldCtx is a context holding a field context, as graphql.WithFieldContext makes, in one
// allocation where gqlgen's takes two (the field context, and the context that holds it).
type fieldCtx struct {
	context.Context
	fc    graphql.FieldContext
	index int // fc.Index points here, for a list's element
}

func (c *fieldCtx) Value(key any) any {
	if key == fieldContextKey {
		return &c.fc
	}
	return c.Context.Value(key)
}

// WithFieldContext is graphql.WithFieldContext(ctx, fc) with a copy of *fc: it returns the
// context and the field context it holds, which is the one to change from then on.
func WithFieldContext(ctx context.Context, fc *graphql.FieldContext) (context.Context, *graphql.FieldContext) {
	c := &fieldCtx{Context: ctx, fc: *fc}
	c.fc.Parent = graphql.GetFieldContext(ctx)
	return c, &c.fc
}
