package main

import (
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNewSchemaWritesAnEntSchemaWithAName(t *testing.T) {
	root := t.TempDir()
	if err := newSchema(root, "users", "TeamMember", io.Discard); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "schema", "users", "team_member.go")
	src := parse(t, path)
	for _, want := range []string{"package users", "type TeamMember struct", `field.String("name")`, "mixin.ID{}", "entgql.RelayConnection()", "Optional().\n\t\t\tNillable()"} {
		if !strings.Contains(src, want) {
			t.Errorf("%s lacks %q", path, want)
		}
	}
	if err := newSchema(root, "users", "TeamMember", io.Discard); err == nil {
		t.Error("scaffolding the same schema twice: got no error, want one")
	}
}

func TestNewSeedWritesASeederAndListsIt(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "internal", "seed")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	list, err := os.ReadFile("../../internal/seed/seeders.go")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "seeders.go"), list, 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	if err := newSeed(root, "analytics", "demo_funnel", now, io.Discard); err != nil {
		t.Fatal(err)
	}
	src := parse(t, filepath.Join(dir, "analytics_demo_funnel.go"))
	if !strings.Contains(src, "func seedAnalyticsDemoFunnel(ctx context.Context, c *database.Clients) error") {
		t.Errorf("seeder file lacks its function:\n%s", src)
	}
	got := parse(t, filepath.Join(dir, "seeders.go"))
	want := `{Name: "20261201103000_demo_funnel", DB: "analytics", Envs: []string{config.Development}, Run: seedAnalyticsDemoFunnel},`
	if !strings.Contains(got, want) {
		t.Errorf("seeders.go does not list the new seeder; want line %s in:\n%s", want, got)
	}
	if strings.Index(got, want) > strings.Index(got, "seed-new:") {
		t.Error("new seeder was added below the marker, want above it")
	}
}

func TestScaffoldRejectsBadNames(t *testing.T) {
	for _, args := range [][]string{{"schema", "nope", "Team"}, {"schema", "users", "1bad"}, {"seed", "users", "a-b"}, {"widget", "users", "X"}} {
		if err := scaffoldCmd(args, io.Discard); err == nil {
			t.Errorf("new %v: got no error, want a usage error", args)
		}
	}
}

// parse reads a Go file and fails the test when it does not parse.
func parse(t *testing.T, path string) string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), path, src, parser.AllErrors); err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	return string(src)
}
