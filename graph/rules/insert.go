package rules

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/sqlgraph"
	"entgo.io/ent/schema/field"
	"github.com/google/uuid"
	"github.com/lib/pq"
)

// arrayTypes are the PostgreSQL array types that insertRows casts each column's parameter
// to, by ent field type. A column of another type sends the batch through ent's own INSERT.
var arrayTypes = map[field.Type]string{
	field.TypeUUID:    "uuid[]",
	field.TypeString:  "text[]",
	field.TypeJSON:    "jsonb[]",
	field.TypeTime:    "timestamptz[]",
	field.TypeBool:    "boolean[]",
	field.TypeInt:     "bigint[]",
	field.TypeInt64:   "bigint[]",
	field.TypeInt32:   "integer[]",
	field.TypeFloat64: "double precision[]",
}

// insertRows stores the rows of a bulk create (the store of ent's CreateBulk.SaveWith). On
// PostgreSQL it sends one statement whatever the number of rows, with one array parameter per
// column:
//
//	INSERT INTO "events" ("id", "name", ...) SELECT * FROM unnest($1::uuid[], $2::text[], ...)
//
// where ent's own multi-row INSERT binds one parameter per value (5,000 for 1,000 events),
// which PostgreSQL parses, plans and answers (RETURNING) row by row. The values are those ent
// would send: the same columns, JSON marshalled by encoding/json, times in lib/pq's text form,
// NULL for a field a row leaves unset. It is an INSERT, so the table's triggers fire as for
// ent's. Elsewhere (SQLite), and for specs this function does not cover (edges, conflict
// clauses, other column types), it is ent's own INSERT.
func insertRows(ctx context.Context, drv dialect.Driver, specs []*sqlgraph.CreateSpec) error {
	if drv.Dialect() == dialect.Postgres {
		if query, args, ok := unnestInsert(specs); ok {
			return drv.Exec(ctx, query, args, nil)
		}
	}
	return sqlgraph.BatchCreate(ctx, drv, &sqlgraph.BatchCreateSpec{Nodes: specs})
}

// column is one column of an unnest insert: its name, array type and the text of its array.
type column struct {
	name, array string
	values      strings.Builder
}

// encoder writes the elements of an unnest insert's arrays, with the scratch space it reuses
// from one value to the next: a JSON value is written by json, a time formatted into
// scratch, so that the only copy of either is the one in the array's text.
type encoder struct {
	json    jsonWriter
	scratch []byte
}

// unnestInsert builds insertRows's statement, or reports that specs need ent's INSERT.
func unnestInsert(specs []*sqlgraph.CreateSpec) (string, []any, bool) {
	if len(specs) == 0 || specs[0].ID == nil || specs[0].Schema != "" {
		return "", nil, false
	}
	first := specs[0]
	cols := []*column{{name: first.ID.Column, array: arrayTypes[first.ID.Type]}}
	index := map[string]int{first.ID.Column: 0}
	for _, s := range specs {
		if s.Table != first.Table || s.Schema != "" || s.ID == nil || s.ID.Value == nil || s.ID.Column != first.ID.Column || len(s.Edges) > 0 || s.OnConflict != nil {
			return "", nil, false
		}
		for _, f := range s.Fields {
			if _, ok := index[f.Column]; !ok {
				index[f.Column] = len(cols)
				cols = append(cols, &column{name: f.Column, array: arrayTypes[f.Type]})
			}
		}
	}
	for _, c := range cols {
		if c.array == "" {
			return "", nil, false
		}
		c.values.Grow(len(specs) * 40)
		c.values.WriteByte('{')
	}
	set := make([]bool, len(cols))
	e := &encoder{}
	for i, s := range specs {
		clear(set)
		if !e.appendValue(&cols[0].values, i, s.ID.Type, s.ID.Value) {
			return "", nil, false
		}
		set[0] = true
		for _, f := range s.Fields {
			j := index[f.Column]
			if set[j] || !e.appendValue(&cols[j].values, i, f.Type, f.Value) {
				return "", nil, false
			}
			set[j] = true
		}
		for j, c := range cols {
			if !set[j] {
				// A field this row leaves unset: NULL, as in ent's INSERT.
				if i > 0 {
					c.values.WriteByte(',')
				}
				c.values.WriteString("NULL")
			}
		}
	}
	var q strings.Builder
	q.WriteString("INSERT INTO ")
	q.WriteString(pq.QuoteIdentifier(first.Table))
	q.WriteString(" (")
	args := make([]any, len(cols))
	for j, c := range cols {
		if j > 0 {
			q.WriteString(", ")
		}
		q.WriteString(pq.QuoteIdentifier(c.name))
		c.values.WriteByte('}')
		args[j] = c.values.String()
	}
	q.WriteString(") SELECT * FROM unnest(")
	for j, c := range cols {
		if j > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "$%d::%s", j+1, c.array)
	}
	q.WriteString(")")
	return q.String(), args, true
}

