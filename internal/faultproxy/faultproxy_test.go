package faultproxy

import (
	"bufio"
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
