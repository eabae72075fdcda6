package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/multidb/multidb/internal/config"
)

// TestLiveSettings checks that serve takes the LIVE_* settings, and refuses a bad one with an
// error naming it.
func TestLiveSettings(t *testing.T) {
	for _, c := range []struct {
		vars map[string]string
		bad  string
	}{
		{nil, ""},
		{map[string]string{"LIVE_POLL_INTERVAL": "1s", "LIVE_MAX_PER_CONNECTION": "10", "LIVE_RECHECK": "10s"}, ""},
		{map[string]string{"LIVE_BUFFER": "lots"}, "LIVE_BUFFER"},
		{map[string]string{"LIVE_BATCH_ROWS": "5000"}, "LIVE_BATCH_ROWS"}, // above the default buffer
		{map[string]string{"LIVE_SETTLE": "0"}, "LIVE_SETTLE"},
	} {
		cfg := &config.Config{Env: config.Production, Lookup: func(k string) (string, bool) { v, ok := c.vars[k]; return v, ok }}
		opts, err := liveSettings(cfg)
		if c.bad == "" {
			if err != nil || len(opts) == 0 {
				t.Errorf("%v: got %d options, %v", c.vars, len(opts), err)
			}
			continue
		}
		if !errors.Is(err, config.ErrConfig) || !strings.Contains(err.Error(), c.bad) {
			t.Errorf("%v: got %v, want an error naming %s", c.vars, err, c.bad)
		}
	}
}
