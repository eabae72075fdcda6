package graph

import (
	"maps"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/multidb/multidb/graph/generated"
)

// internalDirective reports gqlgen's code-generation directives (@goField, @goModel, ...):
// they steer generation and mean nothing to clients.
func internalDirective(name string) bool {
	return strings.HasPrefix(name, "go") && len(name) > 2 && name[2] >= 'A' && name[2] <= 'Z'
}

// PublicSchema is the schema the server serves and introspection shows: the generated one
// without gqlgen's internal directives, neither declared nor applied.
var PublicSchema = sync.OnceValue(func() *ast.Schema {
	src := generated.NewExecutableSchema(generated.Config{}).Schema()
	s := *src
	s.Directives = maps.Clone(src.Directives)
	for name := range s.Directives {
		if internalDirective(name) {
			delete(s.Directives, name)
		}
	}
	s.Types = make(map[string]*ast.Definition, len(src.Types))
	for name, def := range src.Types {
		d := *def
		d.Directives = publicDirectives(def.Directives)
		d.Fields = make(ast.FieldList, len(def.Fields))
		for i, f := range def.Fields {
			fc := *f
			fc.Directives = publicDirectives(f.Directives)
			d.Fields[i] = &fc
		}
		d.EnumValues = make(ast.EnumValueList, len(def.EnumValues))
		for i, v := range def.EnumValues {
			vc := *v
			vc.Directives = publicDirectives(v.Directives)
			d.EnumValues[i] = &vc
		}
		s.Types[name] = &d
	}
	// Query, Mutation and the possible types point at the copies.
	if s.Query != nil {
		s.Query = s.Types[s.Query.Name]
	}
	if s.Mutation != nil {
		s.Mutation = s.Types[s.Mutation.Name]
	}
	if s.Subscription != nil {
		s.Subscription = s.Types[s.Subscription.Name]
	}
	s.PossibleTypes = remap(src.PossibleTypes, s.Types)
	s.Implements = remap(src.Implements, s.Types)
	return &s
})

// PrintSchema is PublicSchema in SDL, as graph/testdata/schema.graphql keeps it for review.
func PrintSchema() string {
	var b strings.Builder
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchema(PublicSchema())
	return b.String()
}

func publicDirectives(list ast.DirectiveList) ast.DirectiveList {
	var out ast.DirectiveList
	for _, d := range list {
		if !internalDirective(d.Name) {
			out = append(out, d)
		}
	}
	return out
}

func remap(m map[string][]*ast.Definition, types map[string]*ast.Definition) map[string][]*ast.Definition {
	out := make(map[string][]*ast.Definition, len(m))
	for k, defs := range m {
		for _, d := range defs {
			out[k] = append(out[k], types[d.Name])
		}
	}
	return out
}
