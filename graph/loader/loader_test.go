package loader_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/multidb/multidb/ent/users"
	"github.com/multidb/multidb/graph/access"
	"github.com/multidb/multidb/graph/loader"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/testdb"
)

// TestLoadersApplyTheViewersRules asks the loaders, in one batch, for the events and log
// entries of two users, as a USER who is one of them: the window statements are built on the
// clients of package access, so the other user's rows are not there, whatever keys the batch
// holds.
func TestLoadersApplyTheViewersRules(t *testing.T) {
	t.Parallel()
	for _, dialect := range testdb.Dialects(t) {
		t.Run(testdb.Name(dialect), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			set := testdb.OpenMigrated(t, dialect)
			var us []*users.User
			for _, email := range []string{"a@example.com", "b@example.com"} {
				u, err := set.Users.User.Create().SetEmail(email).SetName(email).Save(ctx)
				if err != nil {
					t.Fatal(err)
				}
				us = append(us, u)
				for _, name := range []string{"one", "two"} {
					if err := set.Analytics.Event.Create().SetUserID(u.ID).SetName(name).Exec(ctx); err != nil {
						t.Fatal(err)
					}
				}
				if err := set.Logs.LogEntry.Create().SetUserID(u.ID).SetMessage("hello").Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			a, b := us[0], us[1]
			clients := access.Clients(set, access.Options{})

			// load asks for the events and logs of both users at once and returns their counts.
			load := func(ctx context.Context) (events, logs [2]int, err error) {
				l := loader.New(clients, time.Millisecond)
				l.Register(a, b)
				var wg sync.WaitGroup
				var mu sync.Mutex
				for i, u := range us {
					wg.Go(func() {
						ev, e1 := l.UserEvents(ctx, u, loader.UserEventsArgs{})
						lg, e2 := l.UserLogs(ctx, u, loader.UserLogsArgs{})
						mu.Lock()
						defer mu.Unlock()
						if e1 != nil || e2 != nil {
							err = firstErr(e1, e2)
							return
						}
						events[i], logs[i] = len(ev.Edges), len(lg.Edges)
					})
				}
				wg.Wait()
				return events, logs, err
			}

			asA := auth.NewContext(ctx, auth.Viewer{UserID: a.ID, Role: auth.RoleUser})
			events, logs, err := load(asA)
			if err != nil {
				t.Fatal(err)
			}
			if events != [2]int{2, 0} || logs != [2]int{1, 0} {
				t.Errorf("as user a: events %v, logs %v; want a's alone ([2 0], [1 0])", events, logs)
			}

			asAdmin := auth.NewContext(ctx, auth.Viewer{UserID: b.ID, Role: auth.RoleAdmin})
			if events, logs, err = load(asAdmin); err != nil || events != [2]int{2, 2} || logs != [2]int{1, 1} {
				t.Errorf("as an admin: events %v, logs %v, err %v; want every row", events, logs, err)
			}

			// Event.user of b's event, asked by a: as if b did not exist.
			ev, err := set.Analytics.Event.Query().First(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ev.UserID = b.ID
			if u, err := loader.New(clients, time.Millisecond).EventUser(asA, ev); err != nil || u != nil {
				t.Errorf("Event.user of another user's event: got %v, %v; want nil", u, err)
			}

			// Without a viewer, nothing is read: a context that did not come from a request.
			if _, _, err := load(ctx); err == nil {
				t.Error("loaded rows with no viewer in the context")
			}
		})
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
