package graph_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/internal/config"
)

// TestSchemaGolden prints the schema clients see and compares it with testdata/schema.graphql,
// so that every change of the graph shows in review (make generate rewrites it, as does
// go test ./graph -run TestSchemaGolden -update).
func TestSchemaGolden(t *testing.T) {
	got := graph.PrintSchema()
	path := filepath.Join("testdata", "schema.graphql")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("the schema differs from %s; review the change and run go test ./graph -run TestSchemaGolden -update", path)
	}
	if strings.Contains(got, "@go") {
		t.Errorf("the printed schema holds gqlgen's directives")
	}
}

// TestSchemaHygiene checks, by introspection, that gqlgen's own directives are hidden, and
// that every root field, every argument of any field and every enum value has a description.
func TestSchemaHygiene(t *testing.T) {
	e := newEnv(t, config.SQLite)
	var s struct {
		Schema struct {
			QueryType    struct{ Name string }
			MutationType struct{ Name string }
			Directives   []struct{ Name string }
			Types        []struct {
				Name       string
				Kind       string
				EnumValues []struct {
					Name        string
					Description *string
				}
				Fields []struct {
					Name        string
					Description *string
					Args        []struct {
						Name        string
						Description *string
					}
				}
			}
		} `json:"__schema"`
	}
	e.query(t, `{ __schema { queryType { name } mutationType { name } directives { name }
		types { name kind enumValues { name description } fields { name description args { name description } } } } }`, nil, &s)
	for _, d := range s.Schema.Directives {
		if strings.HasPrefix(d.Name, "go") {
			t.Errorf("introspection shows the directive @%s", d.Name)
		}
	}
	empty := func(p *string) bool { return p == nil || strings.TrimSpace(*p) == "" }
	var missing []string
	for _, ty := range s.Schema.Types {
		if strings.HasPrefix(ty.Name, "__") {
			continue
		}
		root := ty.Name == s.Schema.QueryType.Name || ty.Name == s.Schema.MutationType.Name
		for _, v := range ty.EnumValues {
			if empty(v.Description) {
				missing = append(missing, "enum value "+ty.Name+"."+v.Name)
			}
		}
		for _, f := range ty.Fields {
			if root && empty(f.Description) {
				missing = append(missing, "root field "+ty.Name+"."+f.Name)
			}
			for _, a := range f.Args {
				if empty(a.Description) {
					missing = append(missing, "argument "+ty.Name+"."+f.Name+"("+a.Name+")")
				}
			}
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d places lack a description:\n%s", len(missing), strings.Join(missing, "\n"))
	}
}
