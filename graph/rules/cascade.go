package rules

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/analytics/event"
	"github.com/multidb/multidb/ent/logs/logentry"
	"github.com/multidb/multidb/ent/users/user"
	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/internal/database"
)

// Removed is how many rows DeleteUser removed in one database.
type Removed struct {
	Database string
	Rows     int
}

// dependent is a table in another database whose rows belong to a user.
type dependent struct {
	database string
	what     string // the rows, as the error names them
	delete   func(ctx context.Context, c *database.Clients, id uuid.UUID) (int, error)
}

// dependents lists every table that refers to users.User; no foreign key enforces it.
var dependents = []dependent{
	{"analytics", "events", func(ctx context.Context, c *database.Clients, id uuid.UUID) (int, error) {
		return c.Analytics.Event.Delete().Where(event.UserID(id)).Exec(ctx)
	}},
	{"logs", "log entries", func(ctx context.Context, c *database.Clients, id uuid.UUID) (int, error) {
		return c.Logs.LogEntry.Delete().Where(logentry.UserID(id)).Exec(ctx)
	}},
}

// DeleteUser deletes a user's rows in every other database, all at once, then the user. No
// transaction spans databases, so the order makes it safe to repeat: when a database fails,
// the others are still cleaned, the user is kept (so that the id still names the leftovers),
// the error says what is left, and calling DeleteUser again finishes the job. A user that is
// gone but left rows behind is cleaned up too; NOT_FOUND means there was nothing to delete.
func DeleteUser(ctx context.Context, c *database.Clients, id uuid.UUID) ([]Removed, error) {
	removed := make([]Removed, len(dependents)+1)
	errs := make([]error, len(dependents))
	var wg sync.WaitGroup
	for i, d := range dependents {
		removed[i].Database = d.database
		wg.Go(func() { removed[i].Rows, errs[i] = d.delete(ctx, c, id) })
	}
	wg.Wait()
	var left []string
	for i, err := range errs {
		if err != nil {
			left = append(left, fmt.Sprintf("%s (%s database)", dependents[i].what, dependents[i].database))
			errs[i] = apierror.Database(dependents[i].database, err)
		}
	}
	if len(left) > 0 {
		msg := fmt.Sprintf("user %s was not deleted: could not delete their %s; ", id, strings.Join(left, " and "))
		if len(left) < len(dependents) {
			msg += "their other rows are deleted; "
		}
		return nil, &apierror.Error{
			Code:    apierror.Internal,
			Message: msg + "run deleteUser again to finish",
			Cause:   errors.Join(errs...),
		}
	}
	n, err := c.Users.User.Delete().Where(user.ID(id)).Exec(ctx)
	if err != nil {
		return nil, &apierror.Error{
			Code:    apierror.Internal,
			Message: fmt.Sprintf("user %s was not deleted: the users database failed; their other rows are deleted; run deleteUser again to finish", id),
			Cause:   err,
		}
	}
	removed[len(dependents)] = Removed{Database: "users", Rows: n}
	total := 0
	for _, r := range removed {
		total += r.Rows
	}
	if total == 0 {
		return nil, apierror.NotFoundf("user %s not found", id)
	}
	return removed, nil
}
