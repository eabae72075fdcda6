// Package xdb holds the annotations that declare the graph across databases in the ent schemas:
// who may read and write each type (Policy), and which fields hold the id of a row in another
// database (Ref). `make generate` (ent/xdbgen) turns them into the access rules, the stitched
// fields with their batch loading, node lookups, mutations and the delete cascade.
//
// A type without a Policy fails `make generate`: nothing is readable until a rule opens it.
package xdb

import (
	"encoding/json"
	"strings"

	"entgo.io/ent/schema"
)

// Kind is who may read a type, and so who may write it.
type Kind string

const (
	// KindOwned: a USER reads and writes the rows whose owner field holds their id; an ADMIN
	// all rows. Created rows are owned by whoever creates them.
	KindOwned Kind = "owned"
	// KindAdminOnly: only an ADMIN reads and writes.
	KindAdminOnly Kind = "admin"
	// KindSignedIn: every signed-in user reads; only an ADMIN writes.
	KindSignedIn Kind = "signed-in"
	// KindPublic: everyone reads, signed in or not; only an ADMIN writes.
	KindPublic Kind = "public"
	// KindInternal: the graph neither reads nor writes; only the server itself does (sessions).
	KindInternal Kind = "internal"
)

// PolicyAnnotation is the access policy of one type. Build it with Policy.
type PolicyAnnotation struct {
	Kind Kind `json:"kind"`
	// Owner is the field that holds the owning user's id (KindOwned): "user_id", or "id" for
	// the users themselves.
	Owner string `json:"owner,omitempty"`
	// Immutable: rows are never updated through the graph.
	Immutable bool `json:"immutable,omitempty"`
	// ReadOnly: the graph has no mutation of this type at all.
	ReadOnly bool `json:"readOnly,omitempty"`
	// CustomMutations: the type's mutations are written by hand (graph/schema/mutations.graphqls)
	// instead of generated; the policy still applies to them.
	CustomMutations bool `json:"customMutations,omitempty"`
	// AdminFields may be set by an ADMIN only (a user's role).
	AdminFields []string `json:"adminFields,omitempty"`
	// AnonymousCreate lets callers who are not signed in create rows owned by the anonymous
	// user when the server allows it (ANONYMOUS_TRACKING).
	AnonymousCreate bool `json:"anonymousCreate,omitempty"`
}

// PolicyName is the name of the policy annotation.
const PolicyName = "XDBPolicy"

// Name implements schema.Annotation.
func (PolicyAnnotation) Name() string { return PolicyName }

// PolicyOption adds to a policy.
type PolicyOption func(*PolicyAnnotation)

// Policy declares who may read and write a type:
//
//	func (Invoice) Annotations() []schema.Annotation {
//		return []schema.Annotation{xdb.Policy(xdb.OwnedBy("user_id"), xdb.Immutable())}
//	}
func Policy(opts ...PolicyOption) PolicyAnnotation {
	var p PolicyAnnotation
	for _, o := range opts {
		o(&p)
	}
	return p
}

// OwnedBy: each row belongs to the user whose id is in field; a USER sees and changes their
// own rows only.
//
//	xdb.Policy(xdb.OwnedBy("user_id"))
func OwnedBy(field string) PolicyOption {
	return func(p *PolicyAnnotation) { p.Kind, p.Owner = KindOwned, field }
}

// AdminOnly: only admins read and write the type.
//
//	xdb.Policy(xdb.AdminOnly())
func AdminOnly() PolicyOption { return func(p *PolicyAnnotation) { p.Kind = KindAdminOnly } }

// SignedInRead: every signed-in user reads the type; admins write it.
//
//	xdb.Policy(xdb.SignedInRead())
func SignedInRead() PolicyOption { return func(p *PolicyAnnotation) { p.Kind = KindSignedIn } }

// PublicRead: anyone reads the type, signed in or not; admins write it.
//
//	xdb.Policy(xdb.PublicRead())
func PublicRead() PolicyOption { return func(p *PolicyAnnotation) { p.Kind = KindPublic } }

// Internal: the type stays out of the graph; only the server's own code reads and writes it.
//
//	xdb.Policy(xdb.Internal())
func Internal() PolicyOption { return func(p *PolicyAnnotation) { p.Kind = KindInternal } }

// Immutable: rows are created and deleted, never updated.
//
//	xdb.Policy(xdb.OwnedBy("user_id"), xdb.Immutable())
func Immutable() PolicyOption { return func(p *PolicyAnnotation) { p.Immutable = true } }

// ReadOnly: the graph offers no mutation of the type (rows are written by the server).
//
//	xdb.Policy(xdb.AdminOnly(), xdb.ReadOnly())
func ReadOnly() PolicyOption { return func(p *PolicyAnnotation) { p.ReadOnly = true } }

