package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/multidb/multidb/ent/users"
	"github.com/multidb/multidb/graph/account"
	"github.com/multidb/multidb/graph/apierror"
)

// emailChecks is the handler extension that counts each updateUser that changes an email
// against the client address's budget of signUp: both tell whether an email is taken, and
// without it aliased updateUser calls checked hundreds of emails a minute. It runs per field,
// so each alias counts.
type emailChecks struct {
	accounts *account.Service
}

var (
	_ graphql.HandlerExtension = emailChecks{}
	_ graphql.FieldInterceptor = emailChecks{}
)

func (emailChecks) ExtensionName() string                   { return "EmailChecks" }
func (emailChecks) Validate(graphql.ExecutableSchema) error { return nil }

var errEmailChecks = &apierror.Error{Code: apierror.TooManyRequests, Message: "too many attempts; wait a minute and try again"}

func (c emailChecks) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != "Mutation" || fc.Field.Name != "updateUser" {
		return next(ctx)
	}
	if in, ok := fc.Args["input"].(users.UpdateUserInput); ok && in.Email != nil && !c.accounts.AllowEmailCheck(clientIP(ctx)) {
		return nil, errEmailChecks
	}
	return next(ctx)
}
