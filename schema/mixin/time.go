package mixin

import "time"

// Precision is the precision of stored times: PostgreSQL keeps microseconds.
const Precision = time.Microsecond

// Now is the default of time fields: the current instant in UTC at the stored precision, so
// that the row a create returns is the row a later read returns, on every engine.
func Now() time.Time { return StoredTime(time.Now()) }

// StoredTime is t as it is stored: in UTC (SQLite compares times as text), rounded to
// Precision as PostgreSQL rounds it.
func StoredTime(t time.Time) time.Time { return t.Round(Precision).UTC() }
