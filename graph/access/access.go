// Package access decides which rows a viewer may read and write, in one place for every path
// of the graph. It builds the ent clients the graph uses: over the same drivers as the set's
// own clients, but with an interceptor on every query and a hook on every mutation, which read
// the viewer (auth.FromContext) and
//
//   - refuse a context without a viewer, so that nothing reaches the data unchecked;
//   - refuse an anonymous viewer (UNAUTHENTICATED), but for anonymous event tracking when
//     switched on;
//   - let an ADMIN, or a context made by auth.SystemContext, through unchanged;
//   - narrow a USER's queries, updates and deletes to their own rows (users.id, or user_id
//     elsewhere) by adding a predicate, so that another user's rows look exactly like rows
//     that do not exist: absent from lists and counts, null from node, NOT_FOUND from a
//     mutation;
//   - refuse a USER's writes that would create rows of someone else, or change a role.
//
// Because the rules sit in the clients, every query built on them is covered: the top-level
// connections and their totalCount, node and nodes, the loaders' window statements of the
// fields that cross databases, and the checks of the mutations. The set's own clients stay
// unrestricted for the command line, seeds and tests.
//
// The rules are registered on these clients rather than declared in the ent schemas: schema
// hooks or policies would move each client's defaults into a runtime package that every
// program using the client must import, and would hold back the command line and the seeds,
// which act for no viewer.
package access

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/analytics"
	"github.com/multidb/multidb/ent/analytics/event"
	analyticshook "github.com/multidb/multidb/ent/analytics/hook"
	analyticsintercept "github.com/multidb/multidb/ent/analytics/intercept"
	"github.com/multidb/multidb/ent/logs"
	logshook "github.com/multidb/multidb/ent/logs/hook"
	logsintercept "github.com/multidb/multidb/ent/logs/intercept"
	"github.com/multidb/multidb/ent/logs/logentry"
	"github.com/multidb/multidb/ent/users"
	usershook "github.com/multidb/multidb/ent/users/hook"
	usersintercept "github.com/multidb/multidb/ent/users/intercept"
	"github.com/multidb/multidb/ent/users/session"
	"github.com/multidb/multidb/ent/users/user"
	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/database"
)

// AnonymousUser is the user_id of the events an anonymous caller tracks (see
// Options.AnonymousTracking): the max UUID, ffffffff-ffff-ffff-ffff-ffffffffffff, which no
// account can have (theirs are v7). It names no user: only admins see those events. (Not
// the nil UUID: gqlgen writes that as null, which a UUID! cannot be.)
var AnonymousUser = uuid.Max

// Options change the rules.
type Options struct {
	// AnonymousTracking lets callers who are not signed in record events, always with
	// AnonymousUser as their user.
	AnonymousTracking bool
}

// Clients returns clients over the databases of set that apply the rules of this package.
func Clients(set *database.Set, o Options) *database.Clients {
	r := rules{o}
	c := &database.Clients{
		Users:     users.NewClient(users.Driver(set.Get("users").Driver)),
		Analytics: analytics.NewClient(analytics.Driver(set.Get("analytics").Driver)),
		Logs:      logs.NewClient(logs.Driver(set.Get("logs").Driver)),
	}
	c.Users.User.Intercept(usersintercept.TraverseUser(r.users))
	c.Users.User.Use(r.userMutation)
	c.Users.Session.Intercept(usersintercept.TraverseSession(r.sessions))
	c.Users.Session.Use(r.sessionMutation)
	c.Analytics.Event.Intercept(analyticsintercept.TraverseEvent(r.events))
	c.Analytics.Event.Use(r.eventMutation)
	c.Logs.LogEntry.Intercept(logsintercept.TraverseLogEntry(r.logEntries))
	c.Logs.LogEntry.Use(r.logEntryMutation)
	return c
}

type rules struct{ Options }

// errNoViewer is a bug: a statement of the graph with a context that did not come from a
// request. It is refused rather than run unchecked.
var errNoViewer = &apierror.Error{Code: apierror.Internal, Message: "internal error", Cause: errors.New("access: no viewer in the context")}

// ErrLogIn is the error of an anonymous caller that reaches data.
var ErrLogIn = apierror.Unauthenticatedf("log in first: send Authorization: Bearer <token> from logIn or signUp")

// scope returns the viewer whose rows a statement is limited to; all is true when it is not
// limited (an admin, or the system).
func scope(ctx context.Context) (v auth.Viewer, all bool, err error) {
	if auth.IsSystem(ctx) {
		return v, true, nil
	}
	v, ok := auth.FromContext(ctx)
	switch {
	case !ok:
		return v, false, errNoViewer
	case v.Anonymous():
		return v, false, ErrLogIn
	case v.Admin():
		return v, true, nil
	}
	return v, false, nil
}

