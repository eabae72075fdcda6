package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// typeRef is an introspected type reference.
type typeRef struct {
	Kind   string   `json:"kind"`
	Name   *string  `json:"name"`
	OfType *typeRef `json:"ofType"`
}

func (r *typeRef) named() string {
	for r != nil && r.Name == nil {
		r = r.OfType
	}
	if r == nil {
		return ""
	}
	return *r.Name
}

func (r *typeRef) String() string {
	switch r.Kind {
	case "NON_NULL":
		return r.OfType.String() + "!"
	case "LIST":
		return "[" + r.OfType.String() + "]"
	}
	return *r.Name
}

// connection is one paginated field found by introspection: a root list, or a field of
// another type (a stitched edge) reached through node(id:).
type connection struct {
	parent, field, orderType string
	orderFields              []string
	parentIDs                []string
}

// connections lists every connection field of the schema that takes orderBy, with the values
// of its order field enum, by introspection: a new type or edge is covered without an edit.
func connections(t *testing.T, e *env) []connection {
	t.Helper()
	var schema struct {
		Schema struct {
			QueryType struct{ Name string }
			Types     []struct {
				Name        string
				Kind        string
				InputFields []struct {
					Name string
					Type typeRef
				}
				EnumValues []struct{ Name string }
				Fields     []struct {
					Name string
					Type typeRef
					Args []struct {
						Name string
						Type typeRef
					}
				}
			}
		} `json:"__schema"`
	}
	ref := `kind name ofType { kind name ofType { kind name ofType { kind name } } }`
	e.query(t, `{ __schema { queryType { name } types { name kind enumValues { name }
		inputFields { name type { `+ref+` } }
		fields { name type { `+ref+` } args { name type { `+ref+` } } } } } }`, nil, &schema)
	types := map[string]int{}
	for i, ty := range schema.Schema.Types {
		types[ty.Name] = i
	}
	var out []connection
	for _, ty := range schema.Schema.Types {
		if ty.Kind != "OBJECT" || strings.HasPrefix(ty.Name, "__") {
			continue
		}
		for _, f := range ty.Fields {
			if !strings.HasSuffix(f.Type.named(), "Connection") {
				continue
			}
			for _, a := range f.Args {
				if a.Name != "orderBy" {
					continue
				}
				c := connection{parent: ty.Name, field: f.Name, orderType: a.Type.String()}
				order := schema.Schema.Types[types[a.Type.named()]]
				for _, in := range order.InputFields {
					if in.Name == "field" {
						for _, v := range schema.Schema.Types[types[in.Type.named()]].EnumValues {
							c.orderFields = append(c.orderFields, v.Name)
						}
					}
				}
				out = append(out, c)
			}
		}
	}
	// Parents of the stitched connections: a few rows of their type's root list.
	for i, c := range out {
		if c.parent == schema.Schema.QueryType.Name {
			continue
		}
		for _, root := range out {
			if root.parent == schema.Schema.QueryType.Name && rootOf(root.field, c.parent, schema.Schema.Types[types[root.parent]].Fields) {
				var page struct {
					Root struct {
						Edges []struct{ Node struct{ ID string } }
					}
				}
				e.query(t, fmt.Sprintf(`{ root: %s(first: 3) { edges { node { id } } } }`, root.field), nil, &page)
				for _, ed := range page.Root.Edges {
					out[i].parentIDs = append(out[i].parentIDs, ed.Node.ID)
				}
			}
		}
		if len(out[i].parentIDs) == 0 {
			t.Fatalf("no root list gives rows of %s, the parent of %s.%s", c.parent, c.parent, c.field)
		}
	}
	return out
}

// rootOf reports whether the root field named field lists the type parent.
func rootOf(field, parent string, fields []struct {
	Name string
	Type typeRef
	Args []struct {
		Name string
		Type typeRef
	}
}) bool {
	for _, f := range fields {
		if f.Name == field {
			return f.Type.named() == parent+"Connection"
		}
	}
	return false
}

type pageOf struct {
	IDs      []string
	PageInfo struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       string
	}
}

