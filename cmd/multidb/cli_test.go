package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/seed"
	"github.com/multidb/multidb/internal/testdb"
)

// inDir runs the test in a fresh directory holding the given files, as a user's checkout would,
// with the process environment cleared of multidb's variables.
func inDir(t *testing.T, files map[string]string) {
	t.Helper()
	vars := []string{"ENV", "PORT", "DATA_DIR"}
	for _, name := range database.Names() {
		vars = append(vars, config.EnvVar(name))
	}
	for _, k := range vars {
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

// migrateStates parses `migrate status`: the state column ("current", "behind: …") of each
// database.
func migrateStates(t *testing.T, out string) map[string]string {
	t.Helper()
	states := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 5 {
			t.Fatalf("migrate status: unexpected line %q in\n%s", line, out)
		}
		states[f[0]] = strings.Join(f[4:], " ")
	}
	return states
}

// wantStates fails unless every registered database, and only those, is in the state of
// want (want(name) returns "current" or "behind").
func wantStates(t *testing.T, when, out string, want func(name string) string) {
	t.Helper()
	states := migrateStates(t, out)
	if len(states) != len(database.Registry) {
		t.Errorf("%s: status lists %d databases, the registry %d:\n%s", when, len(states), len(database.Registry), out)
	}
	for _, name := range database.Names() {
		if w := want(name); !strings.HasPrefix(states[name], w) {
			t.Errorf("%s: %s is %q, want %s:\n%s", when, name, states[name], w, out)
		}
	}
}

func TestMigrateStagingOnPostgres(t *testing.T) {
	testdb.RequirePostgres(t, true)
	names := database.Names()
	env := "ENV=staging\n"
	for _, name := range names {
		env += config.EnvVar(name) + "=" + testdb.URL(t, config.Postgres, name) + "\n"
	}
	inDir(t, map[string]string{".env": "ENV=staging\n", ".env.staging": env})
	all := func(state string) func(string) string { return func(string) string { return state } }

	out, err := runCLI(t, "migrate", "status")
	if code := exitCode(err); code != exitBehind {
		t.Fatalf("status before: exit code %d (%v), want %d (behind)\n%s", code, err, exitBehind, out)
	}
	wantStates(t, "status before migrating", out, all("behind"))
	if out, err = runCLI(t, "migrate", "--dry-run"); err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if !strings.Contains(out, "CREATE TABLE") {
		t.Errorf("dry run printed no SQL:\n%s", out)
	}
	out, _ = runCLI(t, "migrate", "status")
	wantStates(t, "after a dry run", out, all("behind"))
	if out, err = runCLI(t, "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	out, err = runCLI(t, "migrate", "status")
	if err != nil {
		t.Fatalf("status after: %v\n%s", err, out)
	}
	wantStates(t, "status after migrating", out, all("current"))
	if out, err = runCLI(t, "migrate"); err != nil || strings.Count(out, "up to date") != len(names) {
		t.Errorf("second migrate: err %v, want an 'up to date' line per database (%d):\n%s", err, len(names), out)
	}
	// Any database will do: down 1 leaves it behind and every other one current.
	down := names[len(names)-1]
	if out, err = runCLI(t, "migrate", "down", "1", "--db", down, "--yes"); err != nil {
		t.Fatalf("down: %v\n%s", err, out)
	}
	out, _ = runCLI(t, "migrate", "status")
	wantStates(t, "after down 1 --db "+down, out, func(name string) string {
		if name == down {
			return "behind"
		}
		return "current"
	})
}

// exitCode is the code the process would exit with for err, as main decides it.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, config.ErrConfig), errors.Is(err, errUsage):
		return 2
	}
	return 1
}

func TestMigrateAndSeedTheDevelopmentDefault(t *testing.T) {
	inDir(t, nil)
	if out, err := runCLI(t, "migrate", "lint"); err != nil || !strings.Contains(out, "no destructive changes") {
		t.Errorf("lint of the shipped files: err %v\n%s", err, out)
	}
	if out, err := runCLI(t, "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	for _, name := range database.Names() {
		if _, err := os.Stat(filepath.Join("data", name+".db")); err != nil {
			t.Errorf("data/%s.db: %v", name, err)
		}
	}
	// What the seeds print follows the seeders listed, whatever they are: each development
	// seeder runs once, and a database without any says so.
	mine := map[string][]string{}
	for _, s := range seed.Seeders {
		if slices.Contains(s.Envs, config.Development) {
			mine[s.DB] = append(mine[s.DB], s.Name)
		}
	}
	out, err := runCLI(t, "seed")
	if err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	ran := 0
	for _, name := range database.Names() {
		for _, s := range mine[name] {
			ran++
			if !strings.Contains(out, name+": seeded "+s+"\n") {
				t.Errorf("seed: no line for %s's seeder %s:\n%s", name, s, out)
			}
		}
		if len(mine[name]) == 0 && !strings.Contains(out, name+": nothing to seed") {
			t.Errorf("seed: %s has no development seeder and says nothing:\n%s", name, out)
		}
	}
	if n := strings.Count(out, ": seeded "); n != ran {
		t.Errorf("seed: %d seeders ran, want the %d development ones:\n%s", n, ran, out)
	}
	if out, err = runCLI(t, "seed"); err != nil || strings.Contains(out, ": seeded ") {
		t.Errorf("second seed: err %v, want nothing seeded:\n%s", err, out)
	}
	for _, name := range database.Names() {
		want := fmt.Sprintf("%s: nothing to seed for %s (%d already seeded)", name, config.Development, len(mine[name]))
		if !strings.Contains(out, want) {
			t.Errorf("second seed: want %q in:\n%s", want, out)
		}
	}
}

func TestCommandErrors(t *testing.T) {
	names := database.Names()
	if len(names) < 2 {
		t.Fatalf("the registry has %d databases; these cases need two", len(names))
	}
	first, second, last := config.EnvVar(names[0]), config.EnvVar(names[1]), config.EnvVar(names[len(names)-1])
	tests := []struct {
		name  string
		files map[string]string
		args  []string
		want  string
		isCfg bool
	}{
		// The first database has its URL; the next one in the registry is the first to miss it.
		{"staging without a URL", map[string]string{".env.staging": first + "=postgres://127.0.0.1:5432/x\n"}, []string{"migrate"}, second + " is not set", true},
		{"unknown scheme", map[string]string{".env": last + "=mongodb://h/x\n"}, []string{"seed"}, last, true},
		{"unreachable server", map[string]string{".env": first + "=postgres://postgres@127.0.0.1:1/nope\n"}, []string{"migrate"}, "cannot reach " + first, false},
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
