package model

import (
	"entgo.io/contrib/entgql"
	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/analytics"
	"github.com/multidb/multidb/ent/logs"
)

// LogEntryStreamEdge is one message of the logEntries subscription: an entry and its cursor,
// or, with Err set, the error the stream reports (its node and cursor fields fail with it).
type LogEntryStreamEdge struct {
	Node   *logs.LogEntry
	Cursor entgql.Cursor[uuid.UUID]
	Err    error
	// Batch is shared by the messages of one wake-up: their stitched fields load at once.
	Batch any
}

// EventStreamEdge is one message of the events subscription, as LogEntryStreamEdge.
type EventStreamEdge struct {
	Node   *analytics.Event
	Cursor entgql.Cursor[uuid.UUID]
	Err    error
	Batch  any
}