// CustomMutations: the type's mutations are hand-written in graph/schema/mutations.graphqls;
// generation writes none, and the policy still guards them.
//
//	xdb.Policy(xdb.OwnedBy("user_id"), xdb.CustomMutations())
func CustomMutations() PolicyOption { return func(p *PolicyAnnotation) { p.CustomMutations = true } }

// AdminSets names fields that only an admin may set, such as a role.
//
//	xdb.Policy(xdb.OwnedBy("id"), xdb.AdminSets("role"))
func AdminSets(fields ...string) PolicyOption {
	return func(p *PolicyAnnotation) { p.AdminFields = append(p.AdminFields, fields...) }
}

// AnonymousCreate lets callers who are not signed in create rows owned by the anonymous user,
// when ANONYMOUS_TRACKING is on.
//
//	xdb.Policy(xdb.OwnedBy("user_id"), xdb.AnonymousCreate())
func AnonymousCreate() PolicyOption { return func(p *PolicyAnnotation) { p.AnonymousCreate = true } }

// Generated reports whether generation writes the type's mutations.
func (p PolicyAnnotation) Generated() bool {
	return !p.ReadOnly && !p.CustomMutations && p.Kind != KindInternal
}

// Updatable reports whether the type has an update mutation.
func (p PolicyAnnotation) Updatable() bool { return !p.Immutable }

// OnDelete is what happens to the rows that refer to a deleted row.
type OnDelete string

const (
	// Cascade deletes them with it: they are owned through the reference.
	Cascade OnDelete = "cascade"
	// Keep leaves them, pointing at an id that is gone (the edge then resolves to null).
	Keep OnDelete = "keep"
)

// RefAnnotation marks a field that holds the id of a row in another database. Build it with Ref.
type RefAnnotation struct {
	// Database and Type name the target: "users" and "User" for Ref("users.User").
	Database string `json:"database"`
	Type     string `json:"type"`
	// FieldName is the name of the field on this side that resolves to the target row ("user").
	FieldName string `json:"field,omitempty"`
	// InverseName is the name of the connection on the target's side ("events"); empty for none.
	InverseName string `json:"inverse,omitempty"`
	// InverseDoc describes the inverse field in the schema.
	InverseDoc string `json:"inverseDoc,omitempty"`
	// Deletes is what deleting the target does to the referring rows.
	Deletes OnDelete `json:"onDelete,omitempty"`
}

// RefName is the name of the reference annotation.
const RefName = "XDBRef"

// Name implements schema.Annotation.
func (RefAnnotation) Name() string { return RefName }

// Ref declares that the annotated UUID field holds the id of target ("database.Type"):
//
//	field.UUID("user_id", uuid.UUID{}).
//		Annotations(xdb.Ref("users.User").Field("user").Inverse("events"))
//
// Generation then writes Event.user, User.events (a connection with the arguments of the
// target's own list), their batch loading, and the cascade on delete.
func Ref(target string) RefAnnotation {
	db, typ, _ := strings.Cut(target, ".")
	return RefAnnotation{Database: db, Type: typ, Deletes: Cascade}
}

// Field names the field that resolves to the target row; by default the field's name without
// its _id suffix.
func (r RefAnnotation) Field(name string) RefAnnotation { r.FieldName = name; return r }

// Inverse adds a connection of the referring rows to the target type.
func (r RefAnnotation) Inverse(name string) RefAnnotation { r.InverseName = name; return r }

// InverseComment describes the inverse connection in the GraphQL schema.
func (r RefAnnotation) InverseComment(text string) RefAnnotation { r.InverseDoc = text; return r }

// OnDelete sets what deleting the target does to the referring rows (Cascade by default).
func (r RefAnnotation) OnDelete(d OnDelete) RefAnnotation { r.Deletes = d; return r }

// Decode reads an annotation as generation receives it (JSON of the value above).
func Decode[T any](v any) (T, bool) {
	var out T
	if v == nil {
		return out, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return out, false
	}
	return out, json.Unmarshal(b, &out) == nil
}

// ValuesName is the name of the annotation that describes the values of an enum field.
const ValuesName = "XDBValues"

// ValuesAnnotation gives each value of an enum field its description in the graph. Generation
// refuses an enum field of the graph with a value it does not describe.
type ValuesAnnotation map[string]string

// Name implements schema.Annotation.
func (ValuesAnnotation) Name() string { return ValuesName }

// Values describes the values of an enum field: value → description.
func Values(descriptions map[string]string) ValuesAnnotation { return descriptions }

var (
	_ schema.Annotation = PolicyAnnotation{}
	_ schema.Annotation = RefAnnotation{}
	_ schema.Annotation = ValuesAnnotation{}
)
