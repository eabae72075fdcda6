package graph_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/analytics"
	"github.com/multidb/multidb/ent/logs"
	"github.com/multidb/multidb/ent/logs/logentry"
	"github.com/multidb/multidb/ent/users"
	"github.com/multidb/multidb/ent/users/user"
)

// Table kinds of fixtureID.
const (
	kindUser = iota + 1
	kindEvent
	kindLog
)

var (
	eventNames = []string{"page.view", "signup", "cart:add"}
	logLevels  = []logentry.Level{logentry.LevelDEBUG, logentry.LevelINFO, logentry.LevelWARN, logentry.LevelERROR}
)

// fixture describes the seeded data, so that tests compute what they expect.
type fixture struct {
	users  int
	events func(user int) int // events of that user
	logs   func(user int) int // log entries of that user
}

func userID(i int) uuid.UUID        { return fixtureID(kindUser, i) }
func eventID(i, j int) uuid.UUID    { return fixtureID(kindEvent, i*1000+j) }
func logID(i, k int) uuid.UUID      { return fixtureID(kindLog, i*1000+k) }
func userEmail(i int) string        { return fmt.Sprintf("user%03d@example.com", i) }
func userName(i int) string         { return fmt.Sprintf("User %03d", i) }
func eventName(j int) string        { return eventNames[j%len(eventNames)] }
func logMessage(i, k int) string    { return fmt.Sprintf("user %03d log %d", i, k) }
func logLevel(k int) logentry.Level { return logLevels[k%len(logLevels)] }

// eventTime runs backwards with j, so that "newest first" and "by id" disagree.
func (f fixture) eventTime(i, j int) time.Time {
	return epoch.Add(time.Duration(i)*time.Hour + time.Duration(f.events(i)-j)*time.Minute)
}

func logTime(i, k int) time.Time {
	return epoch.Add(time.Duration(i)*time.Hour + time.Duration(k)*time.Minute)
}

// seed writes n users; user i has f.events(i) events and f.logs(i) log entries, and there is
// one log entry with no user.
func seed(t testing.TB, e *env, f fixture) {
	t.Helper()
	ctx := context.Background()
	c := e.set.Clients
	var (
		us []*users.UserCreate
		ev []*analytics.EventCreate
		ls []*logs.LogEntryCreate
	)
	for i := 0; i < f.users; i++ {
		role := user.RoleUSER
		if i%10 == 0 {
			role = user.RoleADMIN
		}
		us = append(us, c.Users.User.Create().SetID(userID(i)).SetEmail(userEmail(i)).SetName(userName(i)).
			SetRole(role).SetCreatedAt(epoch.Add(time.Duration(i)*time.Minute)))
		for j := 0; j < f.events(i); j++ {
			ev = append(ev, c.Analytics.Event.Create().SetID(eventID(i, j)).SetUserID(userID(i)).
				SetName(eventName(j)).SetProperties(map[string]any{"j": j}).SetOccurredAt(f.eventTime(i, j)))
		}
		for k := 0; k < f.logs(i); k++ {
			ls = append(ls, c.Logs.LogEntry.Create().SetID(logID(i, k)).SetUserID(userID(i)).
				SetLevel(logLevel(k)).SetMessage(logMessage(i, k)).SetRequestID(fmt.Sprintf("req-%d-%d", i, k)).
				SetCreatedAt(logTime(i, k)))
		}
	}
	ls = append(ls, c.Logs.LogEntry.Create().SetID(fixtureID(kindLog, 999_999)).SetLevel(logentry.LevelINFO).
		SetMessage("server started").SetCreatedAt(epoch))
	const batch = 500 // keeps every INSERT under SQLite's bind-parameter limit
	for i := 0; i < len(us); i += batch {
		if err := c.Users.User.CreateBulk(us[i:min(i+batch, len(us))]...).Exec(ctx); err != nil {
			t.Fatalf("seed users: %v", err)
		}
	}
	for i := 0; i < len(ev); i += batch {
		if err := c.Analytics.Event.CreateBulk(ev[i:min(i+batch, len(ev))]...).Exec(ctx); err != nil {
			t.Fatalf("seed events: %v", err)
		}
	}
	for i := 0; i < len(ls); i += batch {
		if err := c.Logs.LogEntry.CreateBulk(ls[i:min(i+batch, len(ls))]...).Exec(ctx); err != nil {
			t.Fatalf("seed logs: %v", err)
		}
	}
	e.count.reset()
}
