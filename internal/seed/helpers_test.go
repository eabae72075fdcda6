package seed_test

import (
	"github.com/multidb/multidb/ent/analytics/event"
	analyticspredicate "github.com/multidb/multidb/ent/analytics/predicate"
	"github.com/multidb/multidb/ent/logs/logentry"
	logspredicate "github.com/multidb/multidb/ent/logs/predicate"
	"github.com/multidb/multidb/internal/seed"
)

func eventOf(u seed.DemoUser) analyticspredicate.Event { return event.UserID(u.ID) }

func logOf(u seed.DemoUser) logspredicate.LogEntry { return logentry.UserID(u.ID) }
