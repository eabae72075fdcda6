package database

import (
	"context"
	"database/sql/driver"
	"math"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/multidb/multidb/internal/config"
)

// DeadlineGrace is how long a statement's connection may keep waiting for the server after the
// statement's context is done. lib/pq sends PostgreSQL a cancel request then and waits for the
// answer; on a network that drops everything neither ever comes, so past this grace the socket's
// deadline fails the read and the connection is thrown away.
const DeadlineGrace = time.Second

// postgresConnector opens lib/pq connections through a dialer that bounds every wait on the
// network: connecting (connect_timeout and the dial's context), a socket whose peer vanished
// (TCP keepalives and TCP_USER_TIMEOUT), and each statement (socket deadlines from the
// statement's context and the statement timeout).
type postgresConnector struct {
	pq    *pq.Connector
	limit time.Duration // the longest a statement's I/O may take without a context deadline; 0 = none
}

// newPostgresConnector builds the connector of dsn with the network settings of p.
func newPostgresConnector(dsn string, p config.Pool) (*postgresConnector, error) {
	dsn = withConnectTimeout(dsn, p.ConnectTimeout)
	c, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	c.Dialer(&dialer{d: net.Dialer{
		Timeout: p.ConnectTimeout,
		KeepAliveConfig: net.KeepAliveConfig{
			Enable:   p.Keepalive > 0,
			Idle:     p.Keepalive,
			Interval: p.Keepalive,
			Count:    3,
		},
		Control: userTimeout(p.TCPUserTimeout),
	}})
	limit := time.Duration(0)
	if st := urlStatementTimeout(dsn, p.StatementTimeout); st > 0 {
		// PostgreSQL cancels the statement at its timeout; the answer needs a moment more.
		limit = st + 5*time.Second
	}
	return &postgresConnector{pq: c, limit: limit}, nil
}

