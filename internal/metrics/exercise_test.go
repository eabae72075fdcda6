package metrics_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/multidb/multidb/internal/metrics"
)

// exerciseAll makes every multidb_ metric of m have at least one series.
func exerciseAll(t *testing.T, m *metrics.Metrics) {
	t.Helper()
	srv := graphqlServer(t, m)
	post(t, srv, "query Fail { fail }", nil)
	drv, db := sqliteDriver(t)
	var res sql.Result
	if err := m.WrapDriver("users", drv).Exec(context.Background(), "SELECT 1", []any{}, &res); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterPools(func() map[string]*sql.DB { return map[string]*sql.DB{"users": db} }); err != nil {
		t.Fatal(err)
	}
	m.AuditDropped(1)
}
