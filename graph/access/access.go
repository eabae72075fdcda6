// Package access decides which rows a viewer may read and write, in one place for every path
// of the graph. It applies the policy each ent type declares (schema/xdb.Policy) and keeps no
// list of types of its own. It builds the ent clients the graph uses: over the same drivers as
// the set's own clients, but with an interceptor on every query and a hook on every mutation
// of every type, which read the viewer (auth.FromContext) and the type's policy, and
//
//   - refuse a context without a viewer, and a type without a policy, so that nothing reaches
//     the data unchecked;
//   - let a context made by auth.SystemContext through unchanged;
//   - let anyone read a public type, every signed-in user a signed-in type, and only an ADMIN
//     an admin-only type; internal types are refused to every viewer;
//   - narrow a USER's queries, updates and deletes of an owned type to their own rows (the
//     owner field equals their id) by adding a predicate, so that another user's rows look
//     exactly like rows that do not exist: absent from lists and counts, null from node,
//     NOT_FOUND from a mutation;
//   - make a USER the owner of what they create, and refuse what only an ADMIN may write: the
//     other kinds' rows, the fields a policy reserves to admins, updates of immutable types.
//
// Because the rules sit in the clients, every query built on them is covered: the top-level
// connections and their totalCount, node and nodes, the loaders' statements of the fields that
// cross databases, and the mutations, generated or not. The set's own clients stay
// unrestricted for the command line, seeds and tests.
//
// The rules are registered on these clients rather than in the ent schemas as privacy
// policies: those would move each client's defaults into a runtime package that every program
// using the client must import, and would hold back the command line and the seeds, which act
// for no viewer.
package access

import (
	"context"
	"errors"
	"fmt"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/schema/xdb"
)

// AnonymousUser is the owner of the rows an anonymous caller creates in a type that allows it
// (xdb.AnonymousCreate, with Options.AnonymousTracking on): the max UUID,
// ffffffff-ffff-ffff-ffff-ffffffffffff, which no account can have (theirs are v7). It names no
// user: only admins see those rows. (Not the nil UUID: gqlgen writes that as null, which a
// UUID! cannot be.)
var AnonymousUser = uuid.Max

// Options change the rules.
type Options struct {
	// AnonymousTracking lets callers who are not signed in create rows of the types that
	// declare xdb.AnonymousCreate (events), always owned by AnonymousUser.
	AnonymousTracking bool
}

// Clients returns clients over the databases of set that apply the rules of this package.
func Clients(set *database.Set, o Options) *database.Clients {
	c := &database.Clients{}
	for _, db := range set.DBs {
		r := rules{Options: o, spec: db.Spec, clients: c}
		db.Attach(c, db.Driver)
		db.Secure(c, ent.TraverseFunc(r.query), r.mutation)
	}
	return c
}

type rules struct {
	Options
	spec    database.Spec
	clients *database.Clients // these clients, with the rules: to look a row up as the viewer
}

// errNoViewer is a bug: a statement of the graph with a context that did not come from a
// request. It is refused rather than run unchecked.
var errNoViewer = &apierror.Error{Code: apierror.Internal, Message: "internal error", Cause: errors.New("access: no viewer in the context")}

// ErrLogIn is the error of an anonymous caller that reaches data.
var ErrLogIn = apierror.Unauthenticatedf("log in first: send Authorization: Bearer <token> from logIn or signUp")

// policy returns the declared policy of a type of this database. A type without one cannot
// pass `make generate`; one missing here is a bug, refused all the same.
func (r rules) policy(typ string) (xdb.PolicyAnnotation, error) {
	if t, ok := r.spec.Type(typ); ok {
		return t.Policy, nil
	}
	return xdb.PolicyAnnotation{}, &apierror.Error{Code: apierror.Internal, Message: "internal error", Cause: fmt.Errorf("access: %s.%s has no policy", r.spec.Name, typ)}
}

// query is the interceptor of every query: it refuses or narrows it by the type's policy.
func (r rules) query(ctx context.Context, q ent.Query) error {
	if auth.IsSystem(ctx) {
		return nil
	}
	gq, err := r.spec.Query(q)
	if err != nil {
		return err
	}
	p, err := r.policy(gq.Type())
	if err != nil {
		return err
	}
	v, ok := auth.FromContext(ctx)
	switch {
	case !ok:
		return errNoViewer
	case p.Kind == xdb.KindInternal:
		return apierror.Forbiddenf("%s is not part of the graph", gq.Type())
	case p.Kind == xdb.KindPublic:
		return nil
	case v.Anonymous():
		return ErrLogIn
	case v.Admin() || p.Kind == xdb.KindSignedIn:
		return nil
	case p.Kind == xdb.KindOwned:
		gq.WhereP(sql.FieldEQ(p.Owner, v.UserID))
		return nil
	}
	// Admin-only, or a kind this package does not know: nothing, as if there were no rows.
	gq.WhereP(func(s *sql.Selector) { s.Where(sql.False()) })
	return nil
}

