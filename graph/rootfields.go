package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/analytics"
	"github.com/multidb/multidb/graph/access"
	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/graph/loader"
	"github.com/multidb/multidb/graph/model"
	"github.com/multidb/multidb/internal/audit"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/requestid"
)

// Auditor records audit entries without blocking; *audit.Writer is one.
type Auditor interface {
	Record(audit.Entry) bool
}

// rootFields is the handler extension around the fields of Query and Mutation: it refuses an
// anonymous caller every field but those anonymousMay allows, before anything runs, and
// records every mutation, refused or not, with the auditor.
type rootFields struct {
	anonymousTracking bool
	audit             Auditor
}

var (
	_ graphql.HandlerExtension = rootFields{}
	_ graphql.FieldInterceptor = rootFields{}
)

func (rootFields) ExtensionName() string                   { return "RootFields" }
func (rootFields) Validate(graphql.ExecutableSchema) error { return nil }

// anonymousMay reports whether a caller who is not signed in may ask for a root field. The
// rows behind the others are refused by package access anyway; refusing here says so without
// touching a database.
func (f rootFields) anonymousMay(field string) bool {
	switch field {
	case "signUp", "logIn", "__schema", "__type", "__typename":
		return true
	case "trackEvent", "trackEvents":
		return f.anonymousTracking
	}
	return publicFields[field]
}

func (f rootFields) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || (fc.Object != "Query" && fc.Object != "Mutation") {
		return next(ctx)
	}
	v, _ := auth.FromContext(ctx)
	var (
		res any
		err error
	)
	if v.Anonymous() && !f.anonymousMay(fc.Field.Name) {
		err = access.ErrLogIn
	} else {
		res, err = next(ctx)
		if fc.Object == "Query" && err == nil {
			registerParents(ctx, res)
		}
	}
	if fc.Object == "Mutation" && f.audit != nil {
		if p, ok := res.(*model.AuthPayload); ok && p != nil && p.User != nil {
			// Signed up or logged in: the user is who acted.
			v = auth.Viewer{UserID: p.User.ID, Role: auth.Role(p.User.Role)}
		}
		f.audit.Record(audit.Entry{
			Time:      time.Now(),
			Actor:     v.UserID,
			Role:      string(v.Role),
			Operation: fc.Field.Name,
			Outcome:   outcome(err),
			Target:    target(fc, res),
			RequestID: requestid.FromContext(ctx),
		})
	}
	return res, err
}

// registerParents tells the request's loaders that the nodes a root field returned are one
// list of parents: the fields below them are then fetched in one batch, sent once all have
// asked. gqlgen resolves those fields after this returns.
func registerParents(ctx context.Context, res any) {
	l := loader.For(ctx)
	if l == nil {
		return
	}
	switch r := res.(type) {
	case interface{ NodeList() []any }: // every connection (ent/xdbgen)
		l.Register(r.NodeList()...)
	case []model.Node:
		parents := make([]any, len(r))
		for i, n := range r {
			parents[i] = n
		}
		l.Register(parents...)
	case model.Node:
		l.Register(r)
	}
}

func outcome(err error) string {
	if err == nil {
		return audit.OutcomeOK
	}
	if code := apierror.CodeOf(err); code != "" {
		return code
	}
	return apierror.Internal
}

// target names what a mutation acted on: its id argument, what it created, or a digest of the
// email of a log-in that failed.
func target(fc *graphql.FieldContext, res any) string {
	if id, ok := fc.Args["id"].(uuid.UUID); ok {
		return id.String()
	}
	switch r := res.(type) {
	case *model.AuthPayload:
		if r != nil && r.User != nil {
			return r.User.ID.String()
		}
	case []*analytics.Event:
		return fmt.Sprintf("%d events", len(r))
	case interface{ GetID() uuid.UUID }: // any ent entity (ent/xdbgen)
		if !reflect.ValueOf(r).IsNil() {
			return r.GetID().String()
		}
	}
	if email, ok := fc.Args["email"].(string); ok {
		// A digest, not the address: audit entries outlive accounts and hold no personal
		// data, yet repeated attempts on one address still show as one target.
		sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
		return "email-sha256:" + hex.EncodeToString(sum[:8])
	}
	return ""
}
