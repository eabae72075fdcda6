// Package analytics holds the ent schema of the analytics database: events a frontend tracks.
package analytics

import (
	"fmt"
	"regexp"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"github.com/multidb/multidb/schema/mixin"
	"github.com/multidb/multidb/schema/xdb"
)

// EventNamePattern is what an event name must look like: "signup", "page.view", "cart:add".
var EventNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.:-]{0,127}$`)

// ValidateEventName checks a name against EventNamePattern and says what was expected.
func ValidateEventName(s string) error {
	if !EventNamePattern.MatchString(s) {
		return fmt.Errorf("%q must start with a letter and hold up to 128 letters, digits and _.:- (%s)", s, EventNamePattern)
	}
	return nil
}

// Event is one thing a user did, as tracked by a frontend.
type Event struct {
	ent.Schema
}

// Mixin gives the Event its UUID v7 primary key.
func (Event) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{}}
}

// Fields of the Event.
func (Event) Fields() []ent.Field {
	return []ent.Field{
		// user_id refers to users.User; no foreign key crosses databases, the graph joins them.
		field.UUID("user_id", uuid.UUID{}).
			Immutable().
			Annotations(
				entgql.OrderField("USER_ID"),
				xdb.Ref("users.User").Field("user").Inverse("events").
					InverseComment("The user's events, from the analytics database, with the arguments of Query.events."),
			),
		field.String("name").
			Validate(ValidateEventName).
			Immutable().
			Annotations(entgql.OrderField("NAME")),
		field.JSON("properties", map[string]any{}).
			Optional().
			Immutable().
			SchemaType(map[string]string{dialect.Postgres: "jsonb"}),
		field.Time("occurred_at").
			Default(mixin.Now).
			Immutable().
			Annotations(entgql.OrderField("OCCURRED_AT")),
	}
}

// Indexes of the Event.
func (Event) Indexes() []ent.Index {
	return []ent.Index{
		// "latest events of a user", and the per-user pages of stitched queries in their
		// usual order (occurred_at, then id): a page stops after its LIMIT, and with the name
		// (PostgreSQL's INCLUDE; at most 128 characters, so within a btree row) it is read
		// from the index alone, where reading each event's row cost 4 of 5 ms for 100 users.
		index.Fields("user_id", "occurred_at", "id").
			Annotations(entsql.IncludeColumns("name")),
		// The per-user pages in the default order (by id) stop after their LIMIT on this
		// index instead of sorting every row of the user.
		index.Fields("user_id", "id"),
		// With the id, entgql's totalCount (COUNT of the id) of a filter by name and time is
		// answered from this index alone; with the user too (PostgreSQL's INCLUDE), a funnel's
		// steps are: it reads no event row.
		index.Fields("name", "occurred_at", "id").
			Annotations(entsql.IncludeColumns("user_id")),
		index.Fields("occurred_at"),
	}
}

// Annotations of the Event.
func (Event) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField().Description("Tracked events, in pages: an admin sees every event, a USER their own."),
		entgql.Mutations(entgql.MutationCreate()),
		// trackEvent and trackEvents are written by hand: they batch, and check the user.
		xdb.Policy(xdb.OwnedBy("user_id"), xdb.Immutable(), xdb.AnonymousCreate(), xdb.CustomMutations()),
	}
}
