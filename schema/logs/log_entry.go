// Package logs holds the ent schema of the logs database: request, audit and client logs.
package logs

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"github.com/multidb/multidb/schema/mixin"
	"github.com/multidb/multidb/schema/xdb"
)

// LogEntry is one line of a request, audit or client log.
type LogEntry struct {
	ent.Schema
}

// Mixin gives the LogEntry its UUID v7 primary key.
func (LogEntry) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{}}
}

// Fields of the LogEntry.
func (LogEntry) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("level").
			Values("DEBUG", "INFO", "WARN", "ERROR").
			Annotations(xdb.Values(map[string]string{
				"DEBUG": "Detail for developers while debugging.",
				"INFO":  "Normal operation worth recording.",
				"WARN":  "Something unexpected that did not stop the operation.",
				"ERROR": "An operation failed.",
			})).
			Default("INFO").
			Immutable().
			Annotations(entgql.OrderField("LEVEL")),
		field.Text("message").
			NotEmpty().
			MaxLen(10_000).
			Immutable(),
		field.JSON("fields", map[string]any{}).
			Optional().
			Immutable().
			SchemaType(map[string]string{dialect.Postgres: "jsonb"}),
		// user_id refers to users.User; no foreign key crosses databases, the graph joins them.
		field.UUID("user_id", uuid.UUID{}).
			Optional().
			Nillable().
			Immutable().
			Annotations(xdb.Ref("users.User").Field("user").Inverse("logs").
				InverseComment("The user's log entries, from the logs database, with the arguments of Query.logEntries.")),
		field.String("request_id").
			Optional().
			Nillable().
			MaxLen(128).
			Immutable(),
		field.Time("created_at").
			Default(mixin.Now).
			Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
	}
}

// Indexes of the LogEntry.
func (LogEntry) Indexes() []ent.Index {
	return []ent.Index{
		// "latest logs of a user", and the per-user windows of stitched queries.
		index.Fields("user_id", "created_at"),
		// The per-user pages in the default order (by id) stop after their LIMIT on this
		// index instead of sorting every row of the user.
		index.Fields("user_id", "id"),
		index.Fields("level", "created_at"),
		index.Fields("created_at"),
		index.Fields("request_id"),
	}
}

// Annotations of the LogEntry.
func (LogEntry) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField().Description("Request and client log entries, in pages: an admin sees every entry, a USER their own."),
		entgql.Mutations(entgql.MutationCreate()),
		// createLogEntry is written by hand: a USER's entries default to themselves.
		xdb.Policy(xdb.OwnedBy("user_id"), xdb.Immutable(), xdb.CustomMutations()),
	}
}
