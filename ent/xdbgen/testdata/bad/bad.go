// Package bad holds schemas whose declarations generation must refuse.
package bad

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"github.com/google/uuid"

	"github.com/multidb/multidb/schema/mixin"
	"github.com/multidb/multidb/schema/xdb"
)

// Unguarded declares no policy.
type Unguarded struct{ ent.Schema }

func (Unguarded) Mixin() []ent.Mixin { return []ent.Mixin{mixin.ID{}} }

func (Unguarded) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.QueryField()}
}

// Dangling refers to a type that does not exist, and owns rows by a field that is not there.
type Dangling struct{ ent.Schema }

func (Dangling) Mixin() []ent.Mixin { return []ent.Mixin{mixin.ID{}} }

func (Dangling) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("team_id", uuid.UUID{}).Annotations(xdb.Ref("nowhere.Team")),
		field.UUID("user_id", uuid.UUID{}).Annotations(xdb.Ref("bad.Unguarded").Inverse("danglings")),
	}
}

func (Dangling) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.QueryField(), xdb.Policy(xdb.OwnedBy("owner_id"))}
}
