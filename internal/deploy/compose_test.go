package deploy_test

import (
	"bufio"
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
)

const (
	composeFile = "../../docker-compose.yml"
	envExample  = "../../.env.example"
)

// composeDB is a registered database as compose runs it: its own PostgreSQL service and the
// variable that gives migrate and api its URL.
type composeDB struct{ name, service, envVar string }

// databases lists every database of the registry, so that a database added to schema/ but not
// to docker-compose.yml or .env.example fails these tests instead of going unnoticed.
func databases() []composeDB {
	var dbs []composeDB
	for _, name := range database.Names() {
		dbs = append(dbs, composeDB{name: name, service: name + "-db", envVar: config.EnvVar(name)})
	}
	return dbs
}

// loadCompose loads docker-compose.yml as `ENV=staging docker compose config` would, but with
// only ENV set: the developer's own environment must not change the result. opts adjust the
// loader further.
func loadCompose(t *testing.T, opts ...func(*loader.Options)) *types.Project {
	t.Helper()
	path, err := filepath.Abs(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ENV": "staging"}
	details := types.ConfigDetails{
		WorkingDir:  filepath.Dir(path),
		ConfigFiles: []types.ConfigFile{{Filename: path}},
		Environment: env,
	}
	opts = append([]func(*loader.Options){
		func(o *loader.Options) {
			o.SetProjectName("multidb", true)
			// A variable the file uses and the test does not set becomes "", as with docker
			// compose; it is logged so that a blank value is easy to trace. Only ${VAR:?msg}
			// still fails, as it would for a user.
			unset := map[string]bool{}
			o.Interpolate.LookupValue = func(name string) (string, bool) {
				v, ok := env[name]
				if !ok && !unset[name] {
					unset[name] = true
					t.Logf("%s: ${%s} is not set in the test; it interpolates as docker compose does", composeFile, name)
				}
				return v, ok
			}
		},
	}, opts...)
	p, err := loader.LoadWithContext(context.Background(), details, opts...)
	if err != nil {
		var missing *template.MissingRequiredError
		if errors.As(err, &missing) {
			t.Fatalf("%s needs ${%s}, which a plain `ENV=staging docker compose up` does not set: %v", composeFile, missing.Variable, err)
		}
		t.Fatalf("load %s: %v", composeFile, err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("%s: %v", composeFile, err)
	}
	return s
}

func TestComposeDatabases(t *testing.T) {
	p := loadCompose(t)
	volumeOwner := map[string]string{}
	for _, db := range databases() {
		s := service(t, p, db.service)
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
			t.Errorf("%s: no health check; migrate and api wait for service_healthy", db.service)
		}
		var named []string
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeVolume {
				continue
			}
			if _, declared := p.Volumes[v.Source]; !declared {
				t.Errorf("%s: volume %q is not declared under top-level volumes", db.service, v.Source)
			}
			named = append(named, v.Source)
		}
		if len(named) == 0 {
			t.Errorf("%s: no named volume; its data would not outlive the container", db.service)
		}
		for _, v := range named {
			if other, taken := volumeOwner[v]; taken {
				t.Errorf("%s and %s share volume %q; each database needs its own", other, db.service, v)
			}
			volumeOwner[v] = db.service
		}
	}
}

func TestComposeMigrate(t *testing.T) {
	p := loadCompose(t)
	m := service(t, p, "migrate")
	if got, want := []string(m.Command), []string{"migrate", "up"}; !slices.Equal(got, want) {
		t.Errorf("migrate: command %q, want %q", got, want)
	}
	for _, db := range databases() {
		dependsOn(t, m, db.service, types.ServiceConditionHealthy)
	}
	if m.Restart != "" && m.Restart != types.RestartPolicyNo {
		t.Errorf("migrate: restart %q; a one-shot job must not restart, or api never starts", m.Restart)
	}
	checkDatabaseEnv(t, p, m)
}