// urlStatementTimeout is the statement_timeout the URL gives the server, in milliseconds as
// withStatementTimeout writes it, else def. A value in other units (a URL of the operator's
// own, "10min") counts as none: the socket is then bounded by each statement's context only,
// never cut before the server's own limit.
func urlStatementTimeout(dsn string, def time.Duration) time.Duration {
	u, err := url.Parse(dsn)
	if err != nil {
		return 0
	}
	v := u.Query().Get("statement_timeout")
	if v == "" {
		return def
	}
	ms, err := strconv.Atoi(v)
	if err != nil || ms <= 0 {
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}

// withConnectTimeout sets lib/pq's connect_timeout (whole seconds, rounded up) unless the URL
// sets one. lib/pq applies it to the dial and the start-up handshake, and to the connection
// that carries a cancel request, which would otherwise wait for ever on a silent network.
func withConnectTimeout(dsn string, d time.Duration) string {
	if d <= 0 {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	if q.Get("connect_timeout") != "" {
		return dsn
	}
	q.Set("connect_timeout", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	u.RawQuery = q.Encode()
	return u.String()
}

type connSlotKey struct{}

// connSlot receives the socket that the dialer opens for one Connect call.
type connSlot struct {
	mu      sync.Mutex
	c       *deadlineConn
	expired bool
}

func (s *connSlot) set(c *deadlineConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c = c
	if s.expired {
		c.expire()
	}
}

func (s *connSlot) expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expired = true
	if s.c != nil {
		s.c.expire()
	}
}

// Connect implements driver.Connector.
func (c *postgresConnector) Connect(ctx context.Context) (driver.Conn, error) {
	slot := &connSlot{}
	// A statement that gives up while its connection is being opened stops the handshake too:
	// database/sql opens connections in the goroutine of the statement that needs one.
	stop := context.AfterFunc(ctx, slot.expire)
	defer stop()
	conn, err := c.pq.Connect(context.WithValue(ctx, connSlotKey{}, slot))
	if err != nil {
		return nil, err
	}
	if slot.c == nil {
		return conn, nil // a socket this dialer did not open (never with lib/pq)
	}
	if !stop() {
		conn.Close()
		return nil, ctx.Err()
	}
	return newBoundConn(conn, slot.c, c.limit), nil
}

// Driver implements driver.Connector.
func (c *postgresConnector) Driver() driver.Driver { return c.pq.Driver() }

// dialer is lib/pq's dialer: TCP keepalives and TCP_USER_TIMEOUT on every socket, and
// deadlines that follow the statement running on it.
type dialer struct{ d net.Dialer }

func (d *dialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d *dialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

// DialContext implements pq.DialerContext.
func (d *dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	nc, err := d.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	dc := &deadlineConn{Conn: nc}
	if slot, ok := ctx.Value(connSlotKey{}).(*connSlot); ok {
		slot.set(dc)
	}
	return dc, nil
}

// deadlineConn is a socket whose deadline follows the statement that uses it.
type deadlineConn struct {
	net.Conn
	mu      sync.Mutex
	stop    func() bool // ends the watch of the previous statement's context
	expired bool        // the handshake's context is done: no deadline may be extended
}

// SetDeadline is lib/pq's, during the handshake: it may not extend the deadline of a
// connection whose opener has given up.
func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.expired {
		t = time.Now()
	}
	return c.Conn.SetDeadline(t)
}

func (c *deadlineConn) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expired = true
	_ = c.Conn.SetDeadline(time.Now())
}

// watch bounds the I/O of the statement about to run: its reads and writes fail at the
// context's deadline plus DeadlineGrace, DeadlineGrace after the context is cancelled, and at
// the latest limit from now (when limit > 0). Each statement replaces the previous watch, so an
// idle connection keeps no deadline of a request that has ended.
func (c *deadlineConn) watch(ctx context.Context, limit time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		c.stop()
		c.stop = nil
	}
	var d time.Time
	if limit > 0 {
		d = time.Now().Add(limit)
	}
	if dl, ok := ctx.Deadline(); ok && (d.IsZero() || dl.Add(DeadlineGrace).Before(d)) {
		d = dl.Add(DeadlineGrace)
	}
	_ = c.Conn.SetDeadline(d)
	if ctx.Done() != nil {
		c.stop = context.AfterFunc(ctx, func() { _ = c.Conn.SetDeadline(time.Now().Add(DeadlineGrace)) })
	}
}

// unwatch ends the current watch and clears the deadline.
func (c *deadlineConn) unwatch() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		c.stop()
		c.stop = nil
	}
	_ = c.Conn.SetDeadline(time.Time{})
}

func (c *deadlineConn) Close() error {
	c.mu.Lock()
	if c.stop != nil {
		c.stop()
		c.stop = nil
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// pqConn is what database/sql uses of a lib/pq connection.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

// boundConn is a lib/pq connection that sets its socket's deadline before each statement.
// Commit and Rollback take no context: they run under the deadline of the transaction's last
// statement, which is the request's.
type boundConn struct {
	pqConn
	nc    *deadlineConn
	limit time.Duration
}

func newBoundConn(conn driver.Conn, nc *deadlineConn, limit time.Duration) driver.Conn {
	pc, ok := conn.(pqConn)
	if !ok {
		return conn
	}
	nc.unwatch() // lib/pq resets the handshake's deadline itself; this also drops the dial's
	return &boundConn{pqConn: pc, nc: nc, limit: limit}
}

func (c *boundConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.nc.watch(ctx, c.limit)
	return c.pqConn.BeginTx(ctx, opts)
}

func (c *boundConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.nc.watch(ctx, c.limit)
	return c.pqConn.PrepareContext(ctx, query)
}

func (c *boundConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.nc.watch(ctx, c.limit)
	return c.pqConn.ExecContext(ctx, query, args)
}

func (c *boundConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.nc.watch(ctx, c.limit)
	return c.pqConn.QueryContext(ctx, query, args)
}

func (c *boundConn) Ping(ctx context.Context) error {
	c.nc.watch(ctx, c.limit)
	return c.pqConn.Ping(ctx)
}
