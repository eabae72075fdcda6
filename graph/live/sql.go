package live

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/multidb/multidb/schema/xdb"
)

// Reader is what the shared statement knows of a subscriber, or of the subscribers of one
// viewer at one cursor, who read the same rows: its number in the wake-up, the user whose rows
// it may read (nil for an ADMIN, who reads every row) and its cursor.
type Reader struct {
	Sub    int
	Viewer *uuid.UUID
	After  uuid.UUID
}

// Read is what one wake-up asks its table: the rows with Low < id < Before, at most Rows of
// them in id order, each with the readers that may see it, at most Pairs (row, reader) pairs
// in all (a row's readers are never split).
type Read struct {
	Low, Before uuid.UUID
	Rows, Pairs int
	Readers     []Reader
}

// Row is one row of a wake-up and the readers (their Sub numbers) it goes to.
type Row[T any] struct {
	Node T
	To   []int
	// Rank is the row's place among the rows the statement scanned (1 for the first).
	Rank int
}

// Page is the answer to one Read. Scanned is how many rows the statement scanned (at most
// Read.Rows). The rows are those some reader may see, in id order, then always the last
// scanned row (with no reader, if none may see it), unless the bound on pairs cut the rows
// short: then the last row's Rank is below Scanned.
type Page[T any] struct {
	Rows    []Row[T]
	Scanned int
}

// Extra columns of the shared statement, read back with the entity's Value method.
const (
	colTo      = "live_to"
	colRank    = "live_rank"
	colScanned = "live_scanned"
)

// Pairs reshapes the query of a table (an ent query's selector, through Modify) into the one
// statement of a wake-up. The access rule of the type's policy is part of it: a reader that
// is a USER is joined to the rows whose owner column holds their id, an ADMIN to every row,
// so that no row reaches a reader who may not see it. On PostgreSQL:
//
//	WITH live_rows AS (SELECT cols, row_number() OVER (ORDER BY id) AS live_rank FROM t
//	    WHERE id > $low AND id < $before ORDER BY id LIMIT $rows),
//	  live_readers AS (SELECT * FROM unnest($subs::int8[], $viewers::uuid[], $afters::uuid[])
//	    AS r(live_sub, live_viewer, live_after)),  -- the USER subscribers
//	  live_admins AS (SELECT * FROM unnest(...)),    -- the ADMIN ones, viewer NULL
//	  live_pairs AS (
//	    SELECT r.id, p.live_sub FROM live_rows r JOIN live_readers p
//	      ON r.user_id = p.live_viewer AND r.id > p.live_after
//	    UNION ALL
//	    SELECT r.id, p.live_sub FROM live_rows r JOIN live_admins p ON TRUE AND r.id > p.live_after),
//	  live_matched AS (SELECT id, string_agg(live_sub::text, ',') AS live_to, count(*) AS live_n
//	    FROM live_pairs GROUP BY id),
//	  live_out AS (SELECT r.*, m.live_to, coalesce(m.live_n, 0) AS live_n,
//	      sum(coalesce(m.live_n, 0)) OVER (ORDER BY r.id ROWS UNBOUNDED PRECEDING) AS live_upto,
//	      (SELECT count(*) FROM live_rows) AS live_scanned
//	    FROM live_rows r LEFT JOIN live_matched m ON m.id = r.id
//	    WHERE m.id IS NOT NULL OR r.live_rank = (SELECT count(*) FROM live_rows))
//	SELECT cols, live_to, live_rank, live_scanned FROM live_out AS t
//	WHERE live_upto - live_n < $pairs ORDER BY id
//
// The owner test is an equality, so that PostgreSQL hashes the readers and probes them with
// the rows rather than comparing every row with every reader; admins, who read every row,
// are a relation of their own. Other policies join as declared: signed-in and public types
// to every reader, admin-only ones to the admins. SQLite reads the readers from
// a JSON array (json_each) instead of unnest.
func Pairs(p xdb.PolicyAnnotation, id string, r Read) (func(*sql.Selector), error) {
	// The parts of live_pairs: readers that are users (live_readers) or admins (live_admins),
	// joined to the rows r on a condition. Admins are a relation of their own, so that no
	// part compares every row with every reader.
	type part struct{ readers, on string }
	var parts []part
	switch p.Kind {
	case xdb.KindOwned:
		if p.Owner == "" {
			return nil, fmt.Errorf("live: an owned type names no owner field")
		}
		parts = []part{{"live_readers", "r." + quote(p.Owner) + " = p.live_viewer"}, {"live_admins", "TRUE"}}
	case xdb.KindSignedIn, xdb.KindPublic:
		parts = []part{{"live_readers", "TRUE"}, {"live_admins", "TRUE"}}
	case xdb.KindAdminOnly:
		parts = []part{{"live_admins", "TRUE"}}
	default:
		return nil, fmt.Errorf("live: the policy %q streams to no one", p.Kind)
	}
	var users, admins []Reader
	for _, rd := range r.Readers {
		if rd.Viewer == nil {
			admins = append(admins, rd)
		} else {
			users = append(users, rd)
		}
	}
	return func(s *sql.Selector) {
		pg := s.Dialect() == dialect.Postgres
		d := sql.Dialect(s.Dialect())
		table := s.TableName()
		columns := s.UnqualifiedColumns()

		rows := s.Clone()
		rows.Where(sql.And(sql.GT(rows.C(id), r.Low), sql.LT(rows.C(id), r.Before)))
		rows.AppendSelectExprAs(sql.RowNumber().OrderBy(rows.C(id)), colRank)
		rows.OrderBy(rows.C(id)).Limit(r.Rows)

		qid := quote(id)
		with := sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("WITH live_rows AS (").Join(rows).WriteString(")")
			for _, set := range []struct {
				name    string
				readers []Reader
			}{{"live_readers", users}, {"live_admins", admins}} {
				b.WriteString(", " + set.name + " AS (")
				if pg {
					subs, viewers, afters := pgArrays(set.readers)
					b.WriteString("SELECT * FROM unnest(").Arg(subs).WriteString("::int8[], ").
						Arg(viewers).WriteString("::uuid[], ").Arg(afters).WriteString("::uuid[]) AS r(live_sub, live_viewer, live_after)")
				} else {
					b.WriteString("SELECT json_extract(value, '$[0]') AS live_sub, json_extract(value, '$[1]') AS live_viewer, " +
						"json_extract(value, '$[2]') AS live_after FROM json_each(").Arg(jsonReaders(set.readers)).WriteString(")")
				}
				b.WriteString(")")
			}
			b.WriteString(", live_pairs AS (")
			for i, pt := range parts {
				if i > 0 {
					b.WriteString(" UNION ALL ")
				}
				b.WriteString("SELECT r." + qid + " AS id, p.live_sub FROM live_rows r JOIN " + pt.readers + " p ON " + pt.on + " AND r." + qid + " > p.live_after")
			}
			agg := "group_concat(live_sub, ',')"
			if pg {
				agg = "string_agg(live_sub::text, ',')"
			}
			b.WriteString("), live_matched AS (SELECT id, " + agg + " AS live_to, count(*) AS live_n FROM live_pairs GROUP BY id)")
			b.WriteString(", live_out AS (SELECT r.*, m.live_to, coalesce(m.live_n, 0) AS live_n, " +
				"sum(coalesce(m.live_n, 0)) OVER (ORDER BY r." + qid + " ROWS UNBOUNDED PRECEDING) AS live_upto, " +
				"(SELECT count(*) FROM live_rows) AS " + colScanned + " " +
				"FROM live_rows r LEFT JOIN live_matched m ON m.id = r." + qid + " " +
				"WHERE m.id IS NOT NULL OR r." + colRank + " = (SELECT count(*) FROM live_rows)) ")
		})

		out := d.Select(columns...)
		out.AppendSelect(colTo, colRank, colScanned)
		out.Prefix(with)
		out.FromExpr(sql.ExprFunc(func(b *sql.Builder) { b.WriteString("live_out AS ").Ident(table) }))
		out.Where(sql.P(func(b *sql.Builder) { b.WriteString("live_upto - live_n < ").Arg(max(r.Pairs, 1)) }))
		out.OrderBy(id)
		*s = *out
	}, nil
}

