package auth

import (
	"context"

	"github.com/google/uuid"
)

// Role is what a signed-in user may do; the values are those of users.User's role.
type Role string

// The roles.
const (
	RoleUser  Role = "USER"
	RoleAdmin Role = "ADMIN"
)

// Viewer is who sends a request: a signed-in user with their role, or nobody. The zero
// Viewer is anonymous.
type Viewer struct {
	UserID uuid.UUID // uuid.Nil when anonymous
	Role   Role
	// TokenHash names the session the request came with, so that logging out ends it.
	TokenHash string
	// Self is the viewer's row as the session lookup read it (a *users.User), so that `me`
	// costs no second statement; nil when unknown.
	Self any
}

// Anonymous reports whether nobody is signed in.
func (v Viewer) Anonymous() bool { return v.UserID == uuid.Nil }

// Admin reports whether the viewer is a signed-in administrator.
func (v Viewer) Admin() bool { return !v.Anonymous() && v.Role == RoleAdmin }

// String names the viewer in logs: the user ID, or "anonymous".
func (v Viewer) String() string {
	if v.Anonymous() {
		return "anonymous"
	}
	return v.UserID.String()
}

type (
	viewerKey struct{}
	systemKey struct{}
)

// NewContext returns a copy of ctx that carries v.
func NewContext(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// FromContext returns the viewer ctx carries. ok is false when ctx carries none, which is not
// the same as an anonymous viewer: code that serves requests always sets one.
func FromContext(ctx context.Context) (v Viewer, ok bool) {
	v, ok = ctx.Value(viewerKey{}).(Viewer)
	return v, ok
}

// SystemContext returns a copy of ctx in which the access rules do not apply: for the few
// reads and writes the service makes on its own behalf, such as finding an account by email
// to log in, or checking a session token.
func SystemContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, systemKey{}, true)
}

// IsSystem reports whether ctx was made by SystemContext.
func IsSystem(ctx context.Context) bool {
	on, _ := ctx.Value(systemKey{}).(bool)
	return on
}