func (rules) users(ctx context.Context, q *users.UserQuery) error {
	v, all, err := scope(ctx)
	if err != nil || all {
		return err
	}
	q.Where(user.ID(v.UserID))
	return nil
}

// sessions are their user's alone, whatever the role: only the system sees all of them.
func (rules) sessions(ctx context.Context, q *users.SessionQuery) error {
	if auth.IsSystem(ctx) {
		return nil
	}
	v, _, err := scope(ctx)
	if err != nil {
		return err
	}
	q.Where(session.UserID(v.UserID))
	return nil
}

func (rules) events(ctx context.Context, q *analytics.EventQuery) error {
	v, all, err := scope(ctx)
	if err != nil || all {
		return err
	}
	q.Where(event.UserID(v.UserID))
	return nil
}

func (rules) logEntries(ctx context.Context, q *logs.LogEntryQuery) error {
	v, all, err := scope(ctx)
	if err != nil || all {
		return err
	}
	q.Where(logentry.UserID(v.UserID))
	return nil
}

// userMutation: admins manage users; a USER may change their own name and email, and delete
// their own account, but neither create users nor touch a role.
func (rules) userMutation(next users.Mutator) users.Mutator {
	return usershook.UserFunc(func(ctx context.Context, m *users.UserMutation) (users.Value, error) {
		v, all, err := scope(ctx)
		if err != nil {
			return nil, err
		}
		if !all {
			if m.Op().Is(users.OpCreate) {
				return nil, apierror.Forbiddenf("only an admin may create users")
			}
			if _, ok := m.Role(); ok {
				return nil, apierror.Forbiddenf("only an admin may change a role")
			}
			m.Where(user.ID(v.UserID))
		}
		return next.Mutate(ctx, m)
	})
}

// sessionMutation: only the system issues sessions; a viewer may revoke their own.
func (rules) sessionMutation(next users.Mutator) users.Mutator {
	return usershook.SessionFunc(func(ctx context.Context, m *users.SessionMutation) (users.Value, error) {
		if auth.IsSystem(ctx) {
			return next.Mutate(ctx, m)
		}
		v, _, err := scope(ctx)
		if err != nil {
			return nil, err
		}
		if m.Op().Is(users.OpCreate) {
			return nil, apierror.Forbiddenf("sessions are issued by logIn and signUp only")
		}
		m.Where(session.UserID(v.UserID))
		return next.Mutate(ctx, m)
	})
}

// eventMutation: a USER records and deletes their own events; an anonymous caller records
// events of AnonymousUser when AnonymousTracking is on. Events are never updated.
func (r rules) eventMutation(next analytics.Mutator) analytics.Mutator {
	return analyticshook.EventFunc(func(ctx context.Context, m *analytics.EventMutation) (analytics.Value, error) {
		if auth.IsSystem(ctx) {
			return next.Mutate(ctx, m)
		}
		if v, ok := auth.FromContext(ctx); ok && v.Anonymous() && r.AnonymousTracking && m.Op().Is(analytics.OpCreate) {
			if id, _ := m.UserID(); id != AnonymousUser {
				return nil, apierror.Unauthenticatedf("log in to track events of a user; anonymous events take the userID %s", AnonymousUser)
			}
			return next.Mutate(ctx, m)
		}
		v, all, err := scope(ctx)
		if err != nil {
			return nil, err
		}
		if all {
			return next.Mutate(ctx, m)
		}
		switch {
		case m.Op().Is(analytics.OpCreate):
			if id, _ := m.UserID(); id != v.UserID {
				return nil, apierror.Forbiddenf("you may track your own events only (userID %s)", v.UserID)
			}
		case m.Op().Is(analytics.OpUpdate | analytics.OpUpdateOne):
			return nil, apierror.Forbiddenf("events cannot be changed")
		default:
			m.Where(event.UserID(v.UserID))
		}
		return next.Mutate(ctx, m)
	})
}

// logEntryMutation: a USER writes and deletes log entries about themselves only.
func (rules) logEntryMutation(next logs.Mutator) logs.Mutator {
	return logshook.LogEntryFunc(func(ctx context.Context, m *logs.LogEntryMutation) (logs.Value, error) {
		v, all, err := scope(ctx)
		if err != nil {
			return nil, err
		}
		if !all {
			switch {
			case m.Op().Is(logs.OpCreate):
				if id, ok := m.UserID(); !ok || id != v.UserID {
					return nil, apierror.Forbiddenf("you may write log entries about yourself only (userID %s)", v.UserID)
				}
			case m.Op().Is(logs.OpUpdate | logs.OpUpdateOne):
				return nil, apierror.Forbiddenf("log entries cannot be changed")
			default:
				m.Where(logentry.UserID(v.UserID))
			}
		}
		return next.Mutate(ctx, m)
	})
}
