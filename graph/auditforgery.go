package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/multidb/multidb/ent/logs"
	"github.com/multidb/multidb/graph/apierror"
)

// auditPrefix begins the message of every audit entry the server writes.
const auditPrefix = "audit:"

// noForgedAudit is the handler extension that refuses a createLogEntry whose message reads
// as an audit entry ("audit: deleteUser"): while audit entries share the log entries' table,
// that is all that tells them apart, and a USER could otherwise write an admin's back-dated
// deletion into their own trail.
type noForgedAudit struct{}

var (
	_ graphql.HandlerExtension = noForgedAudit{}
	_ graphql.FieldInterceptor = noForgedAudit{}
)

func (noForgedAudit) ExtensionName() string                   { return "NoForgedAudit" }
func (noForgedAudit) Validate(graphql.ExecutableSchema) error { return nil }

func (noForgedAudit) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != "Mutation" || fc.Field.Name != "createLogEntry" {
		return next(ctx)
	}
	if in, ok := fc.Args["input"].(logs.CreateLogEntryInput); ok && readsAsAudit(in.Message) {
		return nil, apierror.BadInput("message: a log entry may not begin with %q, which marks the server's audit entries", auditPrefix)
	}
	return next(ctx)
}

// readsAsAudit reports whether a message would be taken for an audit entry, whatever its
// case or the blank and invisible characters before it.
func readsAsAudit(msg string) bool {
	msg = strings.TrimLeftFunc(msg, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u00a0' || r == '\u200b' || r == '\ufeff'
	})
	if len(msg) < len(auditPrefix) {
		return false
	}
	return strings.EqualFold(msg[:len(auditPrefix)], auditPrefix)
}
