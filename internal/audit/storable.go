package audit

import (
	"context"
	"errors"
	"net"
	"strings"
	"unicode/utf8"

	"github.com/lib/pq"
	"modernc.org/sqlite"
)

// Longest stored length, in bytes, of each text field of an entry. A longer value is cut at a
// character boundary and ends with Truncated, so that a reader sees it was cut.
const (
	MaxOperation = 64
	MaxRole      = 32
	MaxOutcome   = 64
	MaxTarget    = 256
	MaxRequestID = 128
)

// Truncated ends a value that was cut to its field's length.
const Truncated = "…"

// storable returns e with every text field made storable by any database: without NUL (which
// PostgreSQL refuses in text and jsonb), valid UTF-8 (invalid bytes become U+FFFD), and cut
// to the field's length. Anything a caller sends can end up in an entry (the email of a
// log-in, a request id), so the writer never trusts it.
func storable(e Entry) Entry {
	e.Operation = clean(e.Operation, MaxOperation)
	e.Role = clean(e.Role, MaxRole)
	e.Outcome = clean(e.Outcome, MaxOutcome)
	e.Target = clean(e.Target, MaxTarget)
	e.RequestID = clean(e.RequestID, MaxRequestID)
	return e
}

func clean(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	if len(s) <= max {
		return s
	}
	cut := max - len(Truncated)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + Truncated
}

// permanent reports whether a failed INSERT would fail again with the same entries: the
// database refused the data itself, not the moment. Only such a failure makes the writer
// split a batch; anything else (a connection lost, a timeout, an unknown error) is retried.
// Errors are told apart by type and SQLSTATE, never by message.
func permanent(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	if ne := net.Error(nil); errors.As(err, &ne) {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code.Class() {
		case "22", // data exception: NUL in jsonb (22P05), bad encoding (22021), too long (22001)
			"23", // integrity constraint violation
			"42": // syntax error or access rule violation: the schema does not take the row
			return true
		}
		return false
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		switch sqliteErr.Code() & 0xff {
		case 18, // SQLITE_TOOBIG
			19, // SQLITE_CONSTRAINT
			20, // SQLITE_MISMATCH
			25: // SQLITE_RANGE
			return true
		}
	}
	return false
}
