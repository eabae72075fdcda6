package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
	"time"

	"github.com/multidb/multidb/internal/config"
)

var databaseSchemaTemplate = template.Must(template.New("database").Parse(`// Package {{.DB}} holds the ent schema of the {{.DB}} database.
package {{.DB}}

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"github.com/multidb/multidb/schema/mixin"
	"github.com/multidb/multidb/schema/xdb"
)

// {{.Type}} is an example type of the {{.DB}} database: each belongs to a user, who sees and
// changes their own; admins see all. Rename it, or add fields, then make migration.
type {{.Type}} struct {
	ent.Schema
}

// Mixin gives the {{.Type}} its UUID v7 primary key.
func ({{.Type}}) Mixin() []ent.Mixin {
	return []ent.Mixin{mixin.ID{}}
}

// Fields of the {{.Type}}.
func ({{.Type}}) Fields() []ent.Field {
	return []ent.Field{
		// user_id refers to users.User: {{.Type}}.user, and User.{{.Inverse}} (a connection).
		// The server sets it to whoever creates the row, so it stays out of the inputs.
		field.UUID("user_id", uuid.UUID{}).
			Immutable().
			Annotations(
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
				xdb.Ref("users.User").Field("user").Inverse("{{.Inverse}}").
					InverseComment("The user's {{.What}}, from the {{.DB}} database."),
			),
		field.String("name").
			NotEmpty().
			MaxLen(200).
			Annotations(entgql.OrderField("NAME")),
		// An optional field is Nillable too: unset reads as null in the graph, not "".
		field.String("description").
			Optional().
			Nillable().
			MaxLen(2000),
		field.Time("created_at").
			Default(mixin.Now).
			Immutable().
			Annotations(
				entgql.OrderField("CREATED_AT"),
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
			),
	}
}

// Indexes of the {{.Type}}: User.{{.Inverse}} reads each user's rows by user_id.
func ({{.Type}}) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "created_at")}
}

// Annotations of the {{.Type}}.
func ({{.Type}}) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField().Description("{{.Type}} rows, in pages: an admin sees every row, a USER their own."),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
		xdb.Policy(xdb.OwnedBy("user_id")),
	}
}
`))

var databaseSeedTemplate = template.Must(template.New("seed").Parse(`package seed

import (
	"context"
	"fmt"

	"github.com/multidb/multidb/internal/database"
)

// {{.Func}} gives each demo user an example {{.Type}} in the {{.DB}} database.
func {{.Func}}(ctx context.Context, c *database.Clients) error {
	for _, u := range DemoUsers {
		if err := c.{{.Client}}.{{.Type}}.Create().SetUserID(u.ID).SetName(fmt.Sprintf("%s's first {{.What1}}", u.Name)).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}
`))

