package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
)

// TestServeRefusesAnyOriginInProduction: CORS_ORIGINS=* stops serve in production before it
// opens a database, with an error that names the variable.
func TestServeRefusesAnyOriginInProduction(t *testing.T) {
	env := "ENV=production\nCORS_ORIGINS=*\n"
	for _, name := range database.Names() {
		env += config.EnvVar(name) + "=postgres://postgres@127.0.0.1:1/never\n"
	}
	inDir(t, map[string]string{".env": env})
	out, err := runCLI(t, "serve")
	if err == nil || !strings.Contains(err.Error(), "CORS_ORIGINS") || !errors.Is(err, config.ErrConfig) {
		t.Fatalf("serve: got %v, want a configuration error naming CORS_ORIGINS\n%s", err, out)
	}
}
