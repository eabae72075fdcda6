package logs

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"github.com/multidb/multidb/schema/mixin"
	"github.com/multidb/multidb/schema/xdb"
)

// AuditEntry records one mutation: who did it, what it was, and how it ended. Only the server
// writes audit entries (internal/audit), so no input can make one up; only admins read them,
// and deleting a user keeps them, since they record what happened, not the user's data.
type AuditEntry struct {
	ent.Schema
}

// Mixin gives the AuditEntry its UUID v7 primary key.
func (AuditEntry) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{}}
}

// Fields of the AuditEntry.
func (AuditEntry) Fields() []ent.Field {
	return []ent.Field{
		// actor_id refers to users.User, or is null for a caller who was not signed in.
		field.UUID("actor_id", uuid.UUID{}).
			Optional().
			Nillable().
			Immutable().
			Annotations(xdb.Ref("users.User").Field("actor").OnDelete(xdb.Keep)),
		field.String("role").
			Optional().
			Nillable().
			MaxLen(16).
			Immutable(),
		field.String("operation").
			MaxLen(128).
			Immutable().
			Annotations(entgql.OrderField("OPERATION")),
		field.String("outcome").
			MaxLen(64).
			Immutable(),
		// target is an id, a count, or a digest of a log-in's email: never an address.
		field.String("target").
			Optional().
			Nillable().
			MaxLen(256).
			Immutable(),
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

// Indexes of the AuditEntry.
func (AuditEntry) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("actor_id", "created_at"),
		index.Fields("created_at"),
	}
}

// Annotations of the AuditEntry.
func (AuditEntry) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField().Description("Audit entries of every mutation, in pages; admins only."),
		xdb.Policy(xdb.AdminOnly(), xdb.ReadOnly()),
	}
}
