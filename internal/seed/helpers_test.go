package seed_test

import (
	"github.com/multidb/multidb/ent/analytics/event"
	"github.com/multidb/multidb/ent/analytics/predicate"
	"github.com/multidb/multidb/internal/seed"
)

func eventOf(u seed.DemoUser) predicate.Event { return event.UserID(u.ID) }
