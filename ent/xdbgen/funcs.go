package xdbgen

import (
	"fmt"
	"strings"
	"text/template"

	"entgo.io/ent/entc/gen"
)

var (
	pascal = gen.Funcs["pascal"].(func(string) string)
	camel  = gen.Funcs["camel"].(func(string) string)
	snake  = gen.Funcs["snake"].(func(string) string)
	plural = gen.Funcs["plural"].(func(string) string)
)

var funcs = template.FuncMap{
	"pascal": pascal,
	"camel":  camel,
	"quote":  func(s string) string { return fmt.Sprintf("%q", s) },
	"gostr":  func(v any) string { return fmt.Sprintf("%#v", v) },
	"module": func() string { return Module },
	"doc":    doc,
	"types":  AllTypes,
	"edges":  AllEdges,
}

// doc is a GraphQL description block, indented by two spaces.
func doc(s string) string {
	return "  \"\"\"\n  " + strings.ReplaceAll(s, "\n", "\n  ") + "\n  \"\"\""
}

// Client is the field of database.Clients that holds the database's client ("Users").
func (db *Database) Client() string { return pascal(db.Name) }

// Import is the import path of the database's ent client.
func (db *Database) Import() string { return Module + "/ent/" + db.Name }

// GraphTypes are the types of the database that are part of the graph.
func (db *Database) GraphTypes() []*Type {
	var out []*Type
	for _, t := range db.Types {
		if t.InGraph {
			out = append(out, t)
		}
	}
	return out
}

// Key is "users.User".
func (t *Type) Key() string { return t.DB.Name + "." + t.Name }

// GoType is the Go type of an entity, "users.User" (used as *users.User).
func (t *Type) GoType() string { return t.DB.Name + "." + t.Name }

// Entity is the import alias of the type's own package, unique across databases ("usersuser").
func (t *Type) Entity() string { return t.DB.Name + t.Node.Package() }

// EntityImport is the import path of the type's own package.
func (t *Type) EntityImport() string { return t.DB.Import() + "/" + t.Node.Package() }

// Client is the expression of the type's client in a *database.Clients c: "c.Users.User".
func (t *Type) Client(c string) string { return c + "." + t.DB.Client() + "." + t.Name }

// What names the type's rows in a sentence: "log entries".
func (t *Type) What() string { return strings.ReplaceAll(snake(plural(t.Name)), "_", " ") }

// Generated reports whether generation writes the type's mutations.
func (t *Type) Generated() bool { return t.InGraph && t.Policy.Generated() }

// Updatable reports whether the type gets an update mutation.
func (t *Type) Updatable() bool { return t.Generated() && t.Update && t.Policy.Updatable() }

// Creatable reports whether the type gets a create mutation.
func (t *Type) Creatable() bool { return t.Generated() && t.Create }

// OwnerSetter is the create builder's setter of the owner field ("SetUserID"), or "" when the
// server does not set an owner on create.
func (t *Type) OwnerSetter() string {
	if t.Policy.Kind != "owned" || t.Policy.Owner == "id" {
		return ""
	}
	if f := fieldOf(t.Node, t.Policy.Owner); f != nil {
		return "Set" + f.StructField()
	}
	return ""
}

// Public reports whether anyone may read the type, signed in or not.
func (t *Type) Public() bool { return t.Policy.Kind == "public" }

// Cascading are the references whose rows are deleted with a row of this type.
func (t *Type) Cascading() []*Edge {
	var out []*Edge
	for _, e := range t.Referrers {
		if e.Cascades() {
			out = append(out, e)
		}
	}
	return out
}

// Forward is the name of the field that resolves to the target, "Event.user".
func (e *Edge) Forward() string { return e.Child.Name + "." + e.Name }

// ForwardGo is the Go name of the forward field, "EventUser".
func (e *Edge) ForwardGo() string { return e.Child.Name + pascal(e.Name) }

// InverseEdge is the name of the connection on the target, "User.events".
func (e *Edge) InverseEdge() string { return e.Target.Name + "." + e.Inverse }

// InverseGo is the Go name of the connection, "UserEvents".
func (e *Edge) InverseGo() string { return e.Target.Name + pascal(e.Inverse) }

// Nillable reports whether the field is a pointer in the entity.
func (e *Edge) Nillable() bool { return e.Field.Nillable }

// GoField is the entity's struct field, "UserID".
func (e *Edge) GoField() string { return e.Field.StructField() }

// Column is the field's column constant in the entity package, "analyticsevent.FieldUserID".
func (e *Edge) Column() string { return e.Child.Entity() + "." + e.Field.Constant() }

// Cascades reports whether deleting the target deletes the referring rows.
func (e *Edge) Cascades() bool { return e.Deletes == "cascade" }

// AllTypes returns the graph's types of every database.
func AllTypes(dbs []*Database) []*Type {
	var out []*Type
	for _, db := range dbs {
		out = append(out, db.GraphTypes()...)
	}
	return out
}

// AllEdges returns every reference of every database.
func AllEdges(dbs []*Database) []*Edge {
	var out []*Edge
	for _, db := range dbs {
		for _, t := range db.Types {
			out = append(out, t.Refs...)
		}
	}
	return out
}
