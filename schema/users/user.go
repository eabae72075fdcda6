// Package users holds the ent schema of the users database: accounts, roles and sessions.
package users

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/multidb/multidb/schema/mixin"
	"github.com/multidb/multidb/schema/xdb"
)

// User is an account. Its ID is the key the analytics and logs databases refer to.
type User struct {
	ent.Schema
}

// Mixin gives the User its UUID v7 primary key.
func (User) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{}}
}

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("email").
			MaxLen(254).
			Validate(ValidateEmail).
			Annotations(entgql.OrderField("EMAIL")),
		field.String("name").
			MinLen(1).
			MaxLen(100).
			Annotations(entgql.OrderField("NAME")),
		field.Enum("role").
			Values("USER", "ADMIN").
			Default("USER").
			Annotations(xdb.Values(map[string]string{
				"USER":  "Reads and writes their own rows only.",
				"ADMIN": "Reads and writes every row, audit entries included, and manages roles.",
			})),
		// The hash never reaches the graph; entgql.Skip keeps it out of types, inputs and filters.
		field.String("password_hash").
			Optional().
			Sensitive().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("created_at").
			Default(mixin.Now).
			Immutable().
			Annotations(
				entgql.OrderField("CREATED_AT"),
				entgql.Skip(entgql.SkipMutationCreateInput),
			),
		field.Time("updated_at").
			Default(mixin.Now).
			UpdateDefault(mixin.Now).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges of the User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		// Deleting a user ends its sessions.
		edge.To("sessions", Session.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	// Emails are stored lower-cased (see Hooks), so a plain unique index is case-insensitive.
	return []ent.Index{index.Fields("email").Unique()}
}

// Hooks of the User.
func (User) Hooks() []ent.Hook {
	return []ent.Hook{normalizeEmail}
}

// Annotations of the User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField().Description("Accounts, in pages: an admin sees every user, a USER only themselves."),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
		// A user owns their own row. createUser (with a password) and deleteUser (with the
		// cascade's report) are written by hand.
		xdb.Policy(xdb.OwnedBy("id"), xdb.AdminSets("role"), xdb.CustomMutations()),
	}
}

// ValidateEmail accepts a bare address such as ada@example.com.
func ValidateEmail(s string) error {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return fmt.Errorf("%q is not an email address", s)
	}
	return nil
}

// emailSetter is the part of the generated user mutation the hook needs.
type emailSetter interface {
	Email() (string, bool)
	SetEmail(string)
}

// normalizeEmail lower-cases and trims the email on every create and update, so that
// uniqueness and log-in lookups ignore case on every engine.
func normalizeEmail(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		if em, ok := m.(emailSetter); ok {
			if email, ok := em.Email(); ok {
				em.SetEmail(strings.ToLower(strings.TrimSpace(email)))
			}
		}
		return next.Mutate(ctx, m)
	})
}
