package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// BusyError says that every connection of a database was in use for the whole wait: the
// database is up, this server has asked too much of it at once. The graph reports it as
// DATABASE_BUSY, naming the database; a retry soon is likely to work.
type BusyError struct {
	Database string
	Wait     time.Duration
	Err      error // ErrNoConnection, or the engine's "locked" error (SQLite)
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("database %s is busy: %v", e.Database, e.Err)
}

func (e *BusyError) Unwrap() error { return e.Err }

// TimeoutError says that a statement on a database ran out of time: the request's deadline
// passed while it waited on that database, or the server's statement timeout cancelled it.
type TimeoutError struct {
	Database string
	Err      error
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("database %s did not answer in time: %v", e.Database, e.Err)
}

func (e *TimeoutError) Unwrap() error { return e.Err }

// Name returns the database an error of this package names, or "".
func Name(err error) string {
	var (
		ue *UnavailableError
		be *BusyError
		te *TimeoutError
	)
	switch {
	case errors.As(err, &te):
		return te.Database
	case errors.As(err, &be):
		return be.Database
	case errors.As(err, &ue):
		return ue.Database
	}
	return ""
}

// Transient reports whether err is a failure of a database rather than of the statement:
// unavailable, busy or out of time. A whole request that fails so is answered 503.
func Transient(err error) bool {
	return errors.As(err, new(*UnavailableError)) || errors.As(err, new(*BusyError)) || errors.As(err, new(*TimeoutError))
}

// Kinds of failure, from the error's type and SQLSTATE, never from its text.
type kind int

const (
	kindStatement   kind = iota // the statement's own error (constraint, syntax, ...)
	kindUnreachable             // no answer: refused, reset, cut, silent
	kindRefusing                // the server answers but takes no work: starting, shutting down, full
	kindBusy                    // the server or file is locked by others
	kindTimeout                 // a context or the statement timeout ended the statement
)

// refusingStates are the SQLSTATEs of a server that is there but takes no work now.
var refusingStates = map[pq.ErrorCode]bool{
	"57P01": true, // admin_shutdown
	"57P02": true, // crash_shutdown
	"57P03": true, // cannot_connect_now: starting up, in recovery
	"57P05": true, // idle_session_timeout: the server closed the session
	"53300": true, // too_many_connections
	"53400": true, // configuration_limit_exceeded
}

func classifyKind(err error) kind {
	if err == nil {
		return kindStatement
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return kindTimeout
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch {
		case refusingStates[pqErr.Code]:
			return kindRefusing
		case pqErr.Code == "57014": // query_canceled: statement_timeout or a cancel request
			return kindTimeout
		case pqErr.Code.Class() == "08": // connection_exception
			return kindUnreachable
		}
		return kindStatement
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		switch sqliteErr.Code() & 0xff { // the primary code; extended codes add bits above
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return kindBusy
		case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_NOTADB:
			return kindUnreachable
		case sqlite3.SQLITE_INTERRUPT:
			return kindTimeout
		}
		return kindStatement
	}
	var netErr net.Error
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed), errors.As(err, new(*net.OpError)), errors.As(err, &netErr):
		return kindUnreachable
	}
	return kindStatement
}

// State names what a probe's error says of a database, as /readyz reports it: "up" (nil),
// "refusing" (the server answers but takes no work: starting up, in recovery, shutting down,
// at its connection limit), "busy" (locked), or "unreachable" (anything else: no answer).
func State(err error) string {
	if err == nil {
		return "up"
	}
	switch classifyKind(err) {
	case kindRefusing:
		return "refusing"
	case kindBusy:
		return "busy"
	}
	return "unreachable"
}

// UniqueViolation reports whether err is a unique or primary-key violation, by its SQLSTATE
// (23505) on PostgreSQL and its extended result code on SQLite: an id or a unique value
// already taken. Other constraints (not null, check, foreign key) are not.
func UniqueViolation(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "23505"
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		switch sqliteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return true
		}
	}
	return false
}
