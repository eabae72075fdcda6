package migration

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"

	"github.com/multidb/multidb/internal/config"
)

// RevisionsTable is the table in which every database records the migration files applied to
// it. Its rows carry the database's name, so that two multidb databases may share one SQL
// database (or SQLite file) and still keep separate histories.
const RevisionsTable = "multidb_revisions"

// operatorVersion is recorded with every revision, as atlas records its own version.
const operatorVersion = "multidb"

// revisions stores the revisions of one database in RevisionsTable. It reads and writes through
// q, which is the pool or the transaction a file is applied in, so that a file's statements and
// its revision row commit or roll back together.
type revisions struct {
	q       schema.ExecQuerier
	db      string // database name, the first column of the key
	dialect string
}

var _ migrate.RevisionReadWriter = (*revisions)(nil)

// Ident implements migrate.RevisionReadWriter.
func (r *revisions) Ident() *migrate.TableIdent {
	return &migrate.TableIdent{Name: RevisionsTable}
}

// create creates the revisions table if it does not exist.
func (r *revisions) create(ctx context.Context) error {
	ts := "timestamptz"
	if r.dialect == config.SQLite {
		ts = "datetime"
	}
	_, err := r.q.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+RevisionsTable+` (
	db_name varchar(64) NOT NULL,
	version varchar(128) NOT NULL,
	description text NOT NULL,
	type integer NOT NULL,
	applied integer NOT NULL,
	total integer NOT NULL,
	applied_at `+ts+` NOT NULL,
	execution_ns bigint NOT NULL,
	hash text NOT NULL,
	operator_version text NOT NULL,
	PRIMARY KEY (db_name, version)
)`)
	if err != nil {
		return fmt.Errorf("create %s: %w", RevisionsTable, err)
	}
	return nil
}

// exists reports whether the revisions table exists. It asks the catalog rather than failing a
// query, because a failed query aborts the surrounding PostgreSQL transaction.
func (r *revisions) exists(ctx context.Context) (bool, error) {
	query := `SELECT to_regclass('` + RevisionsTable + `') IS NOT NULL`
	if r.dialect == config.SQLite {
		query = `SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '` + RevisionsTable + `'`
	}
	var ok bool
	if err := scanOne(ctx, r.q, query, nil, &ok); err != nil {
		return false, fmt.Errorf("look up %s: %w", RevisionsTable, err)
	}
	return ok, nil
}

const revisionColumns = `version, description, type, applied, total, applied_at, execution_ns, hash, operator_version`

// ReadRevisions implements migrate.RevisionReadWriter. It returns no revisions, and no error,
// when the table does not exist yet.
func (r *revisions) ReadRevisions(ctx context.Context) ([]*migrate.Revision, error) {
	if ok, err := r.exists(ctx); err != nil || !ok {
		return nil, err
	}
	rows, err := r.q.QueryContext(ctx, r.rebind(`SELECT `+revisionColumns+` FROM `+RevisionsTable+` WHERE db_name = ? ORDER BY version`), r.db)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", RevisionsTable, err)
	}
	defer rows.Close()
	var revs []*migrate.Revision
	for rows.Next() {
		rev, err := scanRevision(rows)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", RevisionsTable, err)
		}
		revs = append(revs, rev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", RevisionsTable, err)
	}
	return revs, nil
}

// ReadRevision implements migrate.RevisionReadWriter.
func (r *revisions) ReadRevision(ctx context.Context, version string) (*migrate.Revision, error) {
	if ok, err := r.exists(ctx); err != nil {
		return nil, err
	} else if !ok {
		return nil, migrate.ErrRevisionNotExist
	}
	rows, err := r.q.QueryContext(ctx, r.rebind(`SELECT `+revisionColumns+` FROM `+RevisionsTable+` WHERE db_name = ? AND version = ?`), r.db, version)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", RevisionsTable, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", RevisionsTable, err)
		}
		return nil, migrate.ErrRevisionNotExist
	}
	rev, err := scanRevision(rows)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", RevisionsTable, err)
	}
	return rev, nil
}

// WriteRevision implements migrate.RevisionReadWriter; it inserts or replaces the row of the
// revision's version.
func (r *revisions) WriteRevision(ctx context.Context, rev *migrate.Revision) error {
	_, err := r.q.ExecContext(ctx, r.rebind(`INSERT INTO `+RevisionsTable+` (db_name, `+revisionColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (db_name, version) DO UPDATE SET description = excluded.description, type = excluded.type,
	applied = excluded.applied, total = excluded.total, applied_at = excluded.applied_at,
	execution_ns = excluded.execution_ns, hash = excluded.hash, operator_version = excluded.operator_version`),
		r.db, rev.Version, rev.Description, int64(rev.Type), rev.Applied, rev.Total,
		rev.ExecutedAt.UTC(), rev.ExecutionTime.Nanoseconds(), rev.Hash, rev.OperatorVersion)
	if err != nil {
		return fmt.Errorf("write %s %s: %w", RevisionsTable, rev.Version, err)
	}
	return nil
}

// DeleteRevision implements migrate.RevisionReadWriter.
func (r *revisions) DeleteRevision(ctx context.Context, version string) error {
	if _, err := r.q.ExecContext(ctx, r.rebind(`DELETE FROM `+RevisionsTable+` WHERE db_name = ? AND version = ?`), r.db, version); err != nil {
		return fmt.Errorf("delete %s %s: %w", RevisionsTable, version, err)
	}
	return nil
}

// rebind turns the ? placeholders of query into PostgreSQL's $n.
func (r *revisions) rebind(query string) string {
	if r.dialect != config.Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func scanRevision(rows *sql.Rows) (*migrate.Revision, error) {
	var (
		rev      migrate.Revision
		typ, ns  int64
		executed time.Time
	)
	if err := rows.Scan(&rev.Version, &rev.Description, &typ, &rev.Applied, &rev.Total, &executed, &ns, &rev.Hash, &rev.OperatorVersion); err != nil {
		return nil, err
	}
	rev.Type = migrate.RevisionType(typ)
	rev.ExecutedAt = executed.UTC()
	rev.ExecutionTime = time.Duration(ns)
	return &rev, nil
}

// scanOne runs a query that returns one row and scans it into dest.
func scanOne(ctx context.Context, q schema.ExecQuerier, query string, args []any, dest ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

// dryRevisions reads revisions but drops every write. Status and dry runs use it, so that
// atlas's Pending, which records a baseline revision on first use, changes nothing.
type dryRevisions struct{ *revisions }

// WriteRevision implements migrate.RevisionReadWriter and does nothing.
func (dryRevisions) WriteRevision(context.Context, *migrate.Revision) error { return nil }

// DeleteRevision implements migrate.RevisionReadWriter and does nothing.
func (dryRevisions) DeleteRevision(context.Context, string) error { return nil }
