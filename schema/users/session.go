package users

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"github.com/multidb/multidb/schema/mixin"
	"github.com/multidb/multidb/schema/xdb"
)

// Session is a logged-in device of a user. Only the SHA-256 of its bearer token is stored.
type Session struct {
	ent.Schema
}

// Mixin gives the Session its UUID v7 primary key.
func (Session) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{}}
}

// Fields of the Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("user_id", uuid.UUID{}).
			Immutable(),
		field.String("token_hash").
			MaxLen(64).
			NotEmpty().
			Sensitive().
			Immutable(),
		field.Time("created_at").
			Default(mixin.Now).
			Immutable(),
		field.Time("expires_at"),
		field.Time("revoked_at").
			Optional().
			Nillable(),
	}
}

// Edges of the Session.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).
			Ref("sessions").
			Field("user_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the Session.
func (Session) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("token_hash").Unique(),
		index.Fields("user_id", "expires_at"),
	}
}

// Annotations of the Session: sessions never appear in the graph; graph/account issues and
// revokes them as the server.
func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll), xdb.Policy(xdb.Internal())}
}