// mutator is what the hook needs of every generated mutation.
type mutator interface {
	ent.Mutation
	WhereP(...func(*sql.Selector))
}

// mutation is the hook of every mutation: it refuses or narrows it by the type's policy.
func (r rules) mutation(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		if auth.IsSystem(ctx) {
			return next.Mutate(ctx, m)
		}
		if err := r.check(ctx, m); err != nil {
			return nil, err
		}
		return next.Mutate(ctx, m)
	})
}

func (r rules) check(ctx context.Context, m ent.Mutation) error {
	p, err := r.policy(m.Type())
	if err != nil {
		return err
	}
	wm, ok := m.(mutator)
	if !ok {
		return &apierror.Error{Code: apierror.Internal, Message: "internal error", Cause: fmt.Errorf("access: %T cannot be narrowed", m)}
	}
	v, ok := auth.FromContext(ctx)
	create := m.Op().Is(ent.OpCreate)
	switch {
	case !ok:
		return errNoViewer
	case p.Kind == xdb.KindInternal:
		return apierror.Forbiddenf("%s is not part of the graph", m.Type())
	case v.Anonymous() && create && p.AnonymousCreate && r.AnonymousTracking:
		if owner, _ := m.Field(p.Owner); owner != AnonymousUser {
			return apierror.Unauthenticatedf("log in to create a %s of a user; anonymous ones take the userID %s", m.Type(), AnonymousUser)
		}
		return nil
	case v.Anonymous():
		return ErrLogIn
	case !create && p.Immutable && m.Op().Is(ent.OpUpdate|ent.OpUpdateOne):
		return apierror.Forbiddenf("a %s cannot be changed", m.Type())
	case v.Admin():
		return nil
	case p.Kind != xdb.KindOwned:
		return apierror.Forbiddenf("only an admin may change a %s", m.Type())
	}
	for _, f := range p.AdminFields {
		if _, set := m.Field(f); set {
			return apierror.Forbiddenf("only an admin may set %s of a %s", f, m.Type())
		}
	}
	if !create {
		// A USER may not give their rows away.
		if owner, set := m.Field(p.Owner); set && owner != v.UserID && !isPtrTo(owner, v.UserID) {
			return apierror.Forbiddenf("only an admin may change %s of a %s", p.Owner, m.Type())
		}
		wm.WhereP(sql.FieldEQ(p.Owner, v.UserID))
		if m.Op().Is(ent.OpUpdateOne) {
			return r.mustSee(ctx, m)
		}
		return nil
	}
	if p.Owner == "id" {
		return apierror.Forbiddenf("only an admin may create a %s", m.Type())
	}
	// What a USER creates is theirs: an owner left unset becomes them, another is refused.
	owner, set := m.Field(p.Owner)
	switch {
	case !set:
		return m.SetField(p.Owner, v.UserID)
	case owner != v.UserID && !isPtrTo(owner, v.UserID):
		return apierror.Forbiddenf("you may create a %s of your own only (%s %s)", m.Type(), p.Owner, v.UserID)
	}
	return nil
}

// mustSee refuses an update of one row the viewer cannot see. ent checks the narrowing
// predicate of an UPDATE that changes columns, but an update that changes none only reads the
// row back by id: without this lookup, an empty update would return a hidden row.
func (r rules) mustSee(ctx context.Context, m ent.Mutation) error {
	idm, ok := m.(interface{ ID() (uuid.UUID, bool) })
	t, known := r.spec.Type(m.Type())
	if !ok || !known || t.Nodes == nil {
		return &apierror.Error{Code: apierror.Internal, Message: "internal error", Cause: fmt.Errorf("access: cannot look up the %s to update", m.Type())}
	}
	id, _ := idm.ID()
	rows, err := t.Nodes(ctx, r.clients, []uuid.UUID{id})
	switch {
	case err != nil:
		return apierror.Database(r.spec.Name, err)
	case len(rows) == 0:
		return apierror.NotFoundf("%s %s not found", m.Type(), id)
	}
	return nil
}

func isPtrTo(v ent.Value, id uuid.UUID) bool {
	p, ok := v.(*uuid.UUID)
	return ok && p != nil && *p == id
}

// Readable reports whether a viewer could read any row of the type at all (its policy opens
// it to them); the rows themselves may still be narrowed.
func Readable(p xdb.PolicyAnnotation, v auth.Viewer) bool {
	switch p.Kind {
	case xdb.KindPublic:
		return true
	case xdb.KindInternal:
		return false
	case xdb.KindAdminOnly:
		return v.Admin()
	}
	return !v.Anonymous()
}
