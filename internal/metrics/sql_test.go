package metrics_test

import (
	"context"
	"database/sql"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "modernc.org/sqlite"

	"github.com/multidb/multidb/internal/metrics"
)

// sqliteDriver opens an ent driver on a fresh SQLite file.
func sqliteDriver(t *testing.T) (*entsql.Driver, *sql.DB) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+t.TempDir()+"/x.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return entsql.OpenDB(dialect.SQLite, db), db
}

func TestWrapDriver(t *testing.T) {
	ctx := context.Background()
	m := metrics.New()
	usersDrv, _ := sqliteDriver(t)
	logsDrv, _ := sqliteDriver(t)
	// The signature database.WithDriverWrapper takes.
	var wrap func(string, dialect.Driver) dialect.Driver = m.WrapDriver
	users, logs := wrap("users", usersDrv), wrap("logs", logsDrv)

	exec := func(ex dialect.ExecQuerier, query string, args ...any) error {
		t.Helper()
		var res sql.Result
		return ex.Exec(ctx, query, args, &res)
	}
	query := func(ex dialect.ExecQuerier, query string) int {
		t.Helper()
		var rows entsql.Rows
		if err := ex.Query(ctx, query, []any{}, &rows); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
		}
		return n
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// users: 9 statements, 1 of them failing.
	must(exec(users, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")) // 1
	must(exec(users, "INSERT INTO t (name) VALUES (?)", "a"))               // 2
	assertEqual(t, "rows", query(users, "SELECT id FROM t"), 1)             // 3
	if err := exec(users, "INSERT INTO missing VALUES (1)"); err == nil {   // 4, fails
		t.Fatal("insert into a missing table succeeded")
	}
	tx, err := users.Tx(ctx)
	must(err)
	must(exec(tx, "INSERT INTO t (name) VALUES (?)", "b"))         // 5
	assertEqual(t, "rows in tx", query(tx, "SELECT id FROM t"), 2) // 6
	must(tx.Commit())
	// Generated clients call BeginTx for (*Client).BeginTx.
	btx, err := users.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	}).BeginTx(ctx, &sql.TxOptions{})
	must(err)
	must(exec(btx, "INSERT INTO t (name) VALUES (?)", "c")) // 7
	must(btx.Rollback())
	// Generated clients with the sql/execquery feature call ExecContext and QueryContext.
	ec := users.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	})
	_, err = ec.ExecContext(ctx, "DELETE FROM t WHERE name = ?", "zzz") // 8
	must(err)
	rows, err := ec.QueryContext(ctx, "SELECT count(*) FROM t") // 9
	must(err)
	rows.Close()

	// logs: 1 statement.
	must(exec(logs, "CREATE TABLE l (id INTEGER PRIMARY KEY)"))

	e := scrape(t, m)
	assertEqual(t, "statements users", e.value(t, "multidb_sql_statements_total", "database", "users"), 9)
	assertEqual(t, "errors users", e.value(t, "multidb_sql_errors_total", "database", "users"), 1)
	n, sum := e.histogram(t, "multidb_sql_statement_duration_seconds", "database", "users")
	assertEqual(t, "duration samples users", n, 9)
	if sum <= 0 {
		t.Errorf("duration sum users: got %v, want > 0", sum)
	}
	assertEqual(t, "statements logs", e.value(t, "multidb_sql_statements_total", "database", "logs"), 1)
	assertEqual(t, "errors logs", e.value(t, "multidb_sql_errors_total", "database", "logs"), 0)
	assertEqual(t, "dialect", users.Dialect(), dialect.SQLite)
}
