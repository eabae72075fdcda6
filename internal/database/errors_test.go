package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
)

func TestClassifyByTypeAndSQLSTATE(t *testing.T) {
	g := &guard{name: "logs"}
	opErr := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	for _, tt := range []struct {
		err   error
		want  string // the type guard gives it
		state string // what a probe failing so reports
	}{
		{&pq.Error{Code: "57P03", Message: "the database system is not yet accepting connections"}, "unavailable", "refusing"},
		{&pq.Error{Code: "53300"}, "unavailable", "refusing"},
		{&pq.Error{Code: "57P01"}, "unavailable", "refusing"},
		{&pq.Error{Code: "08006"}, "unavailable", "unreachable"},
		{&pq.Error{Code: "57014"}, "timeout", "unreachable"},
		// A message that reads like an outage does not make one: only the SQLSTATE counts.
		{&pq.Error{Code: "23505", Message: "connection refused"}, "statement", "unreachable"},
		{fmt.Errorf("wrapped: %w", syscall.ECONNREFUSED), "unavailable", "unreachable"},
		{io.ErrUnexpectedEOF, "unavailable", "unreachable"},
		{driver.ErrBadConn, "unavailable", "unreachable"},
		{opErr, "unavailable", "unreachable"},
		{context.DeadlineExceeded, "timeout", "unreachable"},
		{errors.New("the database system is starting up"), "statement", "unreachable"},
	} {
		var got string
		switch err := g.classify(context.Background(), tt.err); {
		case errors.As(err, new(*UnavailableError)):
			got = "unavailable"
		case errors.As(err, new(*TimeoutError)):
			got = "timeout"
		case errors.As(err, new(*BusyError)):
			got = "busy"
		default:
			got = "statement"
		}
		if got != tt.want {
			t.Errorf("%v (%T): classified %s, want %s", tt.err, tt.err, got, tt.want)
		}
		if got := State(tt.err); got != tt.state {
			t.Errorf("%v: State %s, want %s", tt.err, got, tt.state)
		}
		if got != "statement" && Name(g.classify(context.Background(), tt.err)) != "logs" {
			t.Errorf("%v: the classified error does not name logs", tt.err)
		}
	}
	// A socket that failed because the statement's context ran out is the context's timeout.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.classify(ctx, opErr); !errors.As(err, new(*TimeoutError)) {
		t.Errorf("socket deadline after the context ended: got %T, want TimeoutError", err)
	}
}

func TestStatementLimitFollowsTheURL(t *testing.T) {
	for dsn, want := range map[string]time.Duration{
		"postgres://h/db?statement_timeout=2000": 2 * time.Second,
		"postgres://h/db?statement_timeout=0":    0,
		"postgres://h/db?statement_timeout=1min": 0, // units of the server's: never cut before it
		"postgres://h/db":                        7 * time.Second,
	} {
		if got := urlStatementTimeout(dsn, 7*time.Second); got != want {
			t.Errorf("%s: got %v, want %v", dsn, got, want)
		}
	}
}
