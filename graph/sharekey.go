package graph

import (
	"context"

	"github.com/multidb/multidb/internal/auth"
)

// ViewerKey names the caller of a statement for database.Share: the signed-in user, or the
// client's address for a caller who is not signed in; "" for the server's own work (the
// audit writer), which is not limited.
func ViewerKey(ctx context.Context) string {
	if v, ok := auth.FromContext(ctx); ok && !v.Anonymous() {
		return "user:" + v.UserID.String()
	}
	if ip := clientIP(ctx); ip != "" {
		return "addr:" + ip
	}
	return ""
}