// appendValue appends the i-th element of an array literal: v as lib/pq would send it as a
// parameter, quoted, or NULL. It reports false for a value it cannot write.
func (e *encoder) appendValue(b *strings.Builder, i int, t field.Type, v any) bool {
	if i > 0 {
		b.WriteByte(',')
	}
	if t == field.TypeJSON {
		// As sqlgraph does for ent's INSERT: a JSON field is marshalled whatever its value,
		// as json.Marshal writes it (jsonWriter).
		e.json.buf = e.json.buf[:0]
		if err := e.json.write(v); err != nil {
			return false
		}
		appendQuotedBytes(b, e.json.buf)
		return true
	}
	if id, ok := v.(uuid.UUID); ok {
		// The text of its Value, written in place: hex digits and hyphens need no quotes.
		e.scratch = appendUUID(e.scratch[:0], id)
		b.Write(e.scratch)
		return true
	}
	if valuer, ok := v.(driver.Valuer); ok {
		dv, err := valuer.Value()
		if err != nil {
			return false
		}
		v = dv
	}
	switch v := v.(type) {
	case nil:
		b.WriteString("NULL")
	case string:
		appendQuoted(b, v)
	case time.Time:
		e.scratch = appendTimestamp(e.scratch[:0], v)
		appendQuotedBytes(b, e.scratch)
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case int32:
		b.WriteString(strconv.FormatInt(int64(v), 10))
	case float64:
		b.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
	default:
		return false
	}
	return true
}

// appendUUID appends id's text form, as id.String() writes it.
func appendUUID(dst []byte, id uuid.UUID) []byte {
	var buf [36]byte
	hex.Encode(buf[0:8], id[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], id[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], id[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], id[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], id[10:])
	return append(dst, buf[:]...)
}

// appendTimestamp appends t as pq.FormatTimestamp writes it. The usual time, of a year after
// 0 in a zone of whole minutes, is formatted in place; the rest by lib/pq.
func appendTimestamp(dst []byte, t time.Time) []byte {
	if _, offset := t.Zone(); t.Year() <= 0 || offset%60 != 0 {
		return append(dst, pq.FormatTimestamp(t)...)
	}
	return t.AppendFormat(dst, "2006-01-02 15:04:05.999999999Z07:00")
}

// appendQuoted appends s as a quoted element of a PostgreSQL array literal.
func appendQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for {
		k := strings.IndexAny(s, `"\`)
		if k < 0 {
			break
		}
		b.WriteString(s[:k])
		b.WriteByte('\\')
		b.WriteByte(s[k])
		s = s[k+1:]
	}
	b.WriteString(s)
	b.WriteByte('"')
}

// appendQuotedBytes is appendQuoted for bytes, which it does not copy to a string first.
func appendQuotedBytes(b *strings.Builder, s []byte) {
	b.WriteByte('"')
	for {
		k := bytes.IndexAny(s, `"\`)
		if k < 0 {
			break
		}
		b.Write(s[:k])
		b.WriteByte('\\')
		b.WriteByte(s[k])
		s = s[k+1:]
	}
	b.Write(s)
	b.WriteByte('"')
}
