package seed_test

import (
	"context"
	"io"
	"maps"
	"slices"
	"testing"

	"github.com/multidb/multidb/ent/analytics/event"
	"github.com/multidb/multidb/ent/users/user"
	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/seed"
	"github.com/multidb/multidb/internal/testdb"
)

// tableRows counts the rows of every table of every database, keyed "db.table". It walks the
// registry's schemas, so that a table a team adds is counted too.
func tableRows(t *testing.T, set *database.Set) map[string]int {
	t.Helper()
	rows := map[string]int{}
	for _, db := range set.DBs {
		for _, tbl := range db.Tables {
			var n int
			if err := db.SQL.QueryRow(`SELECT count(*) FROM "` + tbl.Name + `"`).Scan(&n); err != nil {
				t.Fatalf("count %s.%s: %v", db.Name, tbl.Name, err)
			}
			rows[db.Name+"."+tbl.Name] = n
		}
	}
	return rows
}

// seedersOf lists, in run order, the seeders of seed.Seeders that run in db for env.
func seedersOf(db, env string) []string {
	var names []string
	for _, s := range seed.Seeders {
		if s.DB == db && slices.Contains(s.Envs, env) {
			names = append(names, s.Name)
		}
	}
	slices.Sort(names)
	return names
}

// assertApplied fails unless every database records exactly the seeders of env listed for it.
func assertApplied(t *testing.T, set *database.Set, env string) {
	t.Helper()
	for _, db := range set.DBs {
		applied, err := seed.Applied(context.Background(), db, env)
		if want := seedersOf(db.Name, env); err != nil || !slices.Equal(applied, want) {
			t.Errorf("%s records %v (err %v) for %s, want %v", db.Name, applied, err, env, want)
		}
	}
}

func TestDevelopmentSeedsAreIdempotent(t *testing.T) {
	for _, dialect := range testdb.Dialects(t) {
		t.Run(testdb.Name(dialect), func(t *testing.T) {
			ctx := context.Background()
			set := testdb.OpenMigrated(t, dialect)
			if _, err := seed.Run(ctx, set, seed.Seeders, config.Development, nil, io.Discard); err != nil {
				t.Fatal(err)
			}
			first := tableRows(t, set)
			// Every demo user is there, with events and logs: the stitching has data to show.
			// Other seeders may add rows of their own.
			for _, u := range seed.DemoUsers {
				if ok, err := set.Users.User.Query().Where(user.ID(u.ID)).Exist(ctx); err != nil || !ok {
					t.Errorf("demo user %s: exists %v (err %v), want it seeded", u.Email, ok, err)
				}
				n, err := set.Analytics.Event.Query().Where(eventOf(u)).Count(ctx)
				if err != nil || n == 0 {
					t.Errorf("user %s: %d events (err %v), want some", u.Email, n, err)
				}
				if n, err := set.Logs.LogEntry.Query().Where(logOf(u)).Count(ctx); err != nil || n == 0 {
					t.Errorf("user %s: %d log entries (err %v), want some", u.Email, n, err)
				}
			}
			// The demo funnel narrows: some demo users check out, some do not.
			var buyers int
			for _, u := range seed.DemoUsers {
				ok, err := set.Analytics.Event.Query().Where(eventOf(u), event.Name("checkout")).Exist(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					buyers++
				}
			}
			if buyers == 0 || buyers == len(seed.DemoUsers) {
				t.Errorf("%d of %d demo users check out, want some but not all", buyers, len(seed.DemoUsers))
			}
			assertApplied(t, set, config.Development)

			results, err := seed.Run(ctx, set, seed.Seeders, config.Development, nil, io.Discard)
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			if second := tableRows(t, set); !maps.Equal(second, first) {
				t.Errorf("second run changed the data: got %v, want %v", second, first)
			}
			if len(results) != len(set.DBs) {
				t.Errorf("second run: %d results, want one per database (%d)", len(results), len(set.DBs))
			}
			for _, r := range results {
				if want := seedersOf(r.DB, config.Development); len(r.Ran) != 0 || !slices.Equal(r.Skipped, want) {
					t.Errorf("%s: second run ran %v, skipped %v; want nothing run and %v skipped", r.DB, r.Ran, r.Skipped, want)
				}
			}
			assertApplied(t, set, config.Development)
		})
	}
}

func TestProductionGetsNoDemoData(t *testing.T) {
	ctx := context.Background()
	set := testdb.OpenMigrated(t, config.SQLite)
	if _, err := seed.Run(ctx, set, seed.Seeders, config.Production, nil, io.Discard); err != nil {
		t.Fatal(err)
	}
	assertApplied(t, set, config.Production)
	for _, u := range seed.DemoUsers {
		if ok, err := set.Users.User.Query().Where(user.ID(u.ID)).Exist(ctx); err != nil || ok {
			t.Errorf("demo user %s: exists %v (err %v) after production seeding, want not", u.Email, ok, err)
		}
	}
	// A database that no seeder fills in production stays empty.
	rows := tableRows(t, set)
	for _, db := range set.DBs {
		if len(seedersOf(db.Name, config.Production)) > 0 {
			continue
		}
		for _, tbl := range db.Tables {
			if n := rows[db.Name+"."+tbl.Name]; n != 0 {
				t.Errorf("production seeding wrote %d rows to %s.%s, want none", n, db.Name, tbl.Name)
			}
		}
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
	for table, n := range tableRows(t, set) {
		if n != 0 {
			t.Errorf("%s holds %d rows after a failed seeder, want none", table, n)
		}
	}
	if applied, _ := seed.Applied(ctx, set.Get("users"), config.Test); len(applied) != 0 {
		t.Errorf("failed seeder recorded as %v, want not recorded", applied)
	}
}
