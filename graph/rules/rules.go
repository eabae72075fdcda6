// Package rules holds what the graph's mutations must check beyond the ent schemas' own
// validators: size limits, the existence of users in another database, and the cascade that
// deletes a user from every database.
package rules

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/analytics"
	"github.com/multidb/multidb/ent/logs"
	"github.com/multidb/multidb/ent/users"
	"github.com/multidb/multidb/ent/users/predicate"
	"github.com/multidb/multidb/graph/access"
	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/schema/mixin"
)

const (
	// MaxJSONBytes bounds a JSON value (event properties, log fields) once serialized: large
	// blobs belong in object storage, and append-heavy tables stay compact.
	MaxJSONBytes = 16 << 10
	// MaxBatch bounds trackEvents: one INSERT of 1,000 rows stays far below every engine's
	// bind-parameter limit (on PostgreSQL it binds one array per column, see insertRows).
	MaxBatch = 1000
)

// CheckJSON refuses a JSON object that serializes to more than MaxJSONBytes. A value whose
// size cannot reach the bound (jsonSizeBound) is passed without serializing it.
func CheckJSON(field string, v map[string]any) error {
	if v == nil {
		return nil
	}
	if n, ok := jsonSizeBound(v, 0); ok && n <= MaxJSONBytes {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return apierror.BadInput("%s: %v", field, err)
	}
	if len(b) > MaxJSONBytes {
		return apierror.BadInput("%s: %d bytes serialized, at most %d allowed", field, len(b), MaxJSONBytes)
	}
	return nil
}

// CheckEvents checks a batch of events: its size, each one's properties, and that every user
// it names exists, with one lookup for all of them.
func CheckEvents(ctx context.Context, c *users.Client, inputs []*analytics.CreateEventInput) error {
	if len(inputs) > MaxBatch {
		return apierror.BadInput("at most %d events per call, got %d", MaxBatch, len(inputs))
	}
	ids := make([]uuid.UUID, 0, len(inputs))
	for i, in := range inputs {
		if n, ok := jsonSizeBound(in.Properties, 0); !ok || n > MaxJSONBytes {
			// Named by its place in the batch only when it may be refused: the name costs
			// an allocation per event.
			field := "properties"
			if len(inputs) > 1 {
				field = fmt.Sprintf("inputs[%d].properties", i)
			}
			if err := CheckJSON(field, in.Properties); err != nil {
				return err
			}
		}
		if in.OccurredAt != nil {
			// What is stored, so that the answer equals what a later read returns.
			*in.OccurredAt = mixin.StoredTime(*in.OccurredAt)
		}
		if in.UserID == access.AnonymousUser {
			// Events of anonymous callers name no account (package access decides who
			// may record them).
			continue
		}
		ids = append(ids, in.UserID)
	}
	return UsersExist(ctx, c, ids)
}

// CheckLogEntry checks a log entry's fields, and sets its time to what is stored. Its user is
// not looked up: a log line must not fail, or wait on another database, because of whom it
// mentions.
func CheckLogEntry(in *logs.CreateLogEntryInput) error {
	if in.CreatedAt != nil {
		*in.CreatedAt = mixin.StoredTime(*in.CreatedAt)
	}
	return CheckJSON("fields", in.Fields)
}

// UsersExist returns BAD_USER_INPUT naming the first of ids that is no user, after one query
// when all exist.
func UsersExist(ctx context.Context, c *users.Client, ids []uuid.UUID) error {
	distinct := slices.Clone(ids)
	slices.SortFunc(distinct, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	distinct = slices.Compact(distinct)
	if len(distinct) == 0 {
		return nil
	}
	// A count answers the usual case, every user found, without sending the ids back; their
	// list is read only to name one that is missing.
	q := c.User.Query().Where(predicate.User(idIn(distinct)))
	n, err := q.Clone().Count(ctx)
	if err != nil {
		return apierror.Database("users", err)
	}
	if n == len(distinct) {
		return nil
	}
	found, err := q.IDs(ctx)
	if err != nil {
		return apierror.Database("users", err)
	}
	// A set, not a scan of found per id: a batch names up to MaxBatch users.
	exists := make(map[uuid.UUID]struct{}, len(found))
	for _, id := range found {
		exists[id] = struct{}{}
	}
	for _, id := range ids {
		if _, ok := exists[id]; !ok {
			return apierror.BadInput("user %s does not exist", id)
		}
	}
	return nil
}

// UserError turns the error of saving a user into what the client should see: the unique
// index on email is the only constraint of the users table.
func UserError(err error) error {
	if database.UniqueViolation(err) {
		return apierror.BadInput("email already in use")
	}
	return apierror.Database("users", err)
}
