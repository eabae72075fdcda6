package database

import (
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"

	"github.com/multidb/multidb/ent/analytics"
	analyticsmigrate "github.com/multidb/multidb/ent/analytics/migrate"
	"github.com/multidb/multidb/ent/logs"
	logsmigrate "github.com/multidb/multidb/ent/logs/migrate"
	"github.com/multidb/multidb/ent/users"
	usersmigrate "github.com/multidb/multidb/ent/users/migrate"
	// The users schema has hooks, so ent puts its defaults and hooks in a runtime package
	// that must be linked wherever the client is used.
	_ "github.com/multidb/multidb/ent/users/runtime"
)

// Spec describes one database multidb serves. Registry is the only list of them: everything
// that loops over databases (config, migrations, seeds, health) loops over it.
type Spec struct {
	// Name is the database's name in commands (--db users), env variables
	// (USERS_DATABASE_URL), migration directories (migrate/users/) and errors.
	Name string
	// Tables is the ent schema, which migrations are diffed against.
	Tables []*schema.Table
	// attach builds the typed ent client on a driver and stores it in Clients.
	attach func(*Clients, dialect.Driver)
}

// Clients holds the typed ent client of every database.
type Clients struct {
	Users     *users.Client
	Analytics *analytics.Client
	Logs      *logs.Client
}

// Registry lists the databases in the order they are opened, migrated and seeded.
var Registry = []Spec{
	{
		Name:   "users",
		Tables: usersmigrate.Tables,
		attach: func(c *Clients, d dialect.Driver) { c.Users = users.NewClient(users.Driver(d)) },
	},
	{
		Name:   "analytics",
		Tables: analyticsmigrate.Tables,
		attach: func(c *Clients, d dialect.Driver) { c.Analytics = analytics.NewClient(analytics.Driver(d)) },
	},
	{
		Name:   "logs",
		Tables: logsmigrate.Tables,
		attach: func(c *Clients, d dialect.Driver) { c.Logs = logs.NewClient(logs.Driver(d)) },
	},
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