// fetch asks conn for one page; with edges false it selects pageInfo alone.
func fetch(t *testing.T, e *env, c connection, parentID string, vars map[string]any, edges bool) pageOf {
	t.Helper()
	sel := `pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`
	if edges {
		sel = `edges { node { id } } ` + sel
	}
	args := `first: $first, last: $last, after: $after, before: $before, orderBy: $orderBy`
	decl := `$first: Int, $last: Int, $after: Cursor, $before: Cursor, $orderBy: ` + c.orderType
	var doc string
	if parentID == "" {
		doc = fmt.Sprintf(`query(%s) { conn: %s(%s) { %s } }`, decl, c.field, args, sel)
	} else {
		doc = fmt.Sprintf(`query(%s, $id: ID!) { node(id: $id) { ... on %s { conn: %s(%s) { %s } } } }`, decl, c.parent, c.field, args, sel)
		vars["id"] = parentID
	}
	r := e.do(t, doc, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("%s.%s %v: %+v", c.parent, c.field, vars, r.Errors)
	}
	var data struct {
		Conn *struct {
			Edges    []struct{ Node struct{ ID string } }
			PageInfo json.RawMessage
		}
		Node *struct {
			Conn *struct {
				Edges    []struct{ Node struct{ ID string } }
				PageInfo json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(r.Data, &data); err != nil {
		t.Fatal(err)
	}
	conn := data.Conn
	if data.Node != nil {
		conn = data.Node.Conn
	}
	if conn == nil {
		t.Fatalf("%s.%s: no connection in %s", c.parent, c.field, r.Data)
	}
	var p pageOf
	for _, ed := range conn.Edges {
		p.IDs = append(p.IDs, ed.Node.ID)
	}
	if err := json.Unmarshal(conn.PageInfo, &p.PageInfo); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPagingEveryOrder pages forward and backward through every connection under every order
// field and direction (and the default order), two rows at a time, and checks that the pages
// make the one big page, that no walk loops, and that pageInfo alone gives the same cursors
// and flags as with edges.
func TestPagingEveryOrder(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		seed(t, e, smallFixture)
		// Audit entries, with repeated operations and times, so that their list pages too.
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 7 {
			err := e.set.Logs.AuditEntry.Create().SetOperation([]string{"logIn", "updateUser"}[i%2]).
				SetOutcome("ok").SetCreatedAt(at.Add(time.Duration(i/3) * time.Minute)).Exec(context.Background())
			if err != nil {
				t.Fatal(err)
			}
		}
		conns := connections(t, e)
		if len(conns) < 5 {
			t.Fatalf("introspection found %d connections with orderBy, want the root lists and the stitched edges: %+v", len(conns), conns)
		}
		const size = 2
		for _, c := range conns {
			parents := c.parentIDs
			if len(parents) == 0 {
				parents = []string{""}
			}
			orders := []map[string]any{nil}
			for _, f := range c.orderFields {
				for _, dir := range []string{"ASC", "DESC"} {
					orders = append(orders, map[string]any{"field": f, "direction": dir})
				}
			}
			for _, parent := range parents {
				for _, order := range orders {
					name := fmt.Sprintf("%s.%s %v parent %q", c.parent, c.field, order, parent)
					with := func(v map[string]any) map[string]any {
						if order != nil {
							v["orderBy"] = order
							if strings.HasPrefix(c.orderType, "[") {
								v["orderBy"] = []any{order}
							}
						}
						return v
					}
					all := fetch(t, e, c, parent, with(map[string]any{"first": 1000}), true).IDs
					// Forward.
					var fwd []string
					var after any
					for i := 0; ; i++ {
						if i > len(all)+1 {
							t.Fatalf("%s: forward paging does not end: %v", name, fwd)
						}
						p := fetch(t, e, c, parent, with(map[string]any{"first": size, "after": after}), true)
						alone := fetch(t, e, c, parent, with(map[string]any{"first": size, "after": after}), false)
						if alone.PageInfo != p.PageInfo {
							t.Errorf("%s: pageInfo alone %+v, with edges %+v", name, alone.PageInfo, p.PageInfo)
						}
						fwd = append(fwd, p.IDs...)
						if !p.PageInfo.HasNextPage {
							break
						}
						if p.PageInfo.EndCursor == "" {
							t.Fatalf("%s: hasNextPage with no endCursor", name)
						}
						after = p.PageInfo.EndCursor
					}
					if !slices.Equal(fwd, all) {
						t.Errorf("%s: forward pages\n%v\nwant\n%v", name, fwd, all)
					}
					// Backward.
					var back []string
					var before any
					for i := 0; ; i++ {
						if i > len(all)+1 {
							t.Fatalf("%s: backward paging does not end", name)
						}
						p := fetch(t, e, c, parent, with(map[string]any{"last": size, "before": before}), true)
						back = append(slices.Clone(p.IDs), back...)
						if !p.PageInfo.HasPreviousPage {
							break
						}
						if p.PageInfo.StartCursor == "" {
							t.Fatalf("%s: hasPreviousPage with no startCursor", name)
						}
						before = p.PageInfo.StartCursor
					}
					if !slices.Equal(back, all) {
						t.Errorf("%s: backward pages\n%v\nwant\n%v", name, back, all)
					}
				}
			}
		}
	})
}