// newDatabase scaffolds the database name: its schema package with one example type, a
// development seeder, its variable in .env.example and its service in docker-compose.yml.
// The registry, the clients and the graph come from make generate, and the init migrations
// from migrate new (make database runs both).
func newDatabase(root, name string, stdout io.Writer) error {
	typ := pascal(name) + "Item"
	data := map[string]string{
		"DB":      name,
		"Type":    typ,
		"Client":  pascal(name),
		"Inverse": lowerFirst(pascal(name)) + "Items",
		"What":    name + " items",
		"What1":   name + " item",
		"Func":    "seed" + pascal(name) + "Demo",
	}
	var schemaSrc, seedSrc bytes.Buffer
	if err := databaseSchemaTemplate.Execute(&schemaSrc, data); err != nil {
		return err
	}
	if err := databaseSeedTemplate.Execute(&seedSrc, data); err != nil {
		return err
	}
	// Check every file to edit before writing any, so that a failure leaves nothing half done.
	envPath, composePath := filepath.Join(root, ".env.example"), filepath.Join(root, "docker-compose.yml")
	composeEnvPath := filepath.Join(root, "compose.env")
	env, err := addEnvExample(envPath, name)
	if err != nil {
		return err
	}
	composeEnv, err := addComposeURL(composeEnvPath, name)
	if err != nil {
		return err
	}
	compose, err := addComposeService(composePath, name)
	if err != nil {
		return err
	}
	schemaPath := filepath.Join(root, "schema", name, snake(typ)+".go")
	if err := writeNew(schemaPath, schemaSrc.Bytes()); err != nil {
		return err
	}
	seedPath, seederName, err := addSeeder(root, name, "demo", data["Func"], seedSrc.Bytes(), time.Now())
	if err != nil {
		return err
	}
	if err := os.WriteFile(envPath, env, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(composePath, compose, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(composeEnvPath, composeEnv, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s, %s (seeder %s)\nadded %s to %s and compose.env, and the %s-db service to %s\n",
		schemaPath, seedPath, seederName, config.EnvVar(name), envPath, name, composePath)
	return nil
}

// addEnvExample documents the database's URL beside the others.
func addEnvExample(path, name string) ([]byte, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	line := fmt.Sprintf("# %s=postgres://postgres@127.0.0.1:5432/multidb_%s?sslmode=disable\n", config.EnvVar(name), name)
	return insertAfterLast(src, regexp.MustCompile(`(?m)^# [A-Z0-9_]+_DATABASE_URL=.*\n`), line, path, "the other *_DATABASE_URL lines")
}

// addComposeURL adds the database's URL on its compose service to compose.env, which migrate
// and api read before .env.<ENV>.
func addComposeURL(path, name string) ([]byte, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("%s=postgres://multidb:multidb@%s-db:5432/%s?sslmode=disable\n", config.EnvVar(name), name, name)
	return insertAfterLast(src, regexp.MustCompile(`(?m)^[A-Z0-9_]+_DATABASE_URL=.*\n`), url, path, "the *_DATABASE_URL lines")
}

// addComposeService adds the database's PostgreSQL service and volume, and the service to what
// migrate and api wait for.
func addComposeService(path, name string) ([]byte, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	service := fmt.Sprintf("  %s-db:\n    <<: *postgres\n    environment: {POSTGRES_USER: multidb, POSTGRES_PASSWORD: multidb, POSTGRES_DB: %s}\n    volumes: [%s-data:/var/lib/postgresql/data]\n\n", name, name, name)
	if src, err = insertBefore(src, "  migrate:\n", service, path); err != nil {
		return nil, err
	}
	// Every depends_on list of database services (migrate's and api's) gets the new one.
	dep := regexp.MustCompile(`(?m)^(\s+)[a-z0-9]+-db: \{condition: service_healthy\}\n`)
	var out bytes.Buffer
	lines := strings.SplitAfter(string(src), "\n")
	added := 0
	for i, l := range lines {
		out.WriteString(l)
		if m := dep.FindStringSubmatch(l); m != nil && (i+1 == len(lines) || !dep.MatchString(lines[i+1])) {
			fmt.Fprintf(&out, "%s%s-db: {condition: service_healthy}\n", m[1], name)
			added++
		}
	}
	if added == 0 {
		return nil, fmt.Errorf("%s: found no depends_on entry of a database service; add %s-db by hand", path, name)
	}
	src = out.Bytes()
	if !bytes.HasSuffix(src, []byte("\n")) {
		src = append(src, '\n')
	}
	if !regexp.MustCompile(`(?m)^volumes:\n`).Match(src) {
		return nil, fmt.Errorf("%s has no volumes: section; add %s-data by hand", path, name)
	}
	return append(src, fmt.Sprintf("  %s-data:\n", name)...), nil
}

func insertAfterLast(src []byte, re *regexp.Regexp, text, path, what string) ([]byte, error) {
	locs := re.FindAllIndex(src, -1)
	if locs == nil {
		return nil, fmt.Errorf("%s: found none of %s; add %q by hand", path, what, strings.TrimSpace(text))
	}
	end := locs[len(locs)-1][1]
	return append(append(append([]byte{}, src[:end]...), text...), src[end:]...), nil
}

func insertBefore(src []byte, marker, text, path string) ([]byte, error) {
	i := bytes.Index(src, []byte(marker))
	if i < 0 {
		return nil, fmt.Errorf("%s: found no %q to insert the service before", path, strings.TrimSpace(marker))
	}
	return append(append(append([]byte{}, src[:i]...), text...), src[i:]...), nil
}
