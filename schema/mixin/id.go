// Package mixin holds the ent mixins every database's schemas share.
package mixin

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
	"github.com/google/uuid"
)

// ID is the primary key of every type: a UUID v7. Keys that sort by creation time keep the
// B-tree inserts of append-heavy tables at the right edge, and are unique across databases,
// so node(id:) can look an ID up in every table.
type ID struct {
	mixin.Schema
}

// Fields of the ID mixin.
func (ID) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).
			Default(NewID).
			Immutable(),
	}
}

// NewID returns a new UUID v7.
func NewID() uuid.UUID {
	return uuid.Must(uuid.NewV7())
}
