package main

import (
	"errors"
	"strings"
	"testing"

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
