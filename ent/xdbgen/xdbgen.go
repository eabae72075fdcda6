// Package xdbgen generates the graph across databases from the declarations in the ent schemas
// (schema/xdb): per client, the methods the generic runtime needs (ent/<db>/xdb.go); across
// clients, the database registry, the SDL and resolvers of the stitched fields and generated
// mutations, their batch loading and the delete cascade. ent/entc.go drives it; see Run.
package xdbgen

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/template"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"entgo.io/ent/schema/field"
	"golang.org/x/tools/imports"

	"github.com/multidb/multidb/schema/xdb"
)

// Module is the import path of the project.
const Module = "github.com/multidb/multidb"

// Database is one schema package under schema/ and the graph ent loads from it.
type Database struct {
	Name       string // "users"
	Graph      *gen.Graph
	Types      []*Type
	HasRuntime bool // ent wrote a runtime package that must be linked with the client
}

// Type is one ent type and what the graph makes of it.
type Type struct {
	DB     *Database
	Node   *gen.Type
	Name   string // "User"
	Policy xdb.PolicyAnnotation

	InGraph    bool   // a GraphQL type (entgql does not skip it)
	Relay      bool   // has a Relay connection
	QueryField string // its top-level list, or ""
	Ordered    bool   // has an orderBy input
	Where      bool   // has a where input
	Create     bool   // entgql writes Create<T>Input
	Update     bool   // entgql writes Update<T>Input

	Refs      []*Edge // the fields of this type that refer to another database
	Inverses  []*Edge // the connections other databases' rows add to this type
	Referrers []*Edge // every reference to this type
}

// Edge is one field that holds the id of a row in another database.
type Edge struct {
	Child, Target *Type
	Field         *gen.Field
	Name          string // of the field that resolves to the target ("user")
	Inverse       string // of the connection on the target ("events"), or ""
	InverseDoc    string
	Deletes       xdb.OnDelete
}

// Run validates every schema package under schemaRoot, then generates each client into
// entRoot/<db> (with extra entc options) and the files across clients. It writes nothing when
// a declaration is wrong.
func Run(schemaRoot, entRoot, projectRoot string, newExtensions func(db string) ([]entc.Option, error)) error {
	names, err := scan(schemaRoot)
	if err != nil {
		return err
	}
	var dbs []*Database
	for _, name := range names {
		g, err := entc.LoadGraph(filepath.Join(schemaRoot, name), config(entRoot, name))
		if err != nil {
			return fmt.Errorf("load schema/%s: %w", name, err)
		}
		dbs = append(dbs, &Database{Name: name, Graph: g})
	}
	if err := build(dbs); err != nil {
		return err
	}
	order(dbs)
	for _, db := range dbs {
		opts, err := newExtensions(db.Name)
		if err != nil {
			return err
		}
		if err := entc.Generate(filepath.Join(schemaRoot, db.Name), config(entRoot, db.Name), opts...); err != nil {
			return fmt.Errorf("generate %s: %w", db.Name, err)
		}
		_, err = os.Stat(filepath.Join(entRoot, db.Name, "runtime"))
		db.HasRuntime = err == nil
		if err := write(filepath.Join(entRoot, db.Name, "xdb.go"), "client", db, true); err != nil {
			return err
		}
	}
	for _, out := range []struct{ path, tmpl string }{
		{"internal/database/registry_gen.go", "registry"},
		{"graph/loader/xdb_edges.go", "loader"},
		{"graph/rules/xdb_cascade.go", "cascade"},
		{"graph/xdb_gen.go", "resolvers"},
		{"graph/ent/xdb.graphqls", "sdl"},
	} {
		if err := write(filepath.Join(projectRoot, out.path), out.tmpl, dbs, strings.HasSuffix(out.path, ".go")); err != nil {
			return err
		}
	}
	return nil
}

func config(entRoot, name string) *gen.Config {
	return &gen.Config{
		Target:   filepath.Join(entRoot, name),
		Package:  Module + "/ent/" + name,
		Features: []gen.Feature{gen.FeatureVersionedMigration, gen.FeatureExecQuery, gen.FeatureIntercept, gen.FeatureModifier},
	}
}