func TestComposeAPI(t *testing.T) {
	p := loadCompose(t)
	api := service(t, p, "api")
	dependsOn(t, api, "migrate", types.ServiceConditionCompletedSuccessfully)
	for _, db := range databases() {
		dependsOn(t, api, db.service, types.ServiceConditionHealthy)
	}
	published := false
	for _, port := range api.Ports {
		if port.Target == 8080 && port.Published == "8080" {
			published = true
		}
	}
	if !published {
		t.Errorf("api: ports %+v, want 8080 published as 8080", api.Ports)
	}
	if port, ok := api.Environment["PORT"]; ok && (port == nil || *port != "8080") {
		t.Errorf("api: PORT=%v, but the published container port is 8080", deref(port))
	}
	if api.HealthCheck == nil || api.HealthCheck.Disable || len(api.HealthCheck.Test) == 0 {
		t.Error("api: no health check")
	}
	// api has no build of its own: it runs the image that migrate builds.
	if m := service(t, p, "migrate"); api.Build == nil && api.Image != m.Image {
		t.Errorf("api: image %q, migrate builds %q; api would run another binary", api.Image, m.Image)
	}
	checkDatabaseEnv(t, p, api)
}

func dependsOn(t *testing.T, s types.ServiceConfig, on, condition string) {
	t.Helper()
	d, ok := s.DependsOn[on]
	if !ok {
		t.Errorf("%s: does not depend on %s", s.Name, on)
		return
	}
	if d.Condition != condition {
		t.Errorf("%s: depends on %s with condition %q, want %q", s.Name, on, d.Condition, condition)
	}
}

// checkDatabaseEnv checks that s gets ENV and, for each database, a URL that reaches its compose
// service with the user and database that service's PostgreSQL creates.
func checkDatabaseEnv(t *testing.T, p *types.Project, s types.ServiceConfig) {
	t.Helper()
	if env := deref(s.Environment["ENV"]); env != "staging" {
		t.Errorf("%s: ENV=%q, want staging (what the loader was given)", s.Name, env)
	}
	for _, db := range databases() {
		raw := deref(s.Environment[db.envVar])
		if raw == "" {
			t.Errorf("%s: %s is not set", s.Name, db.envVar)
			continue
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Errorf("%s: %s: %v", s.Name, db.envVar, err)
			continue
		}
		if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			t.Errorf("%s: %s has scheme %q, want postgres", s.Name, db.envVar, u.Scheme)
		}
		if u.Hostname() != db.service {
			t.Errorf("%s: %s points at host %q, want the service %s", s.Name, db.envVar, u.Hostname(), db.service)
		}
		if port := u.Port(); port != "" && port != "5432" {
			t.Errorf("%s: %s uses port %s, want 5432", s.Name, db.envVar, port)
		}
		dbEnv := service(t, p, db.service).Environment
		if want := deref(dbEnv["POSTGRES_DB"]); want != "" && strings.TrimPrefix(u.Path, "/") != want {
			t.Errorf("%s: %s names database %q, %s creates %q", s.Name, db.envVar, strings.TrimPrefix(u.Path, "/"), db.service, want)
		}
		if want := deref(dbEnv["POSTGRES_USER"]); want != "" && u.User.Username() != want {
			t.Errorf("%s: %s logs in as %q, %s creates %q", s.Name, db.envVar, u.User.Username(), db.service, want)
		}
		if want := deref(dbEnv["POSTGRES_PASSWORD"]); want != "" {
			if pw, _ := u.User.Password(); pw != want {
				t.Errorf("%s: %s has another password than %s's POSTGRES_PASSWORD", s.Name, db.envVar, db.service)
			}
		}
	}
}

