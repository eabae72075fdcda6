package database

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	"github.com/google/uuid"

	"github.com/multidb/multidb/schema/xdb"
)

// Spec describes one database multidb serves. Registry (registry_gen.go, generated from the
// packages under schema/) is the only list of them: everything that loops over databases
// (config, migrations, seeds, health, the graph's access rules and node lookups) loops over it.
type Spec struct {
	// Name is the database's name in commands (--db users), env variables
	// (USERS_DATABASE_URL), migration directories (migrate/users/) and errors.
	Name string
	// Tables is the ent schema, which migrations are diffed against.
	Tables []*schema.Table
	// Types are the ent types of the database, with their declared policies.
	Types []Type
	// Attach builds the typed ent client on a driver and stores it in c.
	Attach func(c *Clients, d dialect.Driver)
	// Secure installs an interceptor on every query and a hook on every mutation of the
	// database's client in c.
	Secure func(c *Clients, i ent.Interceptor, h ent.Hook)
	// Query gives the type of a query of the database's client and lets a rule narrow it.
	Query func(ent.Query) (Query, error)
	// InputErrors are the client's errors that mean a where input was unusable.
	InputErrors []error
}

// Type is one ent type of a database.
type Type struct {
	Name   string // "User"
	Table  string
	Policy xdb.PolicyAnnotation
	// List is the type's root field in the graph ("users"), or "".
	List string
	// Refs are the type's fields that hold the id of a row in another database.
	Refs []Ref
	// Nodes loads the rows of the given ids, in one statement; nil for types outside the graph.
	Nodes func(ctx context.Context, c *Clients, ids []uuid.UUID) ([]any, error)
}

// Ref is a field that holds the id of a row in another database (schema/xdb.Ref).
type Ref struct {
	Column  string // "user_id"
	Field   string // the GraphQL field that resolves to the row: "user"
	Target  string // "users.User"
	Inverse string // the connection on the target: "events", or ""
	Cascade bool   // deleting the target deletes the row
}

// Query is what the access rules need of any query.
type Query interface {
	Type() string
	WhereP(...func(*sql.Selector))
}

// Type returns the named type of the database.
func (s Spec) Type(name string) (Type, bool) {
	for _, t := range s.Types {
		if t.Name == name {
			return t, true
		}
	}
	return Type{}, false
}

// Names returns the names of the registered databases, in registry order.
func Names() []string {
	names := make([]string, len(Registry))
	for i, s := range Registry {
		names[i] = s.Name
	}
	return names
}

// Lookup returns the spec of the named database.
func Lookup(name string) (Spec, bool) {
	for _, s := range Registry {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}

// asAny returns rows as a slice of any, for the node lookups of every type.
func asAny[T any](rows []T, err error) ([]any, error) {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	return out, err
}
