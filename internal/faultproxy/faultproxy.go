// Package faultproxy is a TCP proxy for tests that stands between the server and a database
// and can delay, cut, blackhole and restore its connections, or answer as a PostgreSQL server
// that refuses work, to inject the failures of a real network and of a real server.
package faultproxy

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"time"
)

// Proxy forwards connections from its own address to a target address.
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	delay   time.Duration
	down    bool
	hole    bool   // accept and forward nothing, in either direction
	refuse  string // answer every new connection with this SQLSTATE
	conns   map[net.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup
	accepts int
}

// Accepts counts the connections accepted so far, for tests that check reconnects.
func (p *Proxy) Accepts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepts
}

// Start listens on a free loopback port and forwards to target ("127.0.0.1:5432").
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the address clients connect to instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetDelay delays every chunk of data in both directions by d (0 for none).
func (p *Proxy) SetDelay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

// Cut closes every open connection and refuses new ones until Restore, as a database server
// that went away would.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
}

// Blackhole makes the network silent, as a partition does: connections are still accepted,
// and what is sent on them, new or open, is dropped without an answer or a reset, until
// Restore. The connections it silenced are closed by Restore: their streams have lost data.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	p.hole = true
	p.mu.Unlock()
}

// Refuse makes the proxy answer each new connection as a PostgreSQL server that takes no work
// would, with a FATAL ErrorResponse carrying sqlstate (57P03: starting up or in recovery;
// 53300: too many connections), and closes the open ones, as such a server did. Until Restore.
func (p *Proxy) Refuse(sqlstate string) {
	p.mu.Lock()
	p.refuse = sqlstate
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
}

// Restore accepts and forwards connections again; connections silenced by Blackhole are closed.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.down = false
	p.refuse = ""
	if p.hole {
		p.hole = false
		for c := range p.conns {
			c.Close()
		}
	}
	p.mu.Unlock()
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down || p.closed {
			p.mu.Unlock()
			client.Close()
			continue
		}
		p.accepts++
		hole, refuse := p.hole, p.refuse
		p.mu.Unlock()
		p.wg.Add(1)
		switch {
		case hole:
			go p.swallow(client)
		case refuse != "":
			go p.refuseConn(client, refuse)
		default:
			go p.handle(client)
		}
	}
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down || p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *Proxy) handle(client net.Conn) {
	defer p.wg.Done()
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client) || !p.track(server) {
		client.Close()
		server.Close()
		return
	}
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client); done <- struct{}{} }()
	go func() { p.pipe(client, server); done <- struct{}{} }()
	<-done
	p.untrack(client)
	p.untrack(server)
	<-done
}

func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			d, hole := p.delay, p.hole
			p.mu.Unlock()
			if hole {
				continue // dropped on the way
			}
			if d > 0 {
				time.Sleep(d)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or a cut connection: the other direction is closed by handle
		}
	}
}

// swallow holds a connection accepted during a blackhole and reads what it sends, answering
// nothing, until it is closed (by the client, Restore or Close).
func (p *Proxy) swallow(client net.Conn) {
	defer p.wg.Done()
	if !p.track(client) {
		client.Close()
		return
	}
	defer p.untrack(client)
	_, _ = io.Copy(io.Discard, client)
}

// refuseConn reads a PostgreSQL start-up (after declining TLS if asked) and answers it with a
// FATAL ErrorResponse of sqlstate, then closes the connection.
func (p *Proxy) refuseConn(client net.Conn, sqlstate string) {
	defer p.wg.Done()
	defer client.Close()
	_ = client.SetDeadline(time.Now().Add(5 * time.Second))
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(client, hdr[:]); err != nil {
			return
		}
		size := binary.BigEndian.Uint32(hdr[:4])
		code := binary.BigEndian.Uint32(hdr[4:])
		if size < 8 || size > 10_000 {
			return
		}
		if _, err := io.CopyN(io.Discard, client, int64(size-8)); err != nil {
			return
		}
		switch code {
		case 80877103, 80877104: // SSLRequest, GSSENCRequest: not here
			if _, err := client.Write([]byte{'N'}); err != nil {
				return
			}
			continue
		case 80877102: // CancelRequest: nothing to cancel
			return
		}
		_, _ = client.Write(errorResponse(sqlstate, refusalMessage(sqlstate)))
		return
	}
}

func refusalMessage(sqlstate string) string {
	switch sqlstate {
	case "57P03":
		return "the database system is not yet accepting connections"
	case "53300":
		return "sorry, too many clients already"
	case "57P01":
		return "terminating connection due to administrator command"
	}
	return "refused"
}

// errorResponse is a PostgreSQL ErrorResponse message of severity FATAL.
func errorResponse(sqlstate, msg string) []byte {
	var body []byte
	for _, f := range []struct {
		t byte
		v string
	}{{'S', "FATAL"}, {'V', "FATAL"}, {'C', sqlstate}, {'M', msg}} {
		body = append(body, f.t)
		body = append(body, f.v...)
		body = append(body, 0)
	}
	body = append(body, 0)
	out := []byte{'E', 0, 0, 0, 0}
	binary.BigEndian.PutUint32(out[1:], uint32(len(body)+4))
	return append(out, body...)
}
