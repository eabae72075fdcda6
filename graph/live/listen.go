package live

import (
	"time"

	"github.com/lib/pq"
)

// Channel is the NOTIFY channel of table: the migrations' trigger sends on it after every
// statement that inserts into the table, from whichever replica wrote.
func Channel(table string) string { return "multidb_live_" + table }

// ListenPostgres returns a Table.Listen that wakes a feed on every NOTIFY of channel on the
// PostgreSQL database of dsn. A dropped listener connection is reopened by lib/pq; the feed
// is woken then too, as notifications sent meanwhile are lost, and its poll covers the gap.
func ListenPostgres(dsn, channel string) func(wake func()) (stop func()) {
	return func(wake func()) func() {
		l := pq.NewListener(dsn, time.Second, 30*time.Second, func(ev pq.ListenerEventType, err error) {
			if ev == pq.ListenerEventReconnected {
				wake()
			}
		})
		// An error here (the database is down) is retried by the listener in the background.
		_ = l.Listen(channel)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range l.Notify {
				wake()
			}
		}()
		return func() {
			_ = l.Close() // closes l.Notify, ending the goroutine
			<-done
		}
	}
}
