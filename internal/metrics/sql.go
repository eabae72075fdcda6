package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
)

// WrapDriver returns d recording, under the database label name, the count, latency and
// errors of every statement d sends, inside transactions too. It has the signature of
// database.WithDriverWrapper.
func (m *Metrics) WrapDriver(name string, d dialect.Driver) dialect.Driver {
	return &driver{Driver: d, obs: m.sqlObserver(name)}
}

// sqlObserver holds the series of one database, resolved once rather than per statement.
type sqlObserver struct {
	statements, errors interface{ Inc() }
	duration           interface{ Observe(float64) }
}

func (m *Metrics) sqlObserver(name string) *sqlObserver {
	return &sqlObserver{
		statements: m.sqlStatements.WithLabelValues(name),
		errors:     m.sqlErrors.WithLabelValues(name),
		duration:   m.sqlDuration.WithLabelValues(name),
	}
}

// observe records one statement that started at start and ended with err.
func (o *sqlObserver) observe(start time.Time, err error) {
	o.duration.Observe(time.Since(start).Seconds())
	o.statements.Inc()
	if err != nil {
		o.errors.Inc()
	}
}

type driver struct {
	dialect.Driver
	obs *sqlObserver
}

func (d *driver) Exec(ctx context.Context, query string, args, v any) error {
	start := time.Now()
	err := d.Driver.Exec(ctx, query, args, v)
	d.obs.observe(start, err)
	return err
}

func (d *driver) Query(ctx context.Context, query string, args, v any) error {
	start := time.Now()
	err := d.Driver.Query(ctx, query, args, v)
	d.obs.observe(start, err)
	return err
}

func (d *driver) Tx(ctx context.Context) (dialect.Tx, error) {
	t, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &tx{Tx: t, obs: d.obs}, nil
}

// BeginTx is what generated ent clients call for (*Client).BeginTx; it is passed on when the
// wrapped driver has it, as entsql's does.
func (d *driver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	b, ok := d.Driver.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	})
	if !ok {
		return nil, fmt.Errorf("metrics: driver %T does not support BeginTx", d.Driver)
	}
	t, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &tx{Tx: t, obs: d.obs}, nil
}

// ExecContext is what generated ent clients with the sql/execquery feature call; it is passed
// on when the wrapped driver has it, as entsql's does.
func (d *driver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	e, ok := d.Driver.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	})
	if !ok {
		return nil, fmt.Errorf("metrics: driver %T does not support ExecContext", d.Driver)
	}
	start := time.Now()
	res, err := e.ExecContext(ctx, query, args...)
	d.obs.observe(start, err)
	return res, err
}

// QueryContext is the reading counterpart of ExecContext.
func (d *driver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q, ok := d.Driver.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	})
	if !ok {
		return nil, fmt.Errorf("metrics: driver %T does not support QueryContext", d.Driver)
	}
	start := time.Now()
	rows, err := q.QueryContext(ctx, query, args...)
	d.obs.observe(start, err)
	return rows, err
}

type tx struct {
	dialect.Tx
	obs *sqlObserver
}

func (t *tx) Exec(ctx context.Context, query string, args, v any) error {
	start := time.Now()
	err := t.Tx.Exec(ctx, query, args, v)
	t.obs.observe(start, err)
	return err
}

func (t *tx) Query(ctx context.Context, query string, args, v any) error {
	start := time.Now()
	err := t.Tx.Query(ctx, query, args, v)
	t.obs.observe(start, err)
	return err
}

func (t *tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	e, ok := t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	})
	if !ok {
		return nil, fmt.Errorf("metrics: transaction %T does not support ExecContext", t.Tx)
	}
	start := time.Now()
	res, err := e.ExecContext(ctx, query, args...)
	t.obs.observe(start, err)
	return res, err
}

func (t *tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q, ok := t.Tx.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	})
	if !ok {
		return nil, fmt.Errorf("metrics: transaction %T does not support QueryContext", t.Tx)
	}
	start := time.Now()
	rows, err := q.QueryContext(ctx, query, args...)
	t.obs.observe(start, err)
	return rows, err
}
