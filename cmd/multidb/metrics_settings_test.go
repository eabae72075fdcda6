package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/multidb/multidb/graph/account"
	"github.com/multidb/multidb/internal/config"
)

// TestMetricsSettings checks where /metrics is served: production keeps it off the public
// port unless METRICS_PUBLIC says otherwise, and a bad METRICS_ADDR names the variable.
func TestMetricsSettings(t *testing.T) {
	cfgOf := func(env string, vars map[string]string) *config.Config {
		return &config.Config{Env: env, Lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	}
	for _, c := range []struct {
		env        string
		vars       map[string]string
		addr       string
		public     bool
		errMention string
	}{
		{config.Development, nil, "", true, ""},
		{config.Production, nil, "", false, ""},
		{config.Production, map[string]string{"METRICS_ADDR": "127.0.0.1:9090"}, "127.0.0.1:9090", false, ""},
		{config.Development, map[string]string{"METRICS_ADDR": ":9090"}, ":9090", false, ""},
		{config.Production, map[string]string{"METRICS_PUBLIC": "true"}, "", true, ""},
		{config.Production, map[string]string{"METRICS_ADDR": "9090"}, "", false, "METRICS_ADDR"},
		{config.Production, map[string]string{"METRICS_PUBLIC": "perhaps"}, "", false, "METRICS_PUBLIC"},
	} {
		addr, public, err := metricsSettings(cfgOf(c.env, c.vars))
		if c.errMention != "" {
			if !errors.Is(err, config.ErrConfig) || !strings.Contains(err.Error(), c.errMention) {
				t.Errorf("%s %v: error %v, want one naming %s", c.env, c.vars, err, c.errMention)
			}
			continue
		}
		if err != nil || addr != c.addr || public != c.public {
			t.Errorf("%s %v: got %q, public %v, %v; want %q, public %v", c.env, c.vars, addr, public, err, c.addr, c.public)
		}
	}
}

// TestShareSettings checks that a bad DB_VIEWER_SHARE or DB_VIEWER_WAIT is refused with an
// error that names the variable.
func TestShareSettings(t *testing.T) {
	for _, c := range []struct {
		vars map[string]string
		bad  string
	}{
		{nil, ""},
		{map[string]string{"DB_VIEWER_SHARE": "0.25", "DB_VIEWER_WAIT": "1s"}, ""},
		{map[string]string{"DB_VIEWER_SHARE": "0"}, "DB_VIEWER_SHARE"},
		{map[string]string{"DB_VIEWER_SHARE": "1.5"}, "DB_VIEWER_SHARE"},
		{map[string]string{"DB_VIEWER_SHARE": "half"}, "DB_VIEWER_SHARE"},
		{map[string]string{"DB_VIEWER_WAIT": "soon"}, "DB_VIEWER_WAIT"},
	} {
		cfg := &config.Config{Env: config.Production, Lookup: func(k string) (string, bool) { v, ok := c.vars[k]; return v, ok }}
		wrap, err := shareSettings(cfg)
		switch {
		case c.bad == "" && (err != nil || wrap == nil):
			t.Errorf("%v: %v", c.vars, err)
		case c.bad != "" && (!errors.Is(err, config.ErrConfig) || !strings.Contains(err.Error(), c.bad)):
			t.Errorf("%v: error %v, want one naming %s", c.vars, err, c.bad)
		}
	}
}

// TestSessionCacheTTLSetting: SESSION_CACHE_TTL is refused past account.MaxSessionCacheTTL,
// the longest a revoked or expired session may keep working on one server.
func TestSessionCacheTTLSetting(t *testing.T) {
	for _, c := range []struct {
		value string
		want  time.Duration
		bad   bool
	}{
		{"", account.DefaultSessionCacheTTL, false},
		{"0", 0, false},
		{"10s", 10 * time.Second, false},
		{"11s", 0, true},
		{"24h", 0, true},
		{"soon", 0, true},
	} {
		cfg := &config.Config{Env: config.Production, Lookup: func(k string) (string, bool) {
			return c.value, k == "SESSION_CACHE_TTL" && c.value != ""
		}}
		var errs []error
		got := sessionCacheTTL(cfg, &errs)
		err := errors.Join(errs...)
		switch {
		case c.bad && (!errors.Is(err, config.ErrConfig) || !strings.Contains(err.Error(), "SESSION_CACHE_TTL")):
			t.Errorf("%q: error %v, want one naming SESSION_CACHE_TTL", c.value, err)
		case !c.bad && (err != nil || got != c.want):
			t.Errorf("%q: got %v, %v; want %v", c.value, got, err, c.want)
		}
	}
}
