package seed_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/seed"
	"github.com/multidb/multidb/internal/testdb"
)

type counts struct{ users, events, logs int }

func count(t *testing.T, set *database.Set) counts {
	t.Helper()
	ctx := context.Background()
	var c counts
	var err error
	if c.users, err = set.Users.User.Query().Count(ctx); err != nil {
		t.Fatal(err)
	}
	if c.events, err = set.Analytics.Event.Query().Count(ctx); err != nil {
		t.Fatal(err)
	}
	if c.logs, err = set.Logs.LogEntry.Query().Count(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDevelopmentSeedsAreIdempotent(t *testing.T) {
	for _, dialect := range testdb.Dialects(t) {
		t.Run(testdb.Name(dialect), func(t *testing.T) {
			ctx := context.Background()
			set := testdb.OpenMigrated(t, dialect)
			if _, err := seed.Run(ctx, set, seed.Seeders, config.Development, nil, io.Discard); err != nil {
				t.Fatal(err)
			}
			first := count(t, set)
			if first.users != len(seed.DemoUsers) || first.events == 0 || first.logs == 0 {
				t.Fatalf("got %+v after seeding, want %d users with events and logs", first, len(seed.DemoUsers))
			}
			// Every demo event and log belongs to a demo user: the stitching has data to show.
			for _, u := range seed.DemoUsers {
				n, err := set.Analytics.Event.Query().Where(eventOf(u)).Count(ctx)
				if err != nil || n == 0 {
					t.Errorf("user %s: %d events (err %v), want some", u.Email, n, err)
				}
			}

			results, err := seed.Run(ctx, set, seed.Seeders, config.Development, nil, io.Discard)
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			if second := count(t, set); second != first {
				t.Errorf("second run changed the data: got %+v, want %+v", second, first)
			}
			for _, r := range results {
				if len(r.Ran) != 0 || len(r.Skipped) == 0 {
					t.Errorf("%s: second run ran %v, skipped %v; want nothing run", r.DB, r.Ran, r.Skipped)
				}
			}
			applied, err := seed.Applied(ctx, set.Get("users"), config.Development)
			if err != nil || len(applied) != 1 || !strings.HasSuffix(applied[0], "demo_users") {
				t.Errorf("users records %v (err %v), want the demo_users seeder", applied, err)
			}
		})
	}
}

func TestProductionGetsNoDemoData(t *testing.T) {
	ctx := context.Background()
	set := testdb.OpenMigrated(t, config.SQLite)
	if _, err := seed.Run(ctx, set, seed.Seeders, config.Production, nil, io.Discard); err != nil {
		t.Fatal(err)
	}
	if c := count(t, set); c != (counts{}) {
		t.Errorf("production seeding wrote %+v, want nothing", c)
	}
}

func TestFailedSeederLeavesNothingBehind(t *testing.T) {
	ctx := context.Background()
	set := testdb.OpenMigrated(t, config.SQLite)
	failing := []seed.Seeder{{
		Name: "20260101_half", DB: "users", Envs: []string{config.Test},
		Run: func(ctx context.Context, c *database.Clients) error {
			if err := c.Users.User.Create().SetEmail("one@example.com").SetName("One").Exec(ctx); err != nil {
				return err
			}
			// The same email again violates the unique index and fails the seeder.
			return c.Users.User.Create().SetEmail("ONE@example.com").SetName("Again").Exec(ctx)
		},
	}}
	if _, err := seed.Run(ctx, set, failing, config.Test, nil, io.Discard); err == nil {
		t.Fatal("got no error, want the unique violation")
	}
	if c := count(t, set); c.users != 0 {
		t.Errorf("got %d users after a failed seeder, want 0", c.users)
	}
	if applied, _ := seed.Applied(ctx, set.Get("users"), config.Test); len(applied) != 0 {
		t.Errorf("failed seeder recorded as %v, want not recorded", applied)
	}
}
