package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/multidb/multidb/internal/database"
)

// scaffoldCmd writes source files: `new schema DB NAME`, `new seed DB NAME` and
// `new database NAME`. It runs in a checkout (make schema / make seed-new / make database),
// not in production.
func scaffoldCmd(args []string, stdout io.Writer) error {
	if len(args) == 2 && args[0] == "database" {
		name := args[1]
		if !dbName.MatchString(name) {
			return fmt.Errorf("%w: NAME=%q must be a lower-case name such as billing", errUsage, name)
		}
		if _, ok := database.Lookup(name); ok {
			return fmt.Errorf("%w: the database %s exists already", errUsage, name)
		}
		return newDatabase(".", name, stdout)
	}
	if len(args) != 3 {
		return fmt.Errorf("%w: multidb new schema|seed DB NAME, or multidb new database NAME", errUsage)
	}
	kind, db, name := args[0], args[1], args[2]
	if _, ok := database.Lookup(db); !ok {
		return fmt.Errorf("%w: DB=%q is not a database; use one of %v (a new database also needs a line in internal/database/registry.go)", errUsage, db, database.Names())
	}
	if !identifier.MatchString(name) {
		return fmt.Errorf("%w: NAME=%q must be a name such as Product or demo_products", errUsage, name)
	}
	switch kind {
	case "schema":
		return newSchema(".", db, name, stdout)
	case "seed":
		return newSeed(".", db, name, time.Now(), stdout)
	default:
		return fmt.Errorf("%w: multidb new schema|seed DB NAME", errUsage)
	}
}

var (
	identifier = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	// dbName is a database name: it becomes a Go package, an env variable prefix and a
	// compose service, so lower-case letters and digits only.
	dbName = regexp.MustCompile(`^[a-z][a-z0-9]{0,30}$`)
)

var schemaTemplate = template.Must(template.New("schema").Parse(`package {{.DB}}

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	"github.com/multidb/multidb/schema/mixin"
	"github.com/multidb/multidb/schema/xdb"
)

// {{.Type}} holds the schema definition for the {{.Type}} entity.
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
		field.String("name").
			NotEmpty().
			MaxLen(200).
			Annotations(entgql.OrderField("NAME")),
		// An optional field is Nillable too: unset reads as null in the graph, not "".
		field.String("description").
			Optional().
			Nillable().
			MaxLen(2000),
	}
}

// Annotations of the {{.Type}}: its list (Query.{{.List}}), node, and create/update/delete
// mutations as its policy allows.
func ({{.Type}}) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField().Description("{{.Type}} rows, in pages (admins only until its policy opens it)."),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
		// Who may read and write: admins only until you open it. The other forms:
		//	xdb.Policy(xdb.SignedInRead())       // every signed-in user reads, admins write
		//	xdb.Policy(xdb.PublicRead())         // anyone reads, admins write
		//	xdb.Policy(xdb.OwnedBy("user_id"))   // a USER reads and writes their own rows
		// (an owner field: field.UUID("user_id", uuid.UUID{}) with
		// entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput), and in
		// a database other than users, xdb.Ref("users.User").Inverse("{{.List}}")).
		xdb.Policy(xdb.AdminOnly()),
	}
}
`))

func newSchema(root, db, name string, stdout io.Writer) error {
	typ := pascal(name)
	path := filepath.Join(root, "schema", db, snake(name)+".go")
	var src bytes.Buffer
	if err := schemaTemplate.Execute(&src, map[string]string{"DB": db, "Type": typ, "List": lowerFirst(pascal(plural(name)))}); err != nil {
		return err
	}
	if err := writeNew(path, src.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s: admins only until you change its policy (at the end of the file)\n", path)
	return nil
}

var seedTemplate = template.Must(template.New("seed").Parse(`package seed

import (
	"context"

	"github.com/multidb/multidb/internal/database"
)

// {{.Func}} seeds the {{.DB}} database.
func {{.Func}}(ctx context.Context, c *database.Clients) error {
	// Write with c.{{.Client}}; this runs once per database and environment, in one transaction.
	return nil
}
`))

const seedMarker = "\t// seed-new: new seeders go above this line."

func newSeed(root, db, name string, now time.Time, stdout io.Writer) error {
	fn := "seed" + pascal(db) + pascal(name)
	var src bytes.Buffer
	if err := seedTemplate.Execute(&src, map[string]string{"DB": db, "Func": fn, "Client": pascal(db)}); err != nil {
		return err
	}
	path, seederName, err := addSeeder(root, db, name, fn, src.Bytes(), now)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s (seeder %s, development only: edit Envs in %s)\n", path, seederName, filepath.Join(root, "internal", "seed", "seeders.go"))
	return nil
}

// addSeeder writes a seeder's file and lists it, for development, above the marker line of
// internal/seed/seeders.go.
func addSeeder(root, db, name, fn string, src []byte, now time.Time) (path, seederName string, err error) {
	seederName = now.UTC().Format("20060102150405") + "_" + snake(name)
	path = filepath.Join(root, "internal", "seed", db+"_"+snake(name)+".go")
	listPath := filepath.Join(root, "internal", "seed", "seeders.go")
	list, err := os.ReadFile(listPath)
	if err != nil {
		return "", "", err
	}
	if !bytes.Contains(list, []byte(seedMarker)) {
		return "", "", fmt.Errorf("%s has lost its marker line %q; add the seeder to the list by hand", listPath, strings.TrimSpace(seedMarker))
	}
	line := fmt.Sprintf("\t{Name: %q, DB: %q, Envs: []string{config.Development}, Run: %s},\n", seederName, db, fn)
	list = bytes.Replace(list, []byte(seedMarker), []byte(line+seedMarker), 1)
	if list, err = format.Source(list); err != nil {
		return "", "", err
	}
	if err := writeNew(path, src); err != nil {
		return "", "", err
	}
	return path, seederName, os.WriteFile(listPath, list, 0o644)
}

// writeNew writes a gofmt-ed file that must not exist yet.
func writeNew(path string, src []byte) error {
	out, err := format.Source(src)
	if err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists already; pick another NAME", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}

// pascal turns "demo_products" or "product" into "DemoProducts" or "Product".
func pascal(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		if part == "" {
			continue
		}
		r := []rune(part)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	return b.String()
}

// snake turns "DemoProducts" into "demo_products".
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 && s[i-1] != '_' {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// plural is a name's English plural, for lists and tables: "team" -> "teams".
func plural(s string) string {
	switch {
	case strings.HasSuffix(s, "y") && !strings.HasSuffix(s, "ay") && !strings.HasSuffix(s, "ey") && !strings.HasSuffix(s, "oy"):
		return s[:len(s)-1] + "ies"
	case strings.HasSuffix(s, "s"), strings.HasSuffix(s, "x"), strings.HasSuffix(s, "ch"), strings.HasSuffix(s, "sh"):
		return s + "es"
	}
	return s + "s"
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}
