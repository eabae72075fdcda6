package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/testdb"
)

// inDir runs the test in a fresh directory holding the given files, as a user's checkout would,
// with the process environment cleared of multidb's variables.
func inDir(t *testing.T, files map[string]string) {
	t.Helper()
	for _, k := range []string{"ENV", "PORT", "DATA_DIR", "USERS_DATABASE_URL", "ANALYTICS_DATABASE_URL", "LOGS_DATABASE_URL"} {
		if v, ok := os.LookupEnv(k); ok {
			os.Unsetenv(k)
			t.Cleanup(func() { os.Setenv(k, v) })
		}
	}
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
}

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, &out, &out)
	return out.String(), err
}

func TestMigrateStagingOnPostgres(t *testing.T) {
	testdb.RequirePostgres(t, true)
	env := "ENV=staging\n"
	for _, name := range []string{"users", "analytics", "logs"} {
		env += config.EnvVar(name) + "=" + testdb.URL(t, config.Postgres, name) + "\n"
	}
	inDir(t, map[string]string{".env": "ENV=staging\n", ".env.staging": env})

	out, err := runCLI(t, "migrate", "status")
	if err != nil {
		t.Fatalf("status before: %v\n%s", err, out)
	}
	if strings.Count(out, "behind") != 3 {
		t.Errorf("status before migrating: want three databases behind, got\n%s", out)
	}
	if out, err = runCLI(t, "migrate", "--dry-run"); err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if !strings.Contains(out, "CREATE TABLE") {
		t.Errorf("dry run printed no SQL:\n%s", out)
	}
	if out, _ = runCLI(t, "migrate", "status"); strings.Count(out, "behind") != 3 {
		t.Errorf("dry run applied something:\n%s", out)
	}
	if out, err = runCLI(t, "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	out, err = runCLI(t, "migrate", "status")
	if err != nil {
		t.Fatalf("status after: %v\n%s", err, out)
	}
	if strings.Count(out, "current") != 3 {
		t.Errorf("status after migrating: want three databases current, got\n%s", out)
	}
	if out, err = runCLI(t, "migrate"); err != nil || strings.Count(out, "up to date") != 3 {
		t.Errorf("second migrate: err %v, want three 'up to date' lines:\n%s", err, out)
	}
	if out, err = runCLI(t, "migrate", "down", "1", "--db", "logs"); err != nil {
		t.Fatalf("down: %v\n%s", err, out)
	}
	out, _ = runCLI(t, "migrate", "status")
	if strings.Count(out, "current") != 2 || !strings.Contains(out, "logs") || strings.Count(out, "behind") != 1 {
		t.Errorf("after down 1 --db logs: want logs behind, the others current:\n%s", out)
	}
}

func TestMigrateAndSeedTheDevelopmentDefault(t *testing.T) {
	inDir(t, nil)
	if out, err := runCLI(t, "migrate", "lint"); err != nil || !strings.Contains(out, "no destructive changes") {
		t.Errorf("lint of the shipped files: err %v\n%s", err, out)
	}
	if out, err := runCLI(t, "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	for _, name := range []string{"users", "analytics", "logs"} {
		if _, err := os.Stat(filepath.Join("data", name+".db")); err != nil {
			t.Errorf("data/%s.db: %v", name, err)
		}
	}
	out, err := runCLI(t, "seed")
	if err != nil || strings.Count(out, "seeded") != 3 {
		t.Fatalf("seed: err %v, want three databases seeded:\n%s", err, out)
	}
	if out, err = runCLI(t, "seed"); err != nil || strings.Contains(out, "seeded 2") || strings.Count(out, "nothing to seed") != 3 {
		t.Errorf("second seed: err %v, want nothing seeded:\n%s", err, out)
	}
}

func TestCommandErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		args  []string
		want  string
		isCfg bool
	}{
		{"staging without a URL", map[string]string{".env.staging": "USERS_DATABASE_URL=postgres://127.0.0.1:5432/x\n"}, []string{"migrate"}, "ANALYTICS_DATABASE_URL is not set", true},
		{"unknown scheme", map[string]string{".env": "LOGS_DATABASE_URL=mongodb://h/x\n"}, []string{"seed"}, "LOGS_DATABASE_URL", true},
		{"unreachable server", map[string]string{".env": "USERS_DATABASE_URL=postgres://postgres@127.0.0.1:1/nope\n"}, []string{"migrate"}, "cannot reach USERS_DATABASE_URL", false},
		{"unknown database", nil, []string{"migrate", "--db", "orders"}, `"orders" is not a database`, false},
		{"bad down count", nil, []string{"migrate", "down", "zero"}, "N must be a positive number", false},
		{"unknown command", nil, []string{"frobnicate"}, "unknown command", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := tt.files
			env := map[string]string{}
			for k, v := range files {
				env[k] = v
			}
			if strings.Contains(tt.name, "staging") {
				env[".env"] = "ENV=staging\n"
			}
			inDir(t, env)
			out, err := runCLI(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q\n%s", err, tt.want, out)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines, want one: %q", err)
			}
			if got := errors.Is(err, config.ErrConfig); got != tt.isCfg {
				t.Errorf("config error: got %v, want %v", got, tt.isCfg)
			}
			if _, statErr := os.Stat("data"); statErr == nil && tt.isCfg {
				t.Error("a configuration error still created ./data")
			}
		})
	}
}
