//go:build !linux

package database

import (
	"syscall"
	"time"
)

// userTimeout is a no-op where TCP_USER_TIMEOUT does not exist; keepalives and the
// statement deadlines still bound every wait.
func userTimeout(time.Duration) func(network, address string, c syscall.RawConn) error {
	return nil
}