// TestEnvExampleDocumentsComposeVariables checks that every variable the compose file sets for
// multidb (the services that run the multidb image) is documented in .env.example. The
// PostgreSQL services' POSTGRES_* variables configure the postgres image, not multidb.
func TestEnvExampleDocumentsComposeVariables(t *testing.T) {
	// Without resolving env_file entries, Environment holds the file's environment blocks only.
	p := loadCompose(t, func(o *loader.Options) { o.SkipResolveEnvironment = true })
	documented := envExampleVariables(t)

	images := map[string]bool{}
	for _, s := range p.Services {
		if s.Build != nil {
			images[s.Image] = true
		}
	}
	if len(images) == 0 {
		t.Fatalf("%s: no service builds the multidb image", composeFile)
	}
	checked := 0
	for _, s := range p.Services {
		if s.Build == nil && !images[s.Image] {
			continue
		}
		var names []string
		for name := range s.Environment {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			checked++
			if !documented[name] {
				t.Errorf("%s: service %s sets %s, which %s does not document", composeFile, s.Name, name, envExample)
			}
		}
	}
	if checked == 0 {
		t.Fatalf("%s: the multidb services set no variables; the compose file did not load as expected", composeFile)
	}
}

// envVarLine matches a variable in .env.example, set or commented out: "NAME=..." or
// "# NAME=...".
var envVarLine = regexp.MustCompile(`^#?\s*([A-Z][A-Z0-9_]*)=`)

func envExampleVariables(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(envExample)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vars := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := envVarLine.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
			vars[m[1]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vars) == 0 {
		t.Fatalf("%s documents no variable", envExample)
	}
	return vars
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// TestComposeStagingUsesEnvStaging runs `ENV=staging docker compose config` in a checkout that
// has a .env.staging: its URLs, not compose's own servers, reach migrate and api, and a
// variable it does not set keeps compose's value.
func TestComposeStagingUsesEnvStaging(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{composeFile, "../../compose.env"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dbs := databases()
	staging := map[string]string{}
	var body strings.Builder
	for _, db := range dbs[1:] { // the first keeps compose's URL
		staging[db.envVar] = "postgres://app@" + db.name + ".staging.internal:5432/" + db.name
		body.WriteString(db.envVar + "=" + staging[db.envVar] + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, ".env.staging"), []byte(body.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	details := types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "docker-compose.yml")}},
		Environment: map[string]string{"ENV": "staging"},
	}
	p, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) { o.SetProjectName("multidb", true) })
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"migrate", "api"} {
		s := service(t, p, name)
		if env := deref(s.Environment["ENV"]); env != "staging" {
			t.Errorf("%s: ENV=%q, want staging", name, env)
		}
		for _, db := range dbs {
			got := deref(s.Environment[db.envVar])
			want, ok := staging[db.envVar]
			if !ok {
				want = "postgres://multidb:multidb@" + db.service + ":5432/" + db.name + "?sslmode=disable"
			}
			if got != want {
				t.Errorf("%s: %s=%q, want %q (from %s)", name, db.envVar, got, want, map[bool]string{true: ".env.staging", false: "compose.env"}[ok])
			}
		}
	}
}

// TestEnvFilesMeanWhatTheySay: copying .env.example to .env must not pin ENV (compose and the
// Makefile pass it), and git ignores every .env.* file but .env.example.
func TestEnvFilesMeanWhatTheySay(t *testing.T) {
	b, err := os.ReadFile(envExample)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "ENV=") {
			t.Errorf("%s sets %q: after `cp .env.example .env` every environment would run as that one", envExample, line)
		}
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for file, ignored := range map[string]bool{
		".env": true, ".env.local": true, ".env.staging": true, ".env.production": true,
		".env.staging.local": true, ".env.test": true, ".env.example": false, "compose.env": false,
	} {
		err := exec.Command("git", "-C", root, "check-ignore", "-q", "--no-index", file).Run()
		var ee *exec.ExitError
		switch {
		case err == nil && !ignored:
			t.Errorf("git ignores %s, which must be committed", file)
		case errors.As(err, &ee) && ee.ExitCode() == 1 && ignored:
			t.Errorf("git does not ignore %s; credentials go there", file)
		case err != nil && !errors.As(err, &ee):
			t.Fatalf("git check-ignore: %v", err)
		}
	}
}
