package stats

import "entgo.io/ent/dialect/sql"

// sqliteMillis writes the instant of col, a time column of SQLite, as integer milliseconds
// since 1970. modernc.org/sqlite writes times as Go's time.String ("2026-03-29 01:30:00.123
// +0000 UTC"), which SQLite's date functions do not read: the expression rewrites it to
// "2026-03-29 01:30:00.123+00:00" first, and falls back to the text as it is (a time written
// in a format SQLite reads). julianday keeps milliseconds; the rounding makes them exact.
func sqliteMillis(b *sql.Builder, col string) {
	c := func() { b.Ident(col) }
	// sp: where the space after the seconds (and their fraction) is, counted from the 20th byte.
	sp := func() { b.WriteString("instr(substr("); c(); b.WriteString(", 20), ' ')") }
	b.WriteString("CAST(ROUND((COALESCE(julianday(substr(")
	c()
	b.WriteString(", 1, 19) || substr(")
	c()
	b.WriteString(", 20, ")
	sp()
	b.WriteString(" - 1) || substr(")
	c()
	b.WriteString(", 20 + ")
	sp()
	b.WriteString(", 3) || ':' || substr(")
	c()
	b.WriteString(", 23 + ")
	sp()
	b.WriteString(", 2)), julianday(")
	c()
	b.WriteString(")) - 2440587.5) * 86400000.0) AS INTEGER)")
}
