//go:build ignore

// gqlgen.go runs gqlgen over the graph (`make generate`, after ent/entc.go). It binds the
// GraphQL types of every ent type in the database registry to their ent models, so that a new
// type needs no entry in gqlgen.yml, and it writes the body of every resolver whose
// implementation ent/xdbgen generated into graph/xdb_gen.go, so that no resolver of a list,
// a stitched field or a generated mutation is written by hand.
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log"
	"strings"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"

	"github.com/multidb/multidb/internal/database"
)

// generatedResolvers is the file whose methods named resolve<Object><Field> implement resolvers.
const generatedResolvers = "graph/xdb_gen.go"

func main() {
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		log.Fatal(err)
	}
	for _, db := range database.Registry {
		for _, t := range db.Types {
			if t.Nodes == nil {
				continue // not in the graph
			}
			pkg := "github.com/multidb/multidb/ent/" + db.Name + "."
			for _, name := range []string{"%s", "%sConnection", "%sEdge", "%sOrder", "%sOrderField", "%sWhereInput", "Create%sInput", "Update%sInput"} {
				name = fmt.Sprintf(name, t.Name)
				if !cfg.Models.Exists(name) {
					cfg.Models.Add(name, pkg+name)
				}
			}
		}
	}
	impl, err := implemented()
	if err != nil {
		log.Fatal(err)
	}
	if err := api.Generate(cfg, api.AddPlugin(resolvers{impl})); err != nil {
		log.Fatal(err)
	}
}

// implemented returns the names of the resolve methods in generatedResolvers.
func implemented() (map[string]bool, error) {
	f, err := parser.ParseFile(token.NewFileSet(), generatedResolvers, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv != nil && strings.HasPrefix(fn.Name.Name, "resolve") {
			out[fn.Name.Name] = true
		}
	}
	return out, nil
}

// resolvers implements the resolvers that graph/xdb_gen.go implements, and leaves the others
// as they were written.
type resolvers struct{ impl map[string]bool }

func (resolvers) Name() string { return "xdbresolvers" }

func (r resolvers) Implement(prev string, f *codegen.Field) string {
	method := "resolve" + f.Object.Name + f.GoFieldName
	if !r.impl[method] {
		if prev == "" {
			return fmt.Sprintf("panic(fmt.Errorf(\"not implemented: %v - %v\"))", f.GoFieldName, f.Name)
		}
		return prev
	}
	args := []string{"ctx"}
	if !f.Object.Root {
		args = append(args, "obj")
	}
	for _, a := range f.Args {
		args = append(args, a.VarName)
	}
	return fmt.Sprintf("return r.%s(%s)", method, strings.Join(args, ", "))
}
