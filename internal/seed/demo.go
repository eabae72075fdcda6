package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/analytics"
	"github.com/multidb/multidb/ent/logs"
	"github.com/multidb/multidb/ent/logs/logentry"
	"github.com/multidb/multidb/ent/users"
	"github.com/multidb/multidb/ent/users/user"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/database"
)

// DemoUser is an account of the development data set. Its ID is fixed so that the demo events
// and logs in the other databases can refer to it.
type DemoUser struct {
	ID    uuid.UUID
	Email string
	Name  string
	Role  user.Role
	// Password is the account's known demo password, hashed when the seed runs; an account
	// without one cannot log in. Development data only: no other environment seeds accounts.
	Password string
}

// DemoUsers are the accounts `make seed ENV=development` creates: an admin and two users who
// can log in, and two more users who own data but have no password.
var DemoUsers = []DemoUser{
	{uuid.MustParse("0193a5a0-0000-7000-8000-000000000001"), "admin@example.com", "Ada Admin", user.RoleADMIN, "admin-demo-password"},
	{uuid.MustParse("0193a5a0-0000-7000-8000-000000000002"), "grace@example.com", "Grace Hopper", user.RoleUSER, "grace-demo-password"},
	{uuid.MustParse("0193a5a0-0000-7000-8000-000000000003"), "alan@example.com", "Alan Turing", user.RoleUSER, "alan-demo-password"},
	{uuid.MustParse("0193a5a0-0000-7000-8000-000000000004"), "edsger@example.com", "Edsger Dijkstra", user.RoleUSER, ""},
	{uuid.MustParse("0193a5a0-0000-7000-8000-000000000005"), "barbara@example.com", "Barbara Liskov", user.RoleUSER, ""},
}

// demoEpoch anchors the demo timestamps, so that every run writes the same data.
var demoEpoch = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

var demoEventNames = []string{"signup", "page.view", "page.view", "search", "cart:add", "page.view", "checkout", "page.view"}

func demoUsers(ctx context.Context, c *database.Clients) error {
	creates := make([]*users.UserCreate, len(DemoUsers))
	for i, u := range DemoUsers {
		creates[i] = c.Users.User.Create().
			SetID(u.ID).SetEmail(u.Email).SetName(u.Name).SetRole(u.Role).
			SetCreatedAt(demoEpoch.Add(time.Duration(i) * time.Hour))
		if u.Password != "" {
			// Hashed here, with a fresh salt, so that no hash ships in the source.
			hash, err := auth.HashPassword(u.Password, auth.DefaultParams)
			if err != nil {
				return fmt.Errorf("hash the password of %s: %w", u.Email, err)
			}
			creates[i].SetPasswordHash(hash)
		}
	}
	return c.Users.User.CreateBulk(creates...).Exec(ctx)
}

func demoEvents(ctx context.Context, c *database.Clients) error {
	var creates []*analytics.EventCreate
	for i, u := range DemoUsers {
		for j := 0; j < 12+4*i; j++ {
			name := demoEventNames[j%len(demoEventNames)]
			// The funnel signup → cart:add → checkout narrows, as a dashboard's would: every user
			// signs up, four add to the cart, two of those check out.
			switch {
			case name == "cart:add" && i == 4:
				name = "search"
			case name == "checkout" && i%2 == 1:
				name = "page.view"
			}
			creates = append(creates, c.Analytics.Event.Create().
				SetUserID(u.ID).
				SetName(name).
				SetProperties(map[string]any{"path": fmt.Sprintf("/products/%d", (i*7+j)%20), "step": j}).
				SetOccurredAt(demoEpoch.Add(time.Duration(i)*time.Hour+time.Duration(j)*37*time.Minute)))
		}
	}
	return c.Analytics.Event.CreateBulk(creates...).Exec(ctx)
}

func demoLogs(ctx context.Context, c *database.Clients) error {
	levels := []logentry.Level{logentry.LevelINFO, logentry.LevelDEBUG, logentry.LevelINFO, logentry.LevelWARN, logentry.LevelERROR}
	var creates []*logs.LogEntryCreate
	for i, u := range DemoUsers {
		for j := 0; j < 6+2*i; j++ {
			level := levels[j%len(levels)]
			creates = append(creates, c.Logs.LogEntry.Create().
				SetUserID(u.ID).
				SetLevel(level).
				SetMessage(fmt.Sprintf("%s request %d of %s", level, j+1, u.Name)).
				SetFields(map[string]any{"status": 200 + 100*(j%4), "path": "/graphql"}).
				SetRequestID(fmt.Sprintf("demo-%d-%d", i+1, j+1)).
				SetCreatedAt(demoEpoch.Add(time.Duration(i)*time.Hour+time.Duration(j)*53*time.Minute)))
		}
	}
	return c.Logs.LogEntry.CreateBulk(creates...).Exec(ctx)
}
