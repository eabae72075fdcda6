package rules

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/internal/database"
)

// Removed is how many rows Delete removed in one database.
type Removed struct {
	Database string
	Rows     int
}

// dependent deletes rows of one table: a row by id, or the rows that refer to one.
// xdb_cascade.go lists them, from the schemas' xdb.Ref declarations.
type dependent struct {
	database string
	what     string // the rows, as the error names them
	delete   func(ctx context.Context, c *database.Clients, id uuid.UUID) (int, error)
}

// DeleteUser deletes a user with the rows of other databases that belong to them.
func DeleteUser(ctx context.Context, c *database.Clients, id uuid.UUID) ([]Removed, error) {
	return Delete(ctx, c, "users.User", id)
}

// Delete deletes the row of typ ("users.User") whose id is id, after the rows of other
// databases that refer to it with xdb.Cascade, all at once. No transaction spans databases,
// so the order makes it safe to repeat: when a database fails, the others are still cleaned,
// the row is kept (so that the id still names the leftovers), the error says what is left,
// and calling Delete again finishes the job. A row that is gone but left rows behind is
// cleaned up too; NOT_FOUND means there was nothing to delete.
func Delete(ctx context.Context, c *database.Clients, typ string, id uuid.UUID) ([]Removed, error) {
	self, ok := rows[typ]
	if !ok {
		return nil, &apierror.Error{Code: apierror.Internal, Message: "internal error", Cause: fmt.Errorf("rules: %s is no type of the graph", typ)}
	}
	deps := dependents[typ]
	_, name, _ := strings.Cut(typ, ".") // "User", for the messages
	again := "run delete" + name + " again to finish"
	removed := make([]Removed, len(deps)+1)
	errs := make([]error, len(deps))
	var wg sync.WaitGroup
	for i, d := range deps {
		removed[i].Database = d.database
		wg.Go(func() { removed[i].Rows, errs[i] = d.delete(ctx, c, id) })
	}
	wg.Wait()
	var left []string
	for i, err := range errs {
		if err != nil {
			left = append(left, fmt.Sprintf("%s (%s database)", deps[i].what, deps[i].database))
			errs[i] = apierror.Database(deps[i].database, err)
		}
	}
	if len(left) > 0 {
		msg := fmt.Sprintf("%s %s was not deleted: could not delete their %s; ", name, id, strings.Join(left, " and "))
		if len(left) < len(deps) {
			msg += "their other rows are deleted; "
		}
		return nil, &apierror.Error{
			Code:    apierror.Internal,
			Message: msg + again,
			Cause:   errors.Join(errs...),
		}
	}
	n, err := self.delete(ctx, c, id)
	if err != nil {
		if code := apierror.CodeOf(err); code == apierror.Forbidden || code == apierror.Unauthenticated {
			return nil, err
		}
		msg := fmt.Sprintf("%s %s was not deleted: the %s database failed; ", name, id, self.database)
		if len(deps) > 0 {
			msg += "their other rows are deleted; "
		}
		return nil, &apierror.Error{Code: apierror.Internal, Message: msg + again, Cause: err}
	}
	removed[len(deps)] = Removed{Database: self.database, Rows: n}
	total := 0
	for _, r := range removed {
		total += r.Rows
	}
	if total == 0 {
		return nil, apierror.NotFoundf("%s %s not found", name, id)
	}
	return removed, nil
}