// scan lists the databases: every package under schema/ but the shared ones.
func scan(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "mixin" && e.Name() != "xdb" && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// order puts every database before those that refer to it, then by name, so that the
// registry opens, migrates and seeds users before the databases whose rows name users.
func order(dbs []*Database) {
	sort.SliceStable(dbs, func(i, j int) bool { return dbs[i].Name < dbs[j].Name })
	depth := map[string]int{}
	var visit func(db *Database, seen map[string]bool) int
	visit = func(db *Database, seen map[string]bool) int {
		if d, ok := depth[db.Name]; ok {
			return d
		}
		if seen[db.Name] {
			return 0
		}
		seen[db.Name] = true
		d := 0
		for _, t := range db.Types {
			for _, e := range t.Refs {
				d = max(d, visit(e.Target.DB, seen)+1)
			}
		}
		depth[db.Name] = d
		return d
	}
	for _, db := range dbs {
		visit(db, map[string]bool{})
	}
	sort.SliceStable(dbs, func(i, j int) bool { return depth[dbs[i].Name] < depth[dbs[j].Name] })
}

// build reads the annotations of every type and checks them; the error lists every mistake
// with the declaration that fixes it.
func build(dbs []*Database) error {
	var errs []error
	types := map[string]*Type{}
	for _, db := range dbs {
		for _, n := range db.Graph.Nodes {
			t := &Type{DB: db, Node: n, Name: n.Name}
			gql, _ := xdb.Decode[entgql.Annotation](n.Annotations[entgql.Annotation{}.Name()])
			t.InGraph = !gql.Skip.Is(entgql.SkipType)
			t.Relay = t.InGraph && gql.RelayConnection
			if t.Relay && gql.QueryField != nil {
				t.QueryField = gql.QueryField.Name
				if t.QueryField == "" {
					t.QueryField = gen.Funcs["camel"].(func(string) string)(gen.Funcs["snake"].(func(string) string)(gen.Funcs["plural"].(func(string) string)(n.Name)))
				}
			}
			t.Where = t.InGraph && !gql.Skip.Is(entgql.SkipWhereInput)
			for _, f := range n.Fields {
				fa, _ := xdb.Decode[entgql.Annotation](f.Annotations[entgql.Annotation{}.Name()])
				if fa.OrderField != "" && !gql.Skip.Is(entgql.SkipOrderField) {
					t.Ordered = true
				}
			}
			for _, m := range gql.MutationInputs {
				if m.IsCreate {
					t.Create = !gql.Skip.Is(entgql.SkipMutationCreateInput)
				} else {
					t.Update = !gql.Skip.Is(entgql.SkipMutationUpdateInput)
				}
			}
			p, ok := xdb.Decode[xdb.PolicyAnnotation](n.Annotations[xdb.PolicyName])
			if !ok || p.Kind == "" {
				errs = append(errs, fmt.Errorf("schema/%s: %s declares no access policy; nothing of it is readable until one does. Add to its Annotations() one of\n"+
					"\txdb.Policy(xdb.OwnedBy(\"user_id\"))  // a USER reads and writes the rows that name them\n"+
					"\txdb.Policy(xdb.AdminOnly())          // admins only\n"+
					"\txdb.Policy(xdb.SignedInRead())       // every signed-in user reads, admins write\n"+
					"\txdb.Policy(xdb.PublicRead())         // anyone reads, admins write\n"+
					"(import \"%s/schema/xdb\")", db.Name, n.Name, Module))
			}
			t.Policy = p
			errs = append(errs, checkPolicy(t)...)
			db.Types = append(db.Types, t)
			types[db.Name+"."+n.Name] = t
		}
	}
	for _, db := range dbs {
		for _, t := range db.Types {
			for _, f := range t.Node.Fields {
				r, ok := xdb.Decode[xdb.RefAnnotation](f.Annotations[xdb.RefName])
				if !ok {
					continue
				}
				e, err := ref(t, f, r, types)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				t.Refs = append(t.Refs, e)
				e.Target.Referrers = append(e.Target.Referrers, e)
				if e.Inverse != "" {
					e.Target.Inverses = append(e.Target.Inverses, e)
				}
			}
		}
	}
	return errors.Join(errs...)
}

func checkPolicy(t *Type) []error {
	var errs []error
	p, where := t.Policy, fmt.Sprintf("schema/%s: %s", t.DB.Name, t.Name)
	switch p.Kind {
	case "", xdb.KindAdminOnly, xdb.KindSignedIn, xdb.KindPublic, xdb.KindInternal:
	case xdb.KindOwned:
		f := fieldOf(t.Node, p.Owner)
		if f == nil || f.Type.Type != field.TypeUUID {
			errs = append(errs, fmt.Errorf("%s: xdb.OwnedBy(%q) names no UUID field; name the field that holds the owner's user id", where, p.Owner))
		} else if p.Owner != "id" && p.Generated() && (t.Create || t.Update) {
			fa, _ := xdb.Decode[entgql.Annotation](f.Annotations[entgql.Annotation{}.Name()])
			if !fa.Skip.Is(entgql.SkipMutationCreateInput) || !fa.Skip.Is(entgql.SkipMutationUpdateInput) {
				errs = append(errs, fmt.Errorf("%s: the owner field %s is set by the server, so it must stay out of the mutation inputs: add entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput) to its Annotations", where, p.Owner))
			}
		}
	default:
		errs = append(errs, fmt.Errorf("%s: unknown policy kind %q", where, p.Kind))
	}
	for _, name := range p.AdminFields {
		if fieldOf(t.Node, name) == nil {
			errs = append(errs, fmt.Errorf("%s: xdb.AdminSets(%q) names no field", where, name))
		}
	}
	if p.Kind == xdb.KindInternal && t.InGraph {
		errs = append(errs, fmt.Errorf("%s: an internal type stays out of the graph: add entgql.Skip(entgql.SkipAll) to its Annotations", where))
	}
	if p.Kind != xdb.KindInternal && p.Kind != "" && t.InGraph && !t.Relay {
		errs = append(errs, fmt.Errorf("%s: a type of the graph needs entgql.RelayConnection() in its Annotations", where))
	}
	if t.Node.ID == nil || t.Node.ID.Type.Type != field.TypeUUID {
		errs = append(errs, fmt.Errorf("%s: ids must be UUIDs, unique across databases: add mixin.ID{} to its Mixin()", where))
	}
	return errs
}

func ref(t *Type, f *gen.Field, r xdb.RefAnnotation, types map[string]*Type) (*Edge, error) {
	where := fmt.Sprintf("schema/%s: %s.%s", t.DB.Name, t.Name, f.Name)
	target := types[r.Database+"."+r.Type]
	switch {
	case target == nil:
		return nil, fmt.Errorf("%s: xdb.Ref(%q) names no type; write \"database.Type\", such as \"users.User\"", where, r.Database+"."+r.Type)
	case target.DB == t.DB:
		return nil, fmt.Errorf("%s: %s is in the same database; use an ent edge (edge.From/edge.To) there", where, r.Database+"."+r.Type)
	case f.Type.Type != field.TypeUUID:
		return nil, fmt.Errorf("%s: a reference must be a UUID field", where)
	case !target.InGraph || !t.InGraph:
		return nil, fmt.Errorf("%s: both ends of a reference must be in the graph", where)
	case r.Deletes != xdb.Cascade && r.Deletes != xdb.Keep:
		return nil, fmt.Errorf("%s: OnDelete must be xdb.Cascade or xdb.Keep", where)
	}
	e := &Edge{Child: t, Target: target, Field: f, Name: r.FieldName, Inverse: r.InverseName, InverseDoc: r.InverseDoc, Deletes: r.Deletes}
	if e.Name == "" {
		e.Name = strings.TrimSuffix(f.Name, "_id")
	}
	if e.Inverse != "" {
		leads := slices.ContainsFunc(t.Node.Indexes, func(ix *gen.Index) bool { return len(ix.Columns) > 0 && ix.Columns[0] == f.Name })
		if !leads {
			return nil, fmt.Errorf("%s: the connection %s.%s reads the rows of each parent by %s: add index.Fields(%q, ...) to %s's Indexes()", where, target.Name, e.Inverse, f.Name, f.Name, t.Name)
		}
		if !t.Relay {
			return nil, fmt.Errorf("%s: the connection %s.%s needs entgql.RelayConnection() on %s", where, target.Name, e.Inverse, t.Name)
		}
	}
	return e, nil
}

func fieldOf(n *gen.Type, name string) *gen.Field {
	if n.ID != nil && n.ID.Name == name {
		return n.ID
	}
	for _, f := range n.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

//go:embed template/*.tmpl
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "template/*.tmpl"))

func write(path, name string, data any, gofmt bool) error {
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, name, data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	out := b.Bytes()
	if gofmt {
		var err error
		// imports.Process drops the imports a template wrote for types it did not use.
		if out, err = imports.Process(path, out, nil); err != nil {
			return fmt.Errorf("%s: %w\n%s", path, err, b.String())
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}
