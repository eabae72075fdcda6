package config

import (
	"errors"
	"fmt"
	"time"
)

// Live are the settings of subscriptions (README "Live data"), each from its LIVE_* variable.
type Live struct {
	Poll             time.Duration // LIVE_POLL_INTERVAL: how often a table with subscribers is read when nothing woke it
	Settle           time.Duration // LIVE_SETTLE: how old a row's id must be before it is delivered
	Recheck          time.Duration // LIVE_RECHECK: how often a WebSocket connection checks its session
	Buffer           int           // LIVE_BUFFER: messages waiting for one subscriber before SLOW_CONSUMER
	BatchRows        int           // LIVE_BATCH_ROWS: rows one wake-up's statement reads at most
	BatchPairs       int           // LIVE_BATCH_PAIRS: (row, subscriber) pairs one statement returns at most
	MaxPerUser       int           // LIVE_MAX_PER_USER: subscriptions of one user on one server
	MaxPerConnection int           // LIVE_MAX_PER_CONNECTION: subscriptions of one WebSocket connection
}

// Live reads the LIVE_* settings; def holds the defaults. Every error names the variable
// and how to fix it.
func (c *Config) Live(def Live) (Live, error) {
	out := def
	var errs []error
	duration := func(key string, to *time.Duration, min time.Duration, hint string) {
		d, err := c.Duration(key, *to, min, 0, hint)
		errs = append(errs, err)
		*to = d
	}
	count := func(key string, to *int, max int, hint string) {
		n, err := c.Int(key, *to, 1, max, hint)
		errs = append(errs, err)
		*to = n
	}
	duration("LIVE_POLL_INTERVAL", &out.Poll, 10*time.Millisecond, "use a value such as 500ms (NOTIFY wakes PostgreSQL feeds sooner; this is the fallback, and SQLite's only wake-up)")
	duration("LIVE_SETTLE", &out.Settle, time.Millisecond, "use a value such as 500ms, longer than the commits of your slowest writer take")
	duration("LIVE_RECHECK", &out.Recheck, 100*time.Millisecond, "use a value such as 3s: a revoked session ends its subscriptions within it")
	count("LIVE_BUFFER", &out.Buffer, 1_000_000, "use a number such as 1024, more than LIVE_BATCH_ROWS")
	count("LIVE_BATCH_ROWS", &out.BatchRows, 100_000, "use a number such as 1000")
	count("LIVE_BATCH_PAIRS", &out.BatchPairs, 10_000_000, "use a number such as 50000")
	count("LIVE_MAX_PER_USER", &out.MaxPerUser, 1_000_000, "use a number such as 100")
	count("LIVE_MAX_PER_CONNECTION", &out.MaxPerConnection, 10_000, "use a number such as 50")
	if err := errors.Join(errs...); err != nil {
		return def, err
	}
	// One wake-up reads up to LIVE_BATCH_ROWS rows for a subscriber that had read everything:
	// a smaller buffer would end it for no fault of its own.
	if out.Buffer <= out.BatchRows {
		return def, fmt.Errorf("%w: LIVE_BUFFER=%d must exceed LIVE_BATCH_ROWS=%d, or one wake-up alone could end a subscriber that keeps up; raise LIVE_BUFFER or lower LIVE_BATCH_ROWS",
			ErrConfig, out.Buffer, out.BatchRows)
	}
	return out, nil
}
