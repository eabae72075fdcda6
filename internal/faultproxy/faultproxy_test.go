package faultproxy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// echo starts a line echo server and returns its address.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					c.Write([]byte(line))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(c net.Conn) (string, error) {
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

func TestProxyForwardsDelaysCutsAndRestores(t *testing.T) {
	p, err := Start(echo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip(c); got != "ping\n" || err != nil {
		t.Fatalf("through the proxy: got %q %v, want ping", got, err)
	}

	p.SetDelay(150 * time.Millisecond)
	start := time.Now()
	if _, err := roundTrip(c); err != nil || time.Since(start) < 300*time.Millisecond {
		t.Errorf("with 150ms delay each way: round trip took %v (err %v), want at least 300ms", time.Since(start), err)
	}
	p.SetDelay(0)

	p.Cut()
	if _, err := roundTrip(c); err == nil {
		t.Error("an open connection survived Cut")
	}
	if c2, err := net.Dial("tcp", p.Addr()); err == nil {
		if _, err := roundTrip(c2); err == nil {
			t.Error("a new connection worked while cut")
		}
		c2.Close()
	}

	p.Restore()
	c3, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if got, err := roundTrip(c3); got != "ping\n" || err != nil {
		t.Errorf("after Restore: got %q %v, want ping", got, err)
	}
}

func TestBlackholeAcceptsAndAnswersNothing(t *testing.T) {
	p, err := Start(echo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	open, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if _, err := roundTrip(open); err != nil {
		t.Fatal(err)
	}

	p.Blackhole()
	fresh, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatalf("a blackhole still accepts connections: %v", err)
	}
	defer fresh.Close()
	for name, c := range map[string]net.Conn{"open": open, "new": fresh} {
		_, err := roundTrip(c) // 2s deadline
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("%s connection in a blackhole: got %v, want no answer (a timeout), not a reset", name, err)
		}
	}

	p.Restore()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := roundTrip(c); got != "ping\n" || err != nil {
		t.Errorf("after Restore: got %q %v, want ping", got, err)
	}
}

func TestRefuseAnswersAPostgresError(t *testing.T) {
	p, err := Start(echo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Refuse("57P03")
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	// A start-up message: length, protocol 3.0, user=x.
	startup := []byte{0, 0, 0, 0, 0, 3, 0, 0, 'u', 's', 'e', 'r', 0, 'x', 0, 0}
	binary.BigEndian.PutUint32(startup, uint32(len(startup)))
	if _, err := c.Write(startup); err != nil {
		t.Fatal(err)
	}
	msg, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(msg) < 5 || msg[0] != 'E' || !bytes.Contains(msg, []byte("C57P03\x00")) || !bytes.Contains(msg, []byte("SFATAL\x00")) {
		t.Errorf("got %q, want a FATAL ErrorResponse with SQLSTATE 57P03", msg)
	}
}