// quote quotes an identifier as both dialects read it (column names come from ent schemas).
func quote(ident string) string { return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"` }

// pgArrays writes the readers as three PostgreSQL array literals, NULL for an ADMIN's viewer.
func pgArrays(readers []Reader) (subs, viewers, afters string) {
	var s, v, a strings.Builder
	s.Grow(len(readers) * 6)
	v.Grow(len(readers) * 37)
	a.Grow(len(readers) * 37)
	s.WriteByte('{')
	v.WriteByte('{')
	a.WriteByte('{')
	for i, r := range readers {
		if i > 0 {
			s.WriteByte(',')
			v.WriteByte(',')
			a.WriteByte(',')
		}
		s.WriteString(strconv.Itoa(r.Sub))
		if r.Viewer == nil {
			v.WriteString("NULL")
		} else {
			v.WriteString(r.Viewer.String())
		}
		a.WriteString(r.After.String())
	}
	s.WriteByte('}')
	v.WriteByte('}')
	a.WriteByte('}')
	return s.String(), v.String(), a.String()
}

// jsonReaders writes the readers as a JSON array of [sub, viewer or null, after] for SQLite.
func jsonReaders(readers []Reader) string {
	rows := make([][3]any, len(readers))
	for i, r := range readers {
		rows[i] = [3]any{r.Sub, nil, r.After.String()}
		if r.Viewer != nil {
			rows[i][1] = r.Viewer.String()
		}
	}
	b, _ := json.Marshal(rows) // ints and strings only
	return string(b)
}

// ReadRow reads the extra columns of one row of the statement of Pairs, through the
// entity's Value method.
func ReadRow[T any](node T, value func(string) (any, error)) (Row[T], int, error) {
	row := Row[T]{Node: node}
	to, err := value(colTo)
	if err != nil {
		return row, 0, err
	}
	if list := text(to); list != "" {
		parts := strings.Split(list, ",")
		row.To = make([]int, len(parts))
		for i, p := range parts {
			if row.To[i], err = strconv.Atoi(p); err != nil {
				return row, 0, fmt.Errorf("live: reader %q: %w", p, err)
			}
		}
	}
	rank, err := value(colRank)
	if err != nil {
		return row, 0, err
	}
	if row.Rank, err = integer(rank); err != nil {
		return row, 0, err
	}
	scanned, err := value(colScanned)
	if err != nil {
		return row, 0, err
	}
	n, err := integer(scanned)
	return row, n, err
}

func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}

func integer(v any) (int, error) {
	switch v := v.(type) {
	case int64:
		return int(v), nil
	case int32:
		return int(v), nil
	case int:
		return v, nil
	case float64:
		return int(v), nil
	case string, []byte:
		return strconv.Atoi(text(v))
	}
	return 0, fmt.Errorf("live: unexpected count %T", v)
}
