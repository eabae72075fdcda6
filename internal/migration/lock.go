package migration

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/lib/pq"
	"modernc.org/sqlite"

	"github.com/multidb/multidb/internal/config"
)

// LockKey is the PostgreSQL advisory lock key that migrators of the named database take.
func LockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("multidb:migrate:" + name))
	return int64(h.Sum64())
}

// session returns the one connection a run works on, and the function that ends the run.
//
// On PostgreSQL the connection holds the migration lock, a session advisory lock, until then.
// It is taken with a blocking pg_advisory_lock under lock_timeout, rather than with atlas's
// Locker, which polls pg_try_advisory_lock with sleeps that ignore ctx and hands its
// connection back to the pool even when the unlock fails: here the server queues waiters in
// order, a cancelled ctx cancels the wait, and a connection that may still hold the lock is
// closed instead of reused.
//
// SQLite needs no lock of its own: every file, and the planning before it, runs in a write
// transaction (BEGIN IMMEDIATE, from the DSN's _txlock=immediate), which serialises migrators
// in any number of processes.
//
// Working on one connection also keeps a run from waiting on itself in a pool of one.
func (m *Migrator) session(ctx context.Context) (*sql.Conn, func(), error) {
	conn, err := m.db.SQL.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("migrate %s: connect: %w", m.name, err)
	}
	if m.dialect != config.Postgres {
		return conn, func() { conn.Close() }, nil
	}
	key := LockKey(m.name)
	timeout := "0" // no limit
	if m.lockTimeout > 0 {
		timeout = fmt.Sprintf("%dms", max(m.lockTimeout.Milliseconds(), 1))
	}
	if _, err := conn.ExecContext(ctx, `SELECT set_config('lock_timeout', $1, false)`, timeout); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("migrate %s: lock: %w", m.name, err)
	}
	_, err = conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key)
	if err == nil {
		if _, err := conn.ExecContext(ctx, `RESET lock_timeout`); err != nil {
			m.unlock(conn, key)
			return nil, nil, fmt.Errorf("migrate %s: lock: %w", m.name, err)
		}
		return conn, func() { m.unlock(conn, key) }, nil
	}
	discard(conn)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "55P03" { // lock_not_available
		return nil, nil, fmt.Errorf("migrate %s: %w (advisory lock %d): gave up after %s: %w", m.name, ErrLocked, key, m.lockTimeout, err)
	}
	return nil, nil, fmt.Errorf("migrate %s: lock: %w", m.name, err)
}

// unlock releases the advisory lock and closes its connection; if the release fails the
// connection is discarded, since closing the session is what releases the lock then.
func (m *Migrator) unlock(conn *sql.Conn, key int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var released bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1)`, key).Scan(&released); err != nil || !released {
		discard(conn)
		return
	}
	conn.Close()
}

// discard closes conn's underlying connection instead of returning it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

// busy wraps SQLite's "database is locked" (SQLITE_BUSY after busy_timeout) in ErrLocked.
func (m *Migrator) busy(err error) error {
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) && sqliteErr.Code()&0xff == 5 { // SQLITE_BUSY
		return fmt.Errorf("%w: %w", ErrLocked, err)
	}
	return err
}
